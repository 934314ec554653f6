// The cycle-level tile model (SystemC): runs a TileSchedule with one SystemC thread per unit
// (each PE array and the DRAM channel). A unit takes its tasks in program order; a task
// waits until the tasks it depends on have finished (a handshake on one shared event), then
// holds its unit for its cycles. One clock cycle is one nanosecond of simulated time.
//
// SystemC elaborates and runs once per process: call simulate_tiles() once (the `cascade
// simulate` command does); this header does not include SystemC.
#pragma once

#include <map>
#include <string>
#include <vector>

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

}  // namespace cascade
