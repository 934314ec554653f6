// One testbench for the 1D array's online-softmax unit, shared by its two implementations
// (the idea of SystemC's `fir` example): the lane-by-lane C++ model (SoftmaxLanes,
// sim/systemc/softmax_lanes.h) and the Verilated unit clocked inside SystemC (RtlSoftmax,
// sim/rtl/rtl_softmax.h). The same seeded batches of commands (random commands on moderate
// values, ±0, subnormals, values near the bf16 rounding ties, huge and tiny exponents, ±inf
// and NaN; and the sequence of an online softmax: max-exp, rescales, the final divides) go
// into both, on 4 and 16 lanes: values bit for bit (NaN as "is NaN"), cycles exactly, the
// RTL's also with the simulated time that passed and with the closed form (the latencies,
// divides after divides pipelined, + 1).
//
// One SystemC simulation per process: the first test to ask runs every case in one
// sc_start; the tests then read its outcomes (ctest runs the executable once).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "arch/support/error.h"
#include "sim/rtl/rtl_softmax.h"
#include "sim/systemc/softmax_lanes.h"
#include "tests/agreement/rtl_bench.h"

namespace cascade {
namespace {

using rtl_bench::Rng;
using rtl_bench::same;

struct Case {
  std::string name;
  int lanes = 4;
  std::vector<LaneBatch> commands;
};
struct Outcome {
  Case c;
  LaneRun model, rtl;
  uint64_t elapsed_fs = 0;
  std::string error;
};

double fp32(uint32_t bits) { return static_cast<double>(std::bit_cast<float>(bits)); }

// An operand: mostly a bf16 value in [-30, 30] (the unit's inputs are stored values), else
// any fp32 pattern of a kind that exercises the rounding: ±0, subnormal, huge, tiny, a bf16
// rounding tie (the low half 0x8000), ±inf, NaN.
double operand(Rng& rng) {
  const uint64_t r = rng.next();
  const uint32_t sign = static_cast<uint32_t>(r >> 63) << 31;
  switch (r % 24) {
    case 0: return fp32(sign);
    case 1: return fp32(sign | static_cast<uint32_t>(1 + (r >> 8) % 0x7FFFFF));
    case 2: return fp32(sign | (static_cast<uint32_t>(200 + (r >> 8) % 54) << 23) | ((r >> 20) & 0x7F0000));
    case 3: return fp32(sign | (static_cast<uint32_t>(1 + (r >> 8) % 40) << 23) | ((r >> 20) & 0x7F0000));
    case 4: return fp32(sign | (static_cast<uint32_t>(120 + (r >> 8) % 10) << 23) | 0x8000u | ((r >> 24) & 0x7F0000));
    case 5: return (r >> 8) % 2 ? fp32(0x7FC00000u) : fp32(sign | 0x7F800000u);
    case 6: return fp32(static_cast<uint32_t>(r >> 16));  // any pattern
    default: break;
  }
  const double v = -30.0 + 60.0 * static_cast<double>(r >> 11) * 0x1p-53;
  return round_as<NumberFormat::BF16>(v);
}

LaneBatch batch(Rng& rng, LaneCommand command, int lanes) {
  LaneBatch b;
  b.command = command;
  for (int l = 0; l < lanes; ++l) {
    b.x.push_back(operand(rng));
    // y near x now and then: max ties, m - m' = 0, quotients near 1
    b.y.push_back(rng.next() % 4 == 0 ? b.x.back() : operand(rng));
    b.z.push_back(operand(rng));
  }
  return b;
}

// The 1-pass tail on the unit for `tiles` key tiles of F features, with running state held
// by the caller as in FuseMax (the unit's results fed back), computed with the C++ model.
Case online_softmax(Rng& rng, int lanes, int tiles, int features) {
  const SoftmaxLanes lanes_model(lanes, NumberFormat::BF16);
  Case c;
  c.name = "online softmax L" + std::to_string(lanes);
  c.lanes = lanes;
  std::vector<double> rm(lanes, -INFINITY), rd(lanes, 0.0);
  std::vector<std::vector<double>> rnv(features, std::vector<double>(lanes, 0.0));
  auto local = [&] {
    std::vector<double> v(lanes);
    for (double& x : v) x = round_as<NumberFormat::BF16>(-3 + 6 * static_cast<double>(rng.next() >> 11) * 0x1p-53);
    return v;
  };
  for (int t = 0; t < tiles; ++t) {
    const LaneBatch max_exp{LaneCommand::MaxExp, rm, local(), std::vector<double>(lanes, 0.0)};
    const LaneRun m = lanes_model.run({max_exp});
    c.commands.push_back(max_exp);
    rm = m.r0[0];
    std::vector<LaneBatch> rescales = {{LaneCommand::Rescale, rd, local(), m.r1[0]}};
    for (int f = 0; f < features; ++f) rescales.push_back({LaneCommand::Rescale, rnv[f], local(), m.r1[0]});
    const LaneRun r = lanes_model.run(rescales);
    c.commands.insert(c.commands.end(), rescales.begin(), rescales.end());
    rd = r.r0[0];
    for (int f = 0; f < features; ++f) rnv[f] = r.r0[1 + f];
  }
  for (int f = 0; f < features; ++f) c.commands.push_back({LaneCommand::Divide, rnv[f], rd, rd});
  return c;
}

std::vector<Case> cases() {
  std::vector<Case> out;
  Rng rng{20261204};
  for (int lanes : rtl::softmax_lane_counts()) {
    for (int s = 0; s < 40; ++s) {
      Case c;
      c.lanes = lanes;
      const int n = 1 + static_cast<int>(rng.next() % 40);
      for (int i = 0; i < n; ++i) c.commands.push_back(batch(rng, static_cast<LaneCommand>(rng.next() % 3), lanes));
      c.name = "L" + std::to_string(lanes) + " random " + std::to_string(s) + " (" + std::to_string(n) + " commands)";
      out.push_back(std::move(c));
    }
    for (LaneCommand command : {LaneCommand::MaxExp, LaneCommand::Rescale, LaneCommand::Divide}) {
      Case c;
      c.lanes = lanes;
      c.name = "L" + std::to_string(lanes) + " 30 x " + to_string(command);
      for (int i = 0; i < 30; ++i) c.commands.push_back(batch(rng, command, lanes));
      out.push_back(std::move(c));
    }
    out.push_back(online_softmax(rng, lanes, 8, 6));
  }
  Case bad;  // not an fp32 value: the RTL refuses it
  bad.name = "not fp32";
  bad.lanes = 4;
  bad.commands.push_back({LaneCommand::Rescale, {1.0 + 0x1p-40, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}});
  out.push_back(bad);
  return out;
}

class Bench : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Bench);
  Bench(sc_core::sc_module_name name, std::vector<Outcome>& outcomes)
      : sc_core::sc_module(name), outcomes_(outcomes) {
    for (int lanes : rtl::softmax_lane_counts())
      units_.push_back(rtl::make_softmax_unit("unit" + std::to_string(lanes), lanes));
    SC_THREAD(run);
  }

