// One design point through the cycle model: what `cascade simulate` and the Python module's
// simulate() share. The mapping is the one the analytical model ranked best (the caller
// ranks: `ranked`); the cycle model runs it, in data mode moving real values and comparing
// the outputs with the functional executor's bit for bit.
//
// SystemC elaborates once per process, so this runs once per process (the CLI runs one
// command; the Python module forks a child per call).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "sim/model/design_point.h"
#include "sim/systemc/cycle_model.h"

namespace cascade {

// Data mode by default up to this many Einsum points per (batch, head) slice: about a
// second of the datapath's per-point evaluation (experiments/cycle/README.md).
constexpr double kDataModePoints = 1 << 24;
double points_per_slice(const Problem& problem);

struct SimulateSettings {
  CycleModelOptions model;                 // its inputs and execution are set here in data mode
  bool timing_only = false, data = false;  // neither: data mode up to kDataModePoints
  ExecutionOptions execution;              // data mode's number formats
  uint64_t seed = 1;                       // data mode's N(0, 1) inputs
};

struct SimulatedPoint {
  DesignPointResult result;  // `ranked` with the cycle model's Stats, energy and latency
  DesignPointResult ranked;  // the analytical model's figures of the same mapping
  CycleResult sim;
  int64_t slices_per_group = 0;  // the slices simulated per group (0: all)
  bool data = false;
  bool concat = false;  // the cascade concatenates: data mode cannot run it (datapath_code.cpp)
  ExecutionOptions execution;
  uint64_t seed = 1;
  std::vector<TensorDifference> differences;  // data mode: each output vs the executor's
  bool data_equal() const;
  double difference_percent() const;  // cycle model vs analytical model cycles
};

SimulatedPoint simulate_design_point(const DesignPoint& point, const DesignPointResult& ranked,
                                     SimulateSettings settings);

// What a simulation adds to the run report (json_report of `result`, sim/report): the
// analytical cycles, the difference, stalls by cause, the groups' simulated and
// extrapolated slices and data mode's verdict per output. `simulate --json` and the Python
// module write it as the report's "simulation".
nlohmann::json simulation_json(const SimulatedPoint& simulated);

}  // namespace cascade
