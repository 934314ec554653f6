// A design point: architecture × workload × cascade × mapper (or mapping file) × settings,
// turned into a Problem and candidate mappings, and evaluated by a Model. `cascade run`,
// `cascade simulate` and every sweep point go through here:
//
//   files -> DesignPoint (bindings, Problem, candidates) -> best mapping -> Model -> Stats
//
// The best candidate is chosen by a ranking model (the analytical model: lowest latency,
// then lowest energy); the chosen mapping is then evaluated by the model the user asked for.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "arch/arch_spec.h"
#include "arch/energy.h"
#include "mappings/cascade/cascade.h"
#include "mappings/mappers/mapper.h"
#include "mappings/mapping/mapping.h"
#include "mappings/problem/problem.h"
#include "mappings/problem/workload.h"
#include "sim/model/model.h"

namespace cascade {

// What a user sets besides the three files (cascade run's options, a sweep point's values).
struct DesignPointSettings {
  std::string mapper;   // a mapper name, a mapping file, or "" (the cascade's default mapper)
  int64_t seq = 0;      // sets P and M; 0: the workload's shapes
  int64_t batch = 0;    // 0: the workload's
  int64_t heads = 0;    // 0: the workload's
  std::map<std::string, std::string> overrides;  // NAME=value (--set)
  MapperOptions mapper_options;  // the search's budget, seed, threads, constraints
};

struct DesignPoint {
  ArchSpec arch;
  Workload workload;
  Cascade cascade;
  int64_t batch = 1, heads = 1;
  Bindings bindings;
  Problem problem;
  std::string mapper;               // the mapper's name, or "" for a mapping file
  std::string mapping_file;         // the mapping file, or ""
  MapperFit fit;                    // whether the cascade is one the mapper was written for
  std::vector<Mapping> candidates;  // the mapper's (a mapping file gives one)
};

// Builds the point; Error when a file, a setting or the mapper refuses. `mapper` in the
// settings names a mapper or an existing mapping file.
DesignPoint make_design_point(ArchSpec arch, Workload workload, Cascade cascade,
                              const DesignPointSettings& settings);

// The files of a design point, each a path or a name in configs/<folder>/ (find_config).
struct DesignPointFiles {
  std::string arch, workload;
  std::string cascade;               // "" = the cascade the workload names
  std::string register_file_energy;  // "" = the architecture's; all_instances or one_instance
};

// Loads the files and builds the point (`cascade run`, `simulate` and the Python module).
// The cascade's warnings are in the point's cascade.warnings, for the caller to show.
DesignPoint load_design_point(const DesignPointFiles& files, const DesignPointSettings& settings);

struct CandidateResult {
  std::string mapping;
  double latency_s = 0;  // NaN when the candidate failed its checks
  double energy_j = 0;
  std::string error;  // why it failed
};

struct DesignPointResult {
  Mapping mapping;  // the one evaluated
  Stats stats;
  EnergyReport energy;
  AreaReport area;
  double latency_s = 0;
  std::vector<CandidateResult> considered;  // the ranking of the candidates
};

// Ranks the candidates with `ranker` (skipping those that fail their checks; if all fail,
// the first one's error is thrown) and evaluates the best with `model` (nullptr: the
// ranker's own Stats are the result).
DesignPointResult evaluate_design_point(const DesignPoint& point, const Model& ranker,
                                        const Model* model = nullptr);

// Energy and latency of Stats on the point's architecture.
EnergyReport energy_of(const ArchSpec& arch, const Stats& stats);
double latency_of(const ArchSpec& arch, const Stats& stats);

}  // namespace cascade
