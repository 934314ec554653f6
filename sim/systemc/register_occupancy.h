// How many words of the tiles a 2D array keeps in its PEs' register files (tensors the
// mapping homes there, spanning both spatial ranks: FuseMax's BQK and SLN) each PE holds
// at once in the simulated schedule, against the register file's entries. The mapping's
// register check (mappings/mapping/resolve.cpp) sees one Einsum's innermost tile; the
// schedule keeps a producer's whole run (one word per PE per fold) until its last reader
// finishes, and may run the next tile's producer before that (the cycle model's units run
// up to tiles_in_flight steps ahead), so this is where too few entries show.
//
// Counted at run granularity, as the cycle model schedules: a producer's words are held
// from the end of its run to the end of the last run that reads them (a reader that
// overwrites them in place, as SLN does BQK, hands over at that instant: releases count
// before additions). Plain C++.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "arch/arch_spec.h"
#include "mappings/problem/problem.h"
#include "sim/systemc/fold_shape.h"
#include "sim/systemc/plan.h"

namespace cascade {

struct RegisterOccupancy {
  std::string array;
  int64_t entries = 0;        // the array's register_file_entries
  double peak_words = 0;      // per PE, at most at once
  double peak_cycle = 0;      // when the peak began
  std::vector<std::string> tensors;  // what was counted, in cascade order
  std::vector<std::pair<double, double>> held;  // (cycle, words per PE from then on), in order
};

// Per Einsum: the words per PE one run of it leaves in its array's register files (its output
// homed there, spanning both spatial ranks of a 2D array: one word per fold), else 0.
std::vector<double> resident_words(const Problem& problem, const ArchSpec& arch,
                                   const ResolvedMapping& mapping, const std::vector<FoldShape>& shapes);

// Per plan operation that leaves a resident tile (words[einsum] > 0): the computes that read
// it (depend on it and read its output tensor), in program order, each once; else empty.
std::vector<std::vector<int>> resident_readers(const Problem& problem, const Plan& plan,
                                               const std::vector<double>& words);

// Per 2D array (rows > 1) with a resident tile, given the simulated operations' start and
// finish cycles (per plan operation).
std::vector<RegisterOccupancy> register_occupancy(const Problem& problem, const ArchSpec& arch,
                                                  const Plan& plan, const std::vector<FoldShape>& shapes,
                                                  const std::vector<double>& finish);

}  // namespace cascade
