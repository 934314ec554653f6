// What runs the 1D array's online-softmax commands in per-PE mode (lane_program.h names the
// Einsums they are). The default is the lane-by-lane C++ model (SoftmaxLanes,
// softmax_lanes.h); sim/rtl implements it with the Verilated unit (hdl/softmax_1d.sv)
// clocked inside the same SystemC simulation, passed in through
// CycleModelOptions::vector_engine (so sim/systemc does not depend on sim/rtl).
// This header does not include SystemC.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/functional/number_format.h"
#include "sim/systemc/softmax_lanes.h"

namespace cascade {

class VectorEngine {
 public:
  virtual ~VectorEngine() = default;
  virtual std::string name() const = 0;  // for messages ("the Verilated 1D softmax unit")
  // Throws Error unless it runs `lanes` lanes for `array` (the message says what it runs).
  virtual void check_array(const std::string& array, int64_t lanes) const = 0;
  // Data mode: whether its lanes compute the values of a cascade stored in `storage`,
  // accumulated in `accumulate`, with exp mode `exp` (the lanes' exp is the hardware one);
  // if so, the runs it gets carry the data's operands and its results flow on, else zeros.
  virtual bool takes_values(NumberFormat storage, NumberFormat accumulate, ExpMode exp) const = 0;
  // Called once per 1D array (unit index `unit`) while the cycle model elaborates.
  virtual void elaborate(int unit, int64_t lanes) = 0;
  // Runs the commands on unit `unit`'s lanes, from that unit's SystemC thread: it may let
  // simulated time pass (returning when done); the unit then waits only for the part of
  // LaneRun::cycles that has not passed yet.
  virtual LaneRun run(int unit, const std::vector<LaneBatch>& commands) = 0;
};

}  // namespace cascade
