// The Mapper interface: a mapper turns a problem on an architecture into candidate
// mappings. Each shipped mapper is one file in this folder plus one line in
// mapper_list.h; the caller evaluates the candidates and keeps the best (DesignPoint).
//
// A mapper says which cascades it was written for (fit): outside them it either refuses
// (throws Error: fusemax cannot pipeline a cascade without an M1 x M0 partition) or maps
// anyway and says so (flat on the 1-pass cascade: FLAT's dataflow applied to another
// cascade, which is not FLAT), and the report carries that note.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "arch/arch_spec.h"
#include "mappings/cascade/cascade.h"
#include "mappings/mapping/mapping.h"
#include "mappings/problem/problem.h"

namespace cascade {

// Settings a mapper may read (the search's budget, seed, threads, constraints file), as
// NAME -> text; mappers that take none ignore them.
using MapperOptions = std::map<std::string, std::string>;

struct MapperFit {
  bool intended = true;  // the cascade is one the mapper was written for
  std::string note;      // when not: what the mapper is for, and what the cascade is instead
};

class Mapper {
 public:
  virtual ~Mapper() = default;
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;  // one line, for --help and errors
  // Throws Error when the mapper cannot map the cascade at all.
  virtual MapperFit fit(const Cascade& cascade) const = 0;
  // Shape settings the mapper fixes before the problem is built (fusemax: M0 = the rows
  // of the matrix array). Settings the user gives override them.
  virtual std::map<std::string, std::string> shape_settings(const Cascade& cascade,
                                                            const ArchSpec& arch) const {
    (void)cascade;
    (void)arch;
    return {};
  }
  // Candidate mappings, at least one. Throws Error when none exists.
  virtual std::vector<Mapping> candidates(const Problem& problem, const ArchSpec& arch) const = 0;
  // The same with options (the search reads them; the others ignore them).
  virtual std::vector<Mapping> candidates(const Problem& problem, const ArchSpec& arch,
                                          const MapperOptions& options) const {
    (void)options;
    return candidates(problem, arch);
  }
  // Whether this mapper is the one used when none is named (registry order decides ties).
  virtual bool is_default_for(const Cascade& cascade) const {
    (void)cascade;
    return false;
  }
};

}  // namespace cascade