 private:
  void run() {
    for (Case& c : cases()) {
      Outcome o;
      o.model = SoftmaxLanes(c.lanes, NumberFormat::BF16).run(c.commands);
      rtl::RtlSoftmax* unit = nullptr;
      for (auto& u : units_)
        if (u->lanes() == c.lanes) unit = u.get();
      const sc_core::sc_time t0 = sc_core::sc_time_stamp();
      try {
        o.rtl = unit->run(c.commands);
      } catch (const Error& e) {
        o.error = e.what();
      }
      o.elapsed_fs = (sc_core::sc_time_stamp() - t0).value();
      o.c = std::move(c);
      outcomes_.push_back(std::move(o));
      if (outcomes_.size() % 3 == 0) sc_core::wait(2.25, sc_core::SC_NS);  // idle, another phase
    }
    sc_core::sc_stop();
  }
  std::vector<Outcome>& outcomes_;
  std::vector<std::unique_ptr<rtl::RtlSoftmax>> units_;
};

const std::vector<Outcome>& outcomes() {
  static std::vector<Outcome> out = [] {
    std::vector<Outcome> o;
    sc_core::sc_set_time_resolution(1, sc_core::SC_FS);  // the cycle model's
    Bench bench("bench", o);
    sc_core::sc_start();
    return o;
  }();
  return out;
}

