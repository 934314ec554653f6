// The 1D array's online-softmax unit, lane by lane: the C++ model of hdl/softmax_1d.sv,
// written from its contract (hdl/README.md, "softmax_lane, softmax_1d") and used by the
// cycle model's per-PE mode for the 1D array (cycle_model.h), as SystolicArray is for the
// 2D array. sim/rtl runs the same commands on the Verilated unit (RtlSoftmax) and
// tests/agreement/test_rtl_softmax.cpp drives both with one testbench.
//
// L lanes (one per query) run one command at a time in lockstep, each on its own operands:
//   MaxExp   x = m (running max), y = local max: r0 = m' = S(max(m, y)),
//            r1 = c = S(exp(round(m - m')))  (the executor's hardware exp)   9 cycles
//   Rescale  x = d or n, y = local sum or numerator, z = c:
//            r0 = S(round(y + S(round(x * c))))                              1 cycle
//   Divide   x = n, y = d: r0 = S(n / d), correctly rounded                  27 cycles
// Arithmetic in fp32, each operation rounded on its own; S rounds to the storage format
// (bf16 or fp16; the identity for fp32), as the executor stores each Einsum of
// softmax-1pass. max is the executor's (NaN if either is NaN, else x > y ? x : y).
// Commands issue back to back: the next is accepted in the cycle the previous result is
// taken, except a Divide after a Divide, accepted in the cycle after its predecessor (the
// divider is pipelined). A run of commands takes from the first command's accepting cycle
// to the cycle its last result is taken, inclusive (the next run's first command is
// accepted in the cycle after): the latencies' sum + 1 for a run without two divides in a
// row, 27 + k for k divides.
// Plain C++ (no SystemC).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/functional/number_format.h"

namespace cascade {

enum class LaneCommand : uint8_t { MaxExp = 0, Rescale = 1, Divide = 2 };  // softmax_pkg.sv

int lane_latency(LaneCommand command);  // 9, 1, 27
// Cycles from accepting `previous` to accepting `next` (results taken at once).
int lane_issue_interval(LaneCommand previous, LaneCommand next);
const char* to_string(LaneCommand command);

// One command for every lane: operands per lane (values of the storage format, or fp32).
struct LaneBatch {
  LaneCommand command = LaneCommand::Rescale;
  std::vector<double> x, y, z;
};

struct LaneRun {
  std::vector<std::vector<double>> r0, r1;  // per command, per lane
  int64_t cycles = 0;  // the issue intervals + the last latency + 1 (0 for no command)
};

class SoftmaxLanes {
 public:
  // `storage`: the format results are stored in (FP32: not narrowed).
  SoftmaxLanes(int lanes, NumberFormat storage);
  int lanes() const { return lanes_; }
  NumberFormat storage() const { return storage_; }
  // Throws Error for a batch whose operand vectors are not `lanes` long.
  LaneRun run(const std::vector<LaneBatch>& commands) const;
  // Whether lanes storing in `storage` compute the executor's values of a cascade stored in
  // `storage`, accumulated in `accumulate`, with exp mode `exp`: fp32 arithmetic, the
  // hardware exp.
  static bool takes_values(NumberFormat storage, NumberFormat accumulate, ExpMode exp);
  // One lane's results {r0, r1} (r1 is 0 but after MaxExp).
  std::pair<double, double> apply(LaneCommand command, double x, double y, double z) const;

 private:
  int lanes_;
  NumberFormat storage_;
};

}  // namespace cascade
