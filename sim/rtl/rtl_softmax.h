// The Verilated online-softmax 1D unit (hdl/softmax_1d.sv, bf16 storage, every result
// narrowed) as a SystemC module: RtlSoftmax wraps the `verilate(... SYSTEMC ...)` model of
// one lane count L and clocks it inside the caller's SystemC simulation. run() takes the
// commands the way the C++ model SoftmaxLanes::run (sim/systemc/softmax_lanes.h) does and
// returns a LaneRun: the values from the RTL, the cycles counted by the RTL's clock.
//
// Cycle boundary (both models): from the cycle the first command is accepted to the cycle
// the last result is taken, inclusive. The driver offers each command as soon as the unit
// is ready and takes every result in the cycle it appears (res_ready_i high). The clock is
// the module's own (1 ns, the cycle model's cycle), gated: run() toggles it from the caller's
// SystemC thread, so a run called at time t returns at time t + cycles. Include only from sim/rtl and tests (it includes SystemC).
#pragma once

#include <systemc>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/systemc/softmax_lanes.h"

namespace cascade::rtl {

class RtlSoftmax : public sc_core::sc_module {
 public:
  RtlSoftmax(sc_core::sc_module_name name, int lanes);
  ~RtlSoftmax() override;
  int lanes() const { return lanes_; }
  // Runs the commands; called from a SystemC thread, returns after the cycles they took.
  // Throws Error for operands that are not bf16 values (the unit's storage format), a
  // command with operands for another number of lanes, or a unit that hangs.
  LaneRun run(const std::vector<LaneBatch>& commands);
  int64_t cycles_clocked() const { return clocked_; }

 protected:
  // One cycle's inputs (valid: a command is offered) and outputs.
  struct Inputs {
    bool valid = false;
    uint8_t command = 0;
    std::vector<uint32_t> x, y, z;  // fp32 bits per lane
  };
  struct Outputs {
    bool cmd_ready = false, res_valid = false;
    std::vector<uint32_t> r0, r1;
  };
  virtual void write_inputs(const Inputs& in) = 0;
  virtual void read_outputs(Outputs& out) = 0;
  sc_core::sc_signal<bool> clk_, rst_n_;

 private:
  LaneRun execute(const std::vector<LaneBatch>& commands);
  int lanes_;
  bool running_ = false;
  int64_t clocked_ = 0;
};

// The lane counts this build Verilated the unit with (4, 8, 16), and as text ("4, 8, 16").
std::vector<int> softmax_lane_counts();
std::string softmax_lane_counts_text();
// A unit of `lanes` lanes (one of softmax_lane_counts(); else Error naming them), created
// while the simulation elaborates.
std::unique_ptr<RtlSoftmax> make_softmax_unit(const std::string& name, int lanes);

}  // namespace cascade::rtl
