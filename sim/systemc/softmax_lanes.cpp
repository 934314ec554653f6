#include "sim/systemc/softmax_lanes.h"

#include <cmath>
#include <tuple>

#include "arch/support/error.h"
#include "sim/functional/hardware_divide.h"

namespace cascade {

int lane_latency(LaneCommand command) {
  switch (command) {
    case LaneCommand::MaxExp: return 9;  // (S), T, F, H1..H5, SC: one chain step per cycle
    case LaneCommand::Rescale: return 1;
    case LaneCommand::Divide: return 27;  // fp32_div: 26 quotient bits and the rounding
  }
  return 0;
}

int lane_issue_interval(LaneCommand previous, LaneCommand next) {
  if (previous == LaneCommand::Divide && next == LaneCommand::Divide) return 1;
  return lane_latency(previous);
}

const char* to_string(LaneCommand command) {
  switch (command) {
    case LaneCommand::MaxExp: return "max_exp";
    case LaneCommand::Rescale: return "rescale";
    case LaneCommand::Divide: return "divide";
  }
  return "?";
}

SoftmaxLanes::SoftmaxLanes(int lanes, NumberFormat storage) : lanes_(lanes), storage_(storage) {
  if (lanes < 1) throw Error("the 1D softmax unit needs at least one lane");
  if (storage != NumberFormat::FP32 && storage != NumberFormat::BF16 && storage != NumberFormat::FP16)
    throw Error(std::string("the 1D softmax unit stores fp32, bf16 or fp16, not ") + to_string(storage));
}

bool SoftmaxLanes::takes_values(NumberFormat storage, NumberFormat accumulate, ExpMode exp) {
  return accumulate == NumberFormat::FP32 && exp == ExpMode::Hardware &&
         (storage == NumberFormat::FP32 || storage == NumberFormat::BF16 || storage == NumberFormat::FP16);
}

std::pair<double, double> SoftmaxLanes::apply(LaneCommand command, double x, double y,
                                              double z) const {
  auto f32 = [](double v) { return round_as<NumberFormat::FP32>(v); };
  auto store = [&](double v) { return round_to(storage_, f32(v)); };
  switch (command) {
    case LaneCommand::MaxExp: {
      const double m = std::isnan(x) || std::isnan(y) ? std::nan("") : store(x > y ? x : y);
      return {m, store(hardware_exp_as<NumberFormat::FP32>(f32(x - m)))};
    }
    case LaneCommand::Rescale: return {store(f32(y + store(f32(x * z)))), 0.0};
    case LaneCommand::Divide: return {store(hardware_divide_fp32(f32(x), f32(y))), 0.0};
  }
  return {0.0, 0.0};
}

LaneRun SoftmaxLanes::run(const std::vector<LaneBatch>& commands) const {
  LaneRun out;
  const size_t n = static_cast<size_t>(lanes_);
  for (size_t i = 0; i < commands.size(); ++i) {
    const LaneBatch& b = commands[i];
    if (b.x.size() != n || b.y.size() != n || b.z.size() != n)
      throw Error("the 1D softmax unit has " + std::to_string(lanes_) +
                  " lanes; a command came with operands for " + std::to_string(b.x.size()));
    std::vector<double> r0(n), r1(n);
    for (size_t l = 0; l < n; ++l) std::tie(r0[l], r1[l]) = apply(b.command, b.x[l], b.y[l], b.z[l]);
    out.r0.push_back(std::move(r0));
    out.r1.push_back(std::move(r1));
    if (i > 0) out.cycles += lane_issue_interval(commands[i - 1].command, b.command);
  }
  // the last command's latency and the cycle its result is taken
  if (!commands.empty()) out.cycles += lane_latency(commands.back().command) + 1;
  return out;
}

}  // namespace cascade