TEST(RtlSoftmaxAgreement, RanEveryCaseAndSawTheSpecials) {
  const std::vector<Outcome>& o = outcomes();
  ASSERT_EQ(o.size(), cases().size());
  int nan = 0, inf = 0, zero = 0, tiny = 0;
  for (const Outcome& x : o)
    for (const auto& r : x.model.r0)
      for (double v : r) {
        nan += std::isnan(v);
        inf += std::isinf(v);
        zero += v == 0;
        tiny += v != 0 && std::fabs(v) < 0x1p-126;
      }
  EXPECT_GT(nan, 0);
  EXPECT_GT(inf, 0);
  EXPECT_GT(zero, 0);
  EXPECT_GT(tiny, 0);
}

TEST(RtlSoftmaxAgreement, ValuesBitForBit) {
  for (const Outcome& o : outcomes()) {
    if (o.c.name == "not fp32") continue;
    ASSERT_EQ(o.error, "") << o.c.name;
    ASSERT_EQ(o.rtl.r0.size(), o.c.commands.size()) << o.c.name;
    int bad = 0;
    for (size_t i = 0; i < o.c.commands.size(); ++i)
      for (size_t l = 0; l < static_cast<size_t>(o.c.lanes); ++l) {
        const LaneBatch& b = o.c.commands[i];
        if ((!same(o.rtl.r0[i][l], o.model.r0[i][l]) || !same(o.rtl.r1[i][l], o.model.r1[i][l])) &&
            ++bad <= 3)
          ADD_FAILURE() << o.c.name << ": command " << i << " (" << to_string(b.command) << ") lane " << l
                        << " x=" << b.x[l] << " y=" << b.y[l] << " z=" << b.z[l] << ": rtl "
                        << o.rtl.r0[i][l] << "/" << o.rtl.r1[i][l] << ", model " << o.model.r0[i][l]
                        << "/" << o.model.r1[i][l];
      }
  }
}

TEST(RtlSoftmaxAgreement, CyclesExact) {
  for (const Outcome& o : outcomes()) {
    if (o.c.name == "not fp32") continue;
    EXPECT_EQ(o.rtl.cycles, o.model.cycles) << o.c.name;
    EXPECT_EQ(o.elapsed_fs, static_cast<uint64_t>(o.rtl.cycles) * 1000000) << o.c.name;
    // The closed form: each command's latency (9, 1, 27) before the next is accepted, but 1
    // from a divide to a divide (pipelined), the last command's latency and its result's cycle.
    auto latency = [](LaneCommand c) { return c == LaneCommand::MaxExp ? 9 : c == LaneCommand::Rescale ? 1 : 27; };
    const std::vector<LaneBatch>& cmds = o.c.commands;
    int64_t sum = 1 + latency(cmds.back().command);
    for (size_t i = 0; i + 1 < cmds.size(); ++i)
      sum += cmds[i].command == LaneCommand::Divide && cmds[i + 1].command == LaneCommand::Divide ? 1 : latency(cmds[i].command);
    EXPECT_EQ(o.rtl.cycles, sum) << o.c.name;
  }
}

TEST(RtlSoftmaxAgreement, RefusesOperandsThatAreNotFp32) {
  const Outcome& o = outcomes().back();
  ASSERT_EQ(o.c.name, "not fp32");
  EXPECT_NE(o.error.find("not an fp32 value"), std::string::npos) << o.error;
}

}  // namespace
}  // namespace cascade

int sc_main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
