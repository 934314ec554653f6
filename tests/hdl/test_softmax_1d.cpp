// The Verilated online-softmax 1D unit (hdl/softmax_1d.sv): L = 4 lanes, bf16 storage,
// every result stored (narrowed) as the executor stores each Einsum of softmax-1pass; and
// L = 3 lanes, fp16, results kept in fp32. Against golden lanes written from the commands'
// definitions (fp32_golden.h, hardware_exp_as<FP32>, hardware_divide_fp32): each command on
// random and special operands with its latency, streams with stalls, and several tiles of
// an online softmax ending in the final division, against a C++ loop of the same
// operations in the same order.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "Vsoftmax_1d_bf16.h"
#include "Vsoftmax_1d_fp16_f32.h"
#include "sim/functional/hardware_divide.h"
#include "tests/hdl/fp32_golden.h"

namespace cascade::rtl_test {
namespace {

enum Cmd : uint8_t { kMaxExp = 0, kRescale = 1, kDivide = 2 };
int latency_of(uint8_t cmd) { return cmd == kMaxExp ? 9 : cmd == kRescale ? 1 : 27; }

// One golden lane.
struct LaneGolden {
  bool fp16, narrow;
  uint32_t store(uint32_t v) const { return narrow ? narrow_golden(v, fp16) : v; }
  // returns {r0, r1}; z is CmdRescale's c
  std::pair<uint32_t, uint32_t> apply(uint8_t cmd, uint32_t x, uint32_t y, uint32_t z) {
    switch (cmd) {
      case kMaxExp: {
        const uint32_t m = store(max_golden(x, y));
        return {m, store(exp_golden(sub_golden(x, m)))};
      }
      case kRescale: return {store(add_golden(y, store(mul_golden(x, z)))), 0};
      default: return {store(bits_of(hardware_divide_fp32(f32(x), f32(y)))), 0};
    }
  }
};

template <class Model>
class Unit {
 public:
  explicit Unit(int lanes) : lanes_(lanes) {
    m_.clk_i = 0;
    m_.rst_ni = 0;
    m_.cmd_valid_i = 0;
    m_.res_ready_i = 0;
    m_.eval();
    m_.rst_ni = 1;
    m_.eval();
  }
  struct Result {
    std::vector<uint32_t> r0, r1;
    long accepted, delivered;  // cycles
  };
  // Runs the commands in order (each offered as soon as the unit is ready); results are
  // taken when res_ready (random stalls if `stalls`). Returns every result.
  std::vector<Result> run(const std::vector<std::tuple<uint8_t, std::vector<uint32_t>, std::vector<uint32_t>,
                                                 std::vector<uint32_t>>>& cmds,
                          Rng* stalls = nullptr) {
    std::vector<Result> out;
    std::vector<long> accepted;
    size_t next = 0;
    const long limit = cycle_ + 100 * static_cast<long>(cmds.size()) + 1000;
    while (out.size() < cmds.size() && cycle_ < limit) {
      const bool offer = next < cmds.size();
      m_.cmd_valid_i = offer;
      if (offer) {
        const auto& [cmd, x, y, z] = cmds[next];
        m_.cmd_i = cmd;
        for (int l = 0; l < lanes_; ++l) {
          m_.x_i[l] = x[l];
          m_.y_i[l] = y[l];
          m_.z_i[l] = z[l];
        }
      }
      m_.res_ready_i = !(stalls && stalls->next() % 3 == 0);
      m_.eval();
      if (m_.res_valid_o && m_.res_ready_i) {
        Result r{std::vector<uint32_t>(lanes_), std::vector<uint32_t>(lanes_), accepted.at(out.size()), cycle_};
        for (int l = 0; l < lanes_; ++l) {
          r.r0[l] = m_.r0_o[l];
          r.r1[l] = m_.r1_o[l];
        }
        out.push_back(r);
      }
      if (offer && m_.cmd_ready_o) {
        accepted.push_back(cycle_);
        ++next;
      }
      m_.clk_i = 1;
      m_.eval();
      m_.clk_i = 0;
      m_.eval();
      ++cycle_;
    }
    m_.cmd_valid_i = 0;
    EXPECT_EQ(out.size(), cmds.size()) << "unit hung";
    return out;
  }

