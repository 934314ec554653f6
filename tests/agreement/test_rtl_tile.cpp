// One testbench for the 2D array's GEMM unit, shared by its two implementations (the idea of
// SystemC's `fir` example): the per-PE C++ model (SystolicArray, sim/systemc/systolic.h)
// and the Verilated systolic tile clocked inside SystemC (RtlTile, sim/rtl/rtl_tile.h).
// The same seeded random GEMMs (M and N not multiples of the tile, K from 1 to 100, bf16
// operands with ±0, subnormals, rounding ties, ±inf and NaN) go into both, in each dataflow
// (output, weight and input stationary; K above the tile: K folds summed through the
// buffer's partial sums), folds serialized and overlapped, on the variant's tiles up to
// 16 x 16 (fastexp: 4 x 4); the values must agree bit for bit (NaN as "is NaN") and the cycles
// exactly, the RTL's also with the simulated time that passed and with the closed forms
// (systolic_cycles of systolic_geometry).
//
// One SystemC simulation per process: the first test to ask runs every case in one
// sc_start; the tests then read its outcomes (ctest runs the executable once).
// `test_rtl_tile [gtest flags] [--rtl-pe VARIANT]` runs the tiles of one PE variant
// (rtl::tile_variants(): default, fastexp, user); ctest runs each built variant. Only the
// exp differs between the shipped PEs, so every variant's GEMM must equal the per-PE model.
#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "arch/support/error.h"
#include "sim/rtl/rtl_tile.h"
#include "tests/agreement/rtl_bench.h"
#include "sim/systemc/systolic.h"

namespace cascade {
namespace {

using rtl_bench::Rng;
using rtl_bench::same;

std::string g_variant = "default";  // --rtl-pe

struct Case {
  std::string name;
  int n = 4;  // tile
  Dataflow dataflow = Dataflow::OutputStationary;
  GemmOperands gemm;
  bool overlap = false;
};
struct Outcome {
  Case c;
  SystolicRun model, rtl;
  uint64_t elapsed_fs = 0;  // simulated time the RTL run took (the resolution is 1 fs)
  std::string error;   // the RTL's Error, if any
};

double bf16(uint16_t bits) { return std::bit_cast<float>(uint32_t{bits} << 16); }

// A bf16 operand: mostly moderate normal values; sometimes ±0, a subnormal, a value whose
// products land on rounding ties (few significant bits, spread exponents), and, where
// `specials`, ±inf and NaN.
double operand(Rng& rng, bool specials) {
  const uint64_t r = rng.next();
  const uint16_t sign = static_cast<uint16_t>((r >> 63) << 15);
  switch (r % 40) {
    case 0: return bf16(sign);                                                 // ±0
    case 1: return bf16(static_cast<uint16_t>(sign | (1 + (r >> 8) % 127)));   // subnormal
    case 2: return bf16(static_cast<uint16_t>(sign | ((100 + (r >> 8) % 56) << 7)));  // 2^e: ties
    case 3: return bf16(static_cast<uint16_t>(sign | ((127 + (r >> 8) % 3) << 7) | 0x40));  // 1.5 * 2^e
    case 4:
      if (specials) return (r >> 8) % 3 == 0 ? bf16(0x7FC0) : bf16(static_cast<uint16_t>(sign | 0x7F80));
      break;
    default: break;
  }
  return bf16(static_cast<uint16_t>(sign | ((115 + (r >> 8) % 24) << 7) | ((r >> 20) & 0x7F)));
}

// The variant's tile sizes (4, 8 and 16; fastexp: 4).
std::vector<int> tested_sizes() { return rtl::tile_sizes(g_variant); }

std::vector<Case> cases() {
  std::vector<Case> out;
  Rng rng{20240612};
  for (int n : tested_sizes()) {
    // Shapes: one fold, partial tiles (M, N below and above N, not multiples), K from 1 to
    // 100, and a few fixed corner shapes.
    std::vector<std::array<int64_t, 3>> shapes = {
        {1, 1, 1}, {n, n, 1}, {n, n, n}, {n - 1, 3 * n + 1, 2}, {2 * n + 3, n + 1, n - 1},
        {3, 2 * n, 100}, {1, 5 * n, n + 2}, {2 * n, 2 * n, 1}};
    // (16 x 16 runs at about 8k cycles/s: fewer, hdl/README.md "Measured")
    for (int s = 0; s < (n < 16 ? 22 : 6); ++s)
      shapes.push_back({rng.in(1, 3 * n + 2), rng.in(1, 3 * n + 2), rng.in(1, 100)});
    for (size_t s = 0; s < shapes.size(); ++s)
      for (Dataflow dataflow : {Dataflow::OutputStationary, Dataflow::WeightStationary,
                                Dataflow::InputStationary})
      for (bool overlap : {false, true}) {
        Case c;
        c.n = n;
        c.dataflow = dataflow;
        c.overlap = overlap;
        GemmOperands& g = c.gemm;
        g.m = shapes[s][0], g.n = shapes[s][1], g.k = shapes[s][2];
        const bool specials = s % 5 == 4;
        for (int64_t i = 0; i < g.m * g.k; ++i) g.a.push_back(operand(rng, specials));
        for (int64_t i = 0; i < g.k * g.n; ++i) g.b.push_back(operand(rng, specials));
        c.name = "N" + std::to_string(n) + " M" + std::to_string(g.m) + " N" + std::to_string(g.n) +
                 " K" + std::to_string(g.k) + " " + to_string(dataflow) +
                 (overlap ? " overlapped" : " serialized") +
                 (specials ? " inf/NaN" : "");
        out.push_back(std::move(c));
      }
  }
  // An operand that is not a bf16 value: the RTL refuses it (Error), the case records it.
  Case bad;
  bad.name = "not bf16";
  bad.gemm.m = bad.gemm.n = bad.gemm.k = 1;
  bad.gemm.a = {1.0 + 0x1p-20};
  bad.gemm.b = {1.0};
  out.push_back(bad);
  return out;
}

class Bench : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Bench);
  Bench(sc_core::sc_module_name name, std::vector<Outcome>& outcomes)
      : sc_core::sc_module(name), outcomes_(outcomes) {
    for (int n : tested_sizes()) tiles_.push_back(rtl::make_tile("tile" + std::to_string(n), n, g_variant));
    SC_THREAD(run);
  }

