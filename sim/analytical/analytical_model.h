// The analytical model: action counts, busy cycles, latency, energy and area of a mapped
// cascade, from closed forms (no simulation).
//
// Compute. An Einsum's iteration points (exact, masks included) times the actions and the
// issue interval II of one point on the bound array (sim/model/compute_cost.h, the rule the
// cycle-level model shares). Busy cycles of an Einsum = II x temporal iterations of its loop
// nest (padded tiles included) x the fraction of the iteration box its `where` keeps. Register files: one read per operand and accumulator
// access, one write per point.
//
// Data movement: analyze_data_movement (mappings/mapping/data_movement.h) from the loop nests.
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
// Energy is not the model's: it is Σ actions × the architecture's table (arch/energy.h).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "arch/arch_spec.h"
#include "mappings/mapping/mapping.h"
#include "mappings/mapping/resolve.h"
#include "mappings/problem/problem.h"
#include "sim/model/model.h"

namespace cascade {

class AnalyticalModel : public Model {
 public:
  // Keeps references: `problem` and `arch` must outlive the model.
  AnalyticalModel(const Problem& problem, const ArchSpec& arch);

  std::string fidelity() const override { return "analytical"; }
  Stats evaluate(const Mapping& mapping) const override;  // resolves (and checks) first
  Stats evaluate(const ResolvedMapping& mapping) const;   // the fast path

  // What the mapping search needs of one evaluation, without building Stats: the same
  // numbers, bit for bit, as Stats::cycles, latency_of, energy_of and Stats::utilization of
  // evaluate(mapping). Throws the Errors evaluate would.
  struct Summary {
    double cycles = 0, latency_s = 0, energy_pj = 0;
    std::vector<double> utilization;  // per array, ArchSpec::arrays order
  };
  void summarize(const ResolvedMapping& mapping, Summary& into) const;

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
    std::vector<Action> actions;  // compute_cost's, by key
  };
  int key(const std::string& component, const std::string& action);
  struct Work;  // the numbers of one evaluation (scratch, one per thread)
  void compute(const ResolvedMapping& mapping, Work& work) const;
  struct EnergyKey {
    int key = -1;
    bool priced = false;  // the component and its energy for the action exist
    double pj = 0;
    double instances = 0;  // > 0: charged per instance (register_file_energy one_instance)
  };
  struct EnergyEntry {  // one component, its keys by action name
    std::vector<EnergyKey> keys;
    double leakage = 0;  // instances x leakage_pw, when the architecture charges leakage
  };

  const Problem& problem_;
  const ArchSpec& arch_;
  std::vector<std::vector<UnitCost>> costs_;  // [einsum][array]
  // Every (component, action) the model can count, accumulated by index and written into
  // Stats once per evaluation.
  std::vector<std::pair<std::string, std::string>> keys_;
  std::vector<int> rf_read_, rf_write_;  // per array, -1 without a register file
  std::vector<const Component*> rf_;     // per array
  std::vector<EnergyEntry> energy_order_;  // components by name
  int buffer_read_ = -1, buffer_write_ = -1, dram_read_ = -1, dram_write_ = -1;
};

}  // namespace cascade
