// The analytical model: action counts, busy cycles, latency, energy and area of a mapped
// cascade, from closed forms (no simulation).
//
// Compute. An Einsum's iteration points (exact, masks included) times the operators per
// point, realised as actions of the bound array's components (FuseMax's 2D exp = 6 MACs +
// 1 add). A PE's functional units are pipelined independently, so one point of an Einsum
// issues every II cycles:
//     II = max( max over components c of the actions per point on c,
//               max over operations o of (o per point) x issue cycles of o )
// (FLAT's exp(QK - M) is 1 cycle: an add and an exp on different units; FuseMax's
// exp(BQK - RM) is 7: the exp alone takes 7 issue slots). Busy cycles of an Einsum =
// II x temporal iterations of its loop nest (padded tiles included) x the fraction of the
// iteration box its `where` keeps. Register files: one read per operand and accumulator
// access, one write per point.
//
// Data movement: analyze_data_movement (mappings/mapping.h) from the loop nests.
//
// Time. Within a group the arrays and DRAM work concurrently, pipelined over the group's
// DRAM-level iterations: the group takes the busiest resource's time plus one iteration's
// worth of the other resources (pipeline fill and drain). Groups run in sequence (the sum)
// or overlapped (the busiest resource over all groups, plus the largest fill). DRAM time =
// bytes / bandwidth. This reproduces the FuseMax artifact's rules: max(memory, compute)
// per kernel and the sum over kernels for the unfused baseline, max(memory, 2D, 1D) for
// FLAT, and for FuseMax the busiest array (its waterfall sums to the 1D array's time,
// which is the larger, on every workload it evaluates).
//
// Energy = sum of actions x the architecture's energy per action (compute_energy); area from
// compute_area.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "arch/arch_spec.h"
#include "mappings/mapping.h"

namespace cascade {

struct EinsumReport {
  std::string name;
  std::string array;
  int group = -1;
  double points = 0;       // all batches and heads
  double ii = 0;           // cycles per point per PE
  double cycles = 0;       // busy cycles of the array
  double spatial_use = 0;  // PEs used / PEs of the array
};

struct GroupReport {
  std::string name;
  double cycles = 0;  // the group's own time (sequential) or its busiest resource (overlapped)
  double fill_cycles = 0;
  std::string bottleneck;
  std::map<std::string, double> busy_cycles;  // per array and "dram"
  double buffer_bytes = 0;                    // global buffer held at once
  double spilled_fraction = 0;
};

struct TensorReport {
  std::string name;
  TensorHome home = TensorHome::Dram;
  TensorTraffic traffic;  // elements, all batches and heads
};

struct Evaluation {
  std::string mapping;  // the mapping's name
  Stats stats;          // actions, busy cycles, cycles, bottleneck, DRAM bytes
  EnergyReport energy;
  double latency_s = 0;
  std::map<std::string, double> utilization;  // per array: busy PE-cycles / (PEs x cycles)
  std::vector<EinsumReport> einsums;
  std::vector<GroupReport> groups;
  std::vector<TensorReport> tensors;
};

class AnalyticalModel {
 public:
  // Keeps references: `problem` and `arch` must outlive the model.
  AnalyticalModel(const Problem& problem, const ArchSpec& arch);

  Evaluation evaluate(const Mapping& mapping) const;          // resolves (and checks) first
  Evaluation evaluate(const ResolvedMapping& mapping) const;  // the fast path

  const Problem& problem() const { return problem_; }
  const ArchSpec& arch() const { return arch_; }

 private:
  struct Action {
    int key;  // index into keys_
    double per_point;
  };
  struct UnitCost {
    bool supported = false;
    double ii = 0;
    std::vector<Action> actions;
  };
  int key(const std::string& component, const std::string& action);

  const Problem& problem_;
  const ArchSpec& arch_;
  std::vector<std::vector<UnitCost>> costs_;  // [einsum][array]
  // Every (component, action) the model can count, accumulated by index and written into
  // Stats once per evaluation.
  std::vector<std::pair<std::string, std::string>> keys_;
  std::vector<int> rf_read_, rf_write_;  // per array, -1 without a register file
  int buffer_read_ = -1, buffer_write_ = -1, dram_read_ = -1, dram_write_ = -1;
};

// The best of several candidate mappings: lowest latency, then lowest energy. Candidates
// that fail their checks are skipped; if all fail, the first one's error is thrown.
struct CandidateResult {
  std::string mapping;
  double latency_s = 0;  // NaN when the candidate failed its checks
  double energy_j = 0;
  std::string error;  // why it failed
};
struct MappingChoice {
  size_t index = 0;
  Evaluation evaluation;
  std::vector<CandidateResult> considered;
};
MappingChoice choose_mapping(const AnalyticalModel& model, const std::vector<Mapping>& candidates);

// Everything `cascade run` does: shape settings (the mapper's, then `settings` on top),
// bindings, the problem, the mapping (a mapper name or a mapping file) and its evaluation.
struct AnalyticalRun {
  Bindings bindings;
  Problem problem;
  Mapping mapping;
  Evaluation evaluation;
  AreaReport area;
  std::vector<CandidateResult> considered;
};
AnalyticalRun run_analytical(const ArchSpec& arch, const Cascade& cascade, int64_t batch,
                             int64_t heads, const std::map<std::string, std::string>& settings,
                             const std::string& mapper_or_file);

}  // namespace cascade
