// The cycle-level tile model (SystemC): runs a TileSchedule with one SystemC thread per unit
// (each PE array and the DRAM channel). A unit takes its tasks in program order; a task
// waits until the tasks it depends on have finished (a handshake on one shared event), then
// holds its unit for its cycles. One clock cycle is one nanosecond of simulated time.
//
// SystemC elaborates and runs once per process: one simulation per process (the `cascade
// simulate` command runs one); this header does not include SystemC.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/model/model.h"
#include "sim/systemc/tile_schedule.h"

namespace cascade {

struct TileGroupResult {
  std::string name;
  double cycles = 0;            // simulated slices plus the extrapolated ones
  double simulated_cycles = 0;  // what the simulation ran
  double cycles_per_slice = 0;  // the last simulated slice's increment (the extrapolation step)
  int64_t slices = 1, slices_simulated = 1;
};

struct TileResult {
  double cycles = 0;                          // all groups, extrapolated
  std::map<std::string, double> busy_cycles;  // per unit, extrapolated like the cycles
  std::vector<TileGroupResult> groups;
  size_t tasks = 0;  // simulated
  double wall_seconds = 0;
};

TileResult simulate_tiles(const TileSchedule& schedule);

struct TileModelOptions {
  int64_t slices = 2;  // (batch, head) slices simulated per group (0: all)
  int buffers = 2;     // tiles in flight (>= 2)
};

// The tile model as a Model: Stats with the simulated cycles, busy cycles per unit and per
// group. It counts no actions (its energy is not reported). One evaluation per process.
class SystemCModel : public Model {
 public:
  // Keeps references: `problem` and `arch` must outlive the model.
  SystemCModel(const Problem& problem, const ArchSpec& arch, TileModelOptions options = {})
      : problem_(problem), arch_(arch), options_(options) {}

  std::string fidelity() const override { return "cycle"; }
  Stats evaluate(const Mapping& mapping) const override;
  // The simulation with its per-group detail (what `cascade simulate` prints).
  TileResult simulate(const Mapping& mapping, TileSchedule* schedule = nullptr) const;
  static Stats to_stats(const TileResult& result);

 private:
  const Problem& problem_;
  const ArchSpec& arch_;
  TileModelOptions options_;
};

}  // namespace cascade