 private:
  Model m_;
  int lanes_;
  long cycle_ = 0;
};

using Cmds = std::vector<std::tuple<uint8_t, std::vector<uint32_t>, std::vector<uint32_t>,
                                    std::vector<uint32_t>>>;

// Random commands on random and special operands; results and latencies.
template <class Model>
void random_commands(int lanes, bool fp16, bool narrow, uint64_t seed, int count, bool stall) {
  Rng rng(seed), stalls(seed + 1);
  Unit<Model> unit(lanes);
  std::vector<LaneGolden> golden(lanes, LaneGolden{fp16, narrow});
  Cmds cmds;
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> expected;
  for (int i = 0; i < count; ++i) {
    const uint8_t cmd = static_cast<uint8_t>(rng.next() % 3);
    std::vector<uint32_t> x(lanes), y(lanes), z(lanes);
    std::vector<std::pair<uint32_t, uint32_t>> e(lanes);
    for (int l = 0; l < lanes; ++l) {
      auto value = [&] {
        const uint64_t r = rng.next();
        if (r % 4 == 0) return random_fp32(rng);
        const double v = -30.0 + 60.0 * static_cast<double>(r >> 11) * 0x1p-53;
        return narrow ? narrow_golden(bits_of(v), fp16) : bits_of(v);
      };
      x[l] = value();
      y[l] = rng.next() % 3 == 0 ? partner_fp32(rng, x[l]) : value();
      z[l] = value();
      e[l] = golden[l].apply(cmd, x[l], y[l], z[l]);
    }
    cmds.emplace_back(cmd, x, y, z);
    expected.push_back(e);
  }
  const auto out = unit.run(cmds, stall ? &stalls : nullptr);
  ASSERT_EQ(out.size(), cmds.size());
  long bad = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const uint8_t cmd = std::get<0>(cmds[i]);
    if (!stall) {
      EXPECT_EQ(out[i].delivered - out[i].accepted, latency_of(cmd)) << "command " << i;
      // accepted when the previous result is taken, a divide after a divide in the next cycle
      if (i > 0) {
        const uint8_t prev = std::get<0>(cmds[i - 1]);
        EXPECT_EQ(out[i].accepted - out[i - 1].accepted, prev == kDivide && cmd == kDivide ? 1 : latency_of(prev))
            << "command " << i;
      }
    }
    for (int l = 0; l < lanes; ++l) {
      const bool ok = same_result(out[i].r0[l], expected[i][l].first) &&
                      (cmd != kMaxExp || same_result(out[i].r1[l], expected[i][l].second));
      if (!ok && ++bad <= 5)
        ADD_FAILURE() << "command " << i << " (" << int(cmd) << ") lane " << l << std::hex << " x="
                      << std::get<1>(cmds[i])[l] << " y=" << std::get<2>(cmds[i])[l] << " z="
                      << std::get<3>(cmds[i])[l] << ": rtl " << out[i].r0[l]
                      << "/" << out[i].r1[l] << ", golden " << expected[i][l].first << "/" << expected[i][l].second;
    }
  }
  EXPECT_EQ(bad, 0);
}

TEST(Softmax1d, RandomCommandsBf16Narrowed) { random_commands<Vsoftmax_1d_bf16>(4, false, true, 81, 6000, false); }
TEST(Softmax1d, RandomCommandsFp16Fp32) { random_commands<Vsoftmax_1d_fp16_f32>(3, true, false, 82, 6000, false); }
TEST(Softmax1d, RandomCommandsWithStalls) { random_commands<Vsoftmax_1d_bf16>(4, false, true, 83, 3000, true); }

// CmdRescale streams one per cycle when results are taken at once.
TEST(Softmax1d, RescaleStreams) {
  Unit<Vsoftmax_1d_bf16> unit(4);
  Cmds cmds;
  const std::vector<uint32_t> one(4, 0x3F800000u), zero(4, 0u);
  cmds.emplace_back(kMaxExp, one, zero, zero);
  for (int i = 0; i < 64; ++i) cmds.emplace_back(kRescale, one, one, one);
  const auto out = unit.run(cmds);
  ASSERT_EQ(out.size(), cmds.size());
  for (size_t i = 2; i < out.size(); ++i) EXPECT_EQ(out[i].accepted, out[i - 1].accepted + 1) << i;
}

// CmdDivide streams one per cycle too (the divider is pipelined); a rescale after the
// divides waits for the last of them, a divide after a rescale for its result.
TEST(Softmax1d, DividesStream) {
  Unit<Vsoftmax_1d_bf16> unit(4);
  Cmds cmds;
  const std::vector<uint32_t> one(4, 0x3F800000u), three(4, 0x40400000u);
  cmds.emplace_back(kRescale, one, one, one);
  for (int i = 0; i < 64; ++i) cmds.emplace_back(kDivide, one, three, one);
  cmds.emplace_back(kRescale, one, one, one);
  cmds.emplace_back(kDivide, one, three, one);
  const auto out = unit.run(cmds);
  ASSERT_EQ(out.size(), cmds.size());
  for (size_t i = 2; i <= 64; ++i) EXPECT_EQ(out[i].accepted, out[i - 1].accepted + 1) << i;
  for (size_t i = 1; i <= 64; ++i) EXPECT_EQ(out[i].delivered, out[i].accepted + 27) << i;
  EXPECT_EQ(out[1].accepted, out[0].accepted + 1);
  EXPECT_EQ(out[65].accepted, out[64].accepted + 27);
  EXPECT_EQ(out[66].accepted, out[65].accepted + 1);
  EXPECT_EQ(out.back().delivered - out.front().accepted, 1 + 63 + 27 + 1 + 27);
  for (size_t i = 1; i <= 64; ++i) EXPECT_EQ(out[i].r0[0], 0x3EAB0000u) << i;  // bf16(1/3)
}

// Several tiles of an online softmax for L queries: scores S[tile][m0][lane], values
// V[tile][m0][f]; per tile the 1D unit gets the tile's local max LM, local sum
// SLD = sum exp(S - RM'), local numerators SLNV[f] = sum exp(S - RM') V (computed here as
// the 2D tile would, in the executor's order), and updates
//   RM' = max(RM, LM), PRM = exp(RM - RM'), RD' = SLD + RD * PRM, RNV'[f] = SLNV[f] + RNV[f] * PRM,
// finally AV[f] = RNV[f] / RD; all against the same loop in C++.
template <class Model>
void online_softmax(int lanes, bool fp16, bool narrow, uint64_t seed) {
  constexpr int tiles = 6, m0 = 8, features = 5;
  Rng rng(seed);
  LaneGolden g{fp16, narrow};
  auto store = [&](uint32_t v) { return g.store(v); };
  Unit<Model> unit(lanes);
  std::vector<uint32_t> rm(lanes, 0xFF800000u), rd(lanes, 0u);  // RM = -inf, RD = 0
  std::vector<std::vector<uint32_t>> rnv(features, std::vector<uint32_t>(lanes, 0u));
  std::vector<uint32_t> grm = rm, grd = rd;
  auto grnv = rnv;
  long bad = 0;
  auto expect = [&](uint32_t rtl, uint32_t golden, const char* what, int t, int l) {
    if (!same_result(rtl, golden) && ++bad <= 5)
      ADD_FAILURE() << what << " tile " << t << " lane " << l << std::hex << ": rtl " << rtl << ", golden " << golden;
  };
  for (int t = 0; t < tiles; ++t) {
    // the tile's scores (growing now and then, so the max moves) and values
    std::vector<std::vector<uint32_t>> s(m0, std::vector<uint32_t>(lanes)), v(m0, std::vector<uint32_t>(features));
    for (auto& row : s)
      for (auto& x : row) x = store(bits_of(-4.0 + 8.0 * (rng.next() >> 11) * 0x1p-53 + (t % 3 == 1 ? 3.0 : 0.0)));
    for (auto& row : v)
      for (auto& x : row) x = store(bits_of(-1.0 + 2.0 * (rng.next() >> 11) * 0x1p-53));
    std::vector<uint32_t> lm(lanes, 0xFF800000u);
    for (int m = 0; m < m0; ++m)
      for (int l = 0; l < lanes; ++l) lm[l] = max_golden(lm[l], s[m][l]);
    // the 1D unit: RM' and PRM
    auto out = unit.run({{kMaxExp, rm, lm, lm}});
    std::vector<uint32_t> rm_new(lanes), prm(lanes);
    const std::vector<uint32_t> rtl_rm = out[0].r0;
    for (int l = 0; l < lanes; ++l) {
      rm_new[l] = store(max_golden(grm[l], lm[l]));
      prm[l] = store(exp_golden(sub_golden(grm[l], rm_new[l])));
      expect(out[0].r0[l], rm_new[l], "RM", t, l);
      expect(out[0].r1[l], prm[l], "PRM", t, l);
    }
    // the 2D tile's sums with the new max
    std::vector<uint32_t> sld(lanes, 0u);
    std::vector<std::vector<uint32_t>> slnv(features, std::vector<uint32_t>(lanes, 0u));
    for (int l = 0; l < lanes; ++l)
      for (int m = 0; m < m0; ++m) {
        const uint32_t sln = store(exp_golden(sub_golden(s[m][l], rm_new[l])));
        sld[l] = add_golden(sld[l], sln);
        for (int f = 0; f < features; ++f) slnv[f][l] = add_golden(slnv[f][l], mul_golden(sln, v[m][f]));
      }
    for (auto& x : sld) x = store(x);
    for (auto& row : slnv)
      for (auto& x : row) x = store(x);
    // the 1D unit: RD' and RNV'
    Cmds cmds;
    // c back from the caller (FuseMax: PRM in the register file): the unit's own r1
    cmds.emplace_back(kRescale, rd, sld, out[0].r1);
    for (int f = 0; f < features; ++f) cmds.emplace_back(kRescale, rnv[f], slnv[f], out[0].r1);
    out = unit.run(cmds);
    for (int l = 0; l < lanes; ++l) {
      grm[l] = rm_new[l];
      grd[l] = store(add_golden(sld[l], store(mul_golden(grd[l], prm[l]))));
      expect(out[0].r0[l], grd[l], "RD", t, l);
      for (int f = 0; f < features; ++f) {
        grnv[f][l] = store(add_golden(slnv[f][l], store(mul_golden(grnv[f][l], prm[l]))));
        expect(out[1 + f].r0[l], grnv[f][l], "RNV", t, l);
      }
    }
    rm = rtl_rm;  // the unit's own state, carried by the caller
    rd = out[0].r0;
    for (int f = 0; f < features; ++f) rnv[f] = out[1 + f].r0;
  }
  Cmds div;
  for (int f = 0; f < features; ++f) div.emplace_back(kDivide, rnv[f], rd, rd);
  const auto av = unit.run(div);
  for (int f = 0; f < features; ++f)
    for (int l = 0; l < lanes; ++l) {
      const uint32_t golden = store(bits_of(f32(grnv[f][l]) / f32(grd[l])));  // IEEE: the divider is exact-rounded
      expect(av[f].r0[l], golden, "AV", tiles, l);
      // and close to the exact softmax-weighted mean (sanity, not bit-exactness)
      EXPECT_LT(std::fabs(f32(av[f].r0[l])), 1.0001f);
    }
  EXPECT_EQ(bad, 0);
}

TEST(Softmax1d, OnlineSoftmaxBf16Narrowed) { online_softmax<Vsoftmax_1d_bf16>(4, false, true, 91); }
TEST(Softmax1d, OnlineSoftmaxFp16Fp32) { online_softmax<Vsoftmax_1d_fp16_f32>(3, true, false, 92); }

}  // namespace
}  // namespace cascade::rtl_test