 private:
  rtl::RtlTile& tile(int n) {
    for (auto& t : tiles_)
      if (t->n() == n) return *t;
    throw Error("no tile " + std::to_string(n));
  }
  void run() {
    for (Case& c : cases()) {
      Outcome o;
      o.model = SystolicArray(c.n, c.n, NumberFormat::FP32).run(c.dataflow, c.gemm, c.overlap);
      const sc_core::sc_time t0 = sc_core::sc_time_stamp();
      try {
        o.rtl = tile(c.n).run(c.dataflow, c.gemm, c.overlap);
      } catch (const Error& e) {
        o.error = e.what();
      }
      o.elapsed_fs = (sc_core::sc_time_stamp() - t0).value();
      o.c = std::move(c);
      outcomes_.push_back(std::move(o));
      sc_core::wait(3.25, sc_core::SC_NS);  // the next GEMM at another phase
    }
    sc_core::sc_stop();
  }
  std::vector<Outcome>& outcomes_;
  std::vector<std::unique_ptr<rtl::RtlTile>> tiles_;
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

TEST(RtlTileAgreement, RanEveryCase) {
  const std::vector<Outcome>& o = outcomes();
  ASSERT_EQ(o.size(), cases().size());
  int nan = 0, zero = 0, inf = 0, tiny = 0;
  for (const Outcome& x : o)
    for (double v : x.model.c) {
      nan += std::isnan(v);
      inf += std::isinf(v);
      zero += v == 0;
      tiny += v != 0 && std::fabs(v) < 0x1p-126;
    }
  // The special values occur in the results, not only in the operands (no -0: a sum starts
  // from +0, and +0 + -0 = +0).
  EXPECT_GT(nan, 0);
  EXPECT_GT(inf, 0);
  EXPECT_GT(zero, 0);
  EXPECT_GT(tiny, 0);
}

TEST(RtlTileAgreement, ValuesBitForBit) {
  for (const Outcome& o : outcomes()) {
    if (o.c.name == "not bf16") continue;
    ASSERT_EQ(o.error, "") << o.c.name;
    ASSERT_EQ(o.rtl.c.size(), o.model.c.size()) << o.c.name;
    int bad = 0;
    for (size_t i = 0; i < o.model.c.size(); ++i)
      if (!same(o.rtl.c[i], o.model.c[i]) && ++bad <= 3)
        ADD_FAILURE() << o.c.name << ": C[" << i / o.c.gemm.n << "][" << i % o.c.gemm.n << "] rtl "
                      << o.rtl.c[i] << ", per-PE model " << o.model.c[i];
  }
}

TEST(RtlTileAgreement, CyclesExact) {
  for (const Outcome& o : outcomes()) {
    if (o.c.name == "not bf16") continue;
    EXPECT_EQ(o.rtl.cycles, o.model.cycles) << o.c.name;
    EXPECT_EQ(o.rtl.folds, o.model.folds) << o.c.name;
    EXPECT_EQ(o.rtl.macs, o.model.macs) << o.c.name;
    // The cycles are the RTL clock's: that much simulated time passed.
    EXPECT_EQ(o.elapsed_fs, static_cast<uint64_t>(o.rtl.cycles) * 1000000) << o.c.name;
    // And the closed forms (2R + C + T - 2 per fold; a fold every max(T, R) overlapped).
    const GemmOperands& g = o.c.gemm;
    const SystolicGeometry geo = systolic_geometry(o.c.n, o.c.n, o.c.dataflow, g.m, g.n, g.k);
    EXPECT_EQ(o.rtl.folds, geo.folds) << o.c.name;
    EXPECT_EQ(static_cast<double>(o.rtl.cycles),
              systolic_cycles(geo.rows, geo.cols, static_cast<double>(geo.stream), geo.folds,
                              o.c.overlap))
        << o.c.name;
  }
}

TEST(RtlTileAgreement, RefusesOperandsThatAreNotBf16) {
  const Outcome& o = outcomes().back();
  ASSERT_EQ(o.c.name, "not bf16");
  EXPECT_NE(o.error.find("not a bf16 value"), std::string::npos) << o.error;
}

}  // namespace
}  // namespace cascade

// SystemC's library holds main() and calls sc_main.
int sc_main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (!cascade::rtl_bench::parse_rtl_pe(argc, argv, "test_rtl_tile", cascade::g_variant)) return 2;
  cascade::rtl::check_variant(cascade::g_variant);
  std::printf("PE variant: %s\n", cascade::g_variant.c_str());
  return RUN_ALL_TESTS();
}
