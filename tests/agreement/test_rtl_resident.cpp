// One testbench for the 2D array's operations on resident tiles, shared by its two
// implementations (SystemC's `fir` idea, as test_rtl_tile for the GEMMs): the per-PE C++
// model (ResidentArray, sim/systemc/resident_array.h) and the Verilated tile clocked inside
// SystemC (RtlTile::run_program). Each tile size runs a chain of programs on one state (the
// register files keep their entries from program to program):
//  - random programs of every operation but the GEMM runs' (random flags, register-file
//    entries, rows to read; bf16 operands and fp32 north values with ±0, subnormals, ±inf
//    and NaN);
//  - FuseMax's 1-pass Einsums of the 2D array as separate programs in the cycle model's
//    order (BQK and LM of M1 tile m1 + 1 before SLN, SLD and SLN·V of tile m1), two P folds
//    per M1 tile in entries (2 m1 + p1) mod 16; their values also against loops over the
//    Einsums, their cycles against closed forms.
//  - a program with an operand that is not bf16 after good steps: the RTL refuses it before
//    a cycle runs (the programs after it still agree with the model, which skips it).
// Every acceptance cycle, every column result's cycle and value (bit for bit; NaN as "is
// NaN") and every program's cycles must be equal, and the RTL's cycles must be the
// simulated time that passed. One SystemC simulation per process: the first test runs all.
// `test_rtl_resident [gtest flags] [--rtl-pe VARIANT]` (default, fastexp, user).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "arch/support/error.h"
#include "sim/rtl/rtl_tile.h"
#include "sim/systemc/resident_array.h"
#include "tests/agreement/rtl_bench.h"

namespace cascade {
namespace {

using rtl_bench::Rng;
using rtl_bench::same;

std::string g_variant = "default";  // --rtl-pe

struct Program {
  std::string name;
  int n = 4;
  std::vector<TileStep> steps;
  int64_t closed_form = -1;  // the program's cycles in closed form, where the test knows it
  std::vector<std::vector<double>> einsum;  // its column results from loops over the Einsums
};
struct Outcome {
  Program p;
  TileProgramRun model, rtl;
  uint64_t elapsed_fs = 0;
  std::string error;
};

double bf16(uint16_t bits) { return std::bit_cast<float>(uint32_t{bits} << 16); }
// bf16 operands: moderate values, sometimes ±0, a subnormal, ±inf or NaN (where `specials`).
double operand(Rng& rng, bool specials) {
  const uint64_t r = rng.next();
  const uint16_t sign = static_cast<uint16_t>((r >> 63) << 15);
  if (specials) switch (r % 30) {
      case 0: return bf16(sign);
      case 1: return bf16(static_cast<uint16_t>(sign | (1 + (r >> 8) % 127)));
      case 2: return bf16(static_cast<uint16_t>(sign | 0x7F80));
      case 3: return bf16(0x7FC0);
      default: break;
    }
  return bf16(static_cast<uint16_t>(sign | ((120 + (r >> 8) % 12) << 7) | ((r >> 20) & 0x7F)));
}

std::vector<double> vec(Rng& rng, int n, bool specials) {
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) x = operand(rng, specials);
  return v;
}

std::vector<Program> random_programs(int n, Rng& rng) {
  static const TileOp kOps[] = {TileOp::Mac, TileOp::Mac, TileOp::Add, TileOp::Max, TileOp::Exp,
                                TileOp::SubExp, TileOp::Narrow, TileOp::Narrow, TileOp::Load,
                                TileOp::ColSum, TileOp::ColMax, TileOp::ColDot, TileOp::ReadRow,
                                TileOp::Nop};
  std::vector<Program> out;
  for (int p = 0; p < 4; ++p) {
    Program prog{"N" + std::to_string(n) + " random " + std::to_string(p), n, {}, -1, {}};
    for (int k = 0; k < (n < 16 ? 300 : 120); ++k) {
      TileStep s;
      s.op = kOps[rng.next() % std::size(kOps)];
      s.flag = rng.next() % 3 == 0;
      s.entry = static_cast<int>(rng.next() % 4 ? rng.next() % 3 : rng.next() % 16);
      s.sel = s.op == TileOp::ReadRow ? static_cast<int>(rng.next() % (n + 1)) : 0;
      const bool specials = p == 3;
      s.a = vec(rng, n, specials);
      s.b = vec(rng, n, specials);
      s.x = vec(rng, n, specials);
      if (rng.next() % 2)  // fp32 values too, in exp's range
        for (double& x : s.x) x = static_cast<float>(-20.0 + 40.0 * rng.unit());
      prog.steps.push_back(std::move(s));
    }
    out.push_back(std::move(prog));
  }
  return out;
}

// FuseMax's 2D Einsums over M1 tiles of M0 = n rows and two P folds of n columns.
std::vector<Program> fusemax_programs(int n, Rng& rng, ExpMode exp) {
  constexpr int tiles = 5, folds = 2, e_len = 12, f_len = 5;
  const int hold = tile_exp_cycles(exp);
  const auto fp32 = [](double x) { return round_as<NumberFormat::FP32>(x); };
  const auto bf = [](double x) { return round_as<NumberFormat::BF16>(x); };
  const auto ex = [exp](double x) {
    return exp == ExpMode::Fast ? fast_exp_as<NumberFormat::FP32>(x) : hardware_exp_as<NumberFormat::FP32>(x);
  };
  using Rows = std::vector<std::vector<double>>;
  std::vector<Rows> q(folds), k(tiles), v(tiles);
  for (auto& t : q) for (int e = 0; e < e_len; ++e) t.push_back(vec(rng, n, false));
  for (auto& t : k) for (int e = 0; e < e_len; ++e) t.push_back(vec(rng, n, false));
  for (auto& t : v) for (int f = 0; f < f_len; ++f) t.push_back(vec(rng, n, false));
  // The Einsums, per (tile, fold): BQK[m0][p], LM[p], RM[p] (running max over tiles), SLD,
  // SLNV[f][p].
  std::vector<std::vector<Rows>> sln(tiles, std::vector<Rows>(folds));
  std::vector<Rows> lm(tiles, Rows(folds)), rm = lm, sld = lm;
  std::vector<std::vector<Rows>> slnv(tiles, std::vector<Rows>(folds));
  for (int t = 0; t < tiles; ++t)
    for (int f = 0; f < folds; ++f) {
      Rows bqk(n, std::vector<double>(n));
      for (int m = 0; m < n; ++m)
        for (int p = 0; p < n; ++p) {
          double acc = 0;
          for (int e = 0; e < e_len; ++e) acc = fp32(acc + fp32(k[t][e][m] * q[f][e][p]));
          bqk[m][p] = bf(acc);
        }
      lm[t][f].assign(n, -INFINITY);
      for (int p = 0; p < n; ++p)
        for (int m = 0; m < n; ++m) lm[t][f][p] = bqk[m][p] > lm[t][f][p] ? bqk[m][p] : lm[t][f][p];
      rm[t][f] = lm[t][f];
      if (t > 0)
        for (int p = 0; p < n; ++p) rm[t][f][p] = std::max(rm[t - 1][f][p], lm[t][f][p]);
      sln[t][f] = bqk;
      sld[t][f].assign(n, 0.0);
      for (int m = 0; m < n; ++m)
        for (int p = 0; p < n; ++p) {
          sln[t][f][m][p] = bf(ex(fp32(bqk[m][p] - rm[t][f][p])));
          sld[t][f][p] = fp32(sld[t][f][p] + sln[t][f][m][p]);
        }
      for (int r = 0; r < f_len; ++r) {
        std::vector<double> y(n, 0.0);
        for (int p = 0; p < n; ++p)
          for (int m = 0; m < n; ++m) y[p] = fp32(y[p] + fp32(sln[t][f][m][p] * v[t][r][m]));
        slnv[t][f].push_back(y);
      }
    }
  const auto entry = [](int t, int f) { return (t * folds + f) % 16; };
  const auto step = [](TileOp op, bool flag, int e) {
    TileStep s;
    s.op = op, s.flag = flag, s.entry = e;
    return s;
  };
  std::vector<Program> out;
  const std::string tag = "N" + std::to_string(n) + " FuseMax ";
  auto front = [&](int t) {
    Program bqk{tag + "BQK " + std::to_string(t), n, {}, folds * (e_len + 1), {}};
    Program lmp{tag + "LM " + std::to_string(t), n, {}, folds + 2 * n - 1, {}};
    for (int f = 0; f < folds; ++f) {
      for (int e = 0; e < e_len; ++e) {
        TileStep s = step(TileOp::Mac, e == 0, 0);
        s.a = k[t][e], s.b = q[f][e];
        bqk.steps.push_back(std::move(s));
      }
      bqk.steps.push_back(step(TileOp::Narrow, true, entry(t, f)));
      lmp.steps.push_back(step(TileOp::ColMax, true, entry(t, f)));
      lmp.einsum.push_back(lm[t][f]);
    }
    out.push_back(std::move(bqk));
    out.push_back(std::move(lmp));
  };
  auto back = [&](int t) {
    Program slnp{tag + "SLN " + std::to_string(t), n, {}, folds * (hold + 2), {}};
    Program sldp{tag + "SLD " + std::to_string(t), n, {}, folds + 2 * n - 1, {}};
    Program slnvp{tag + "SLNV " + std::to_string(t), n, {}, folds * f_len + 2 * n - 1, {}};
    for (int f = 0; f < folds; ++f) {
      TileStep sub = step(TileOp::SubExp, true, entry(t, f));
      sub.x = rm[t][f];
      slnp.steps.push_back(std::move(sub));
      slnp.steps.push_back(step(TileOp::Narrow, true, entry(t, f)));
      sldp.steps.push_back(step(TileOp::ColSum, true, entry(t, f)));
      sldp.einsum.push_back(sld[t][f]);
      for (int r = 0; r < f_len; ++r) {
        TileStep dot = step(TileOp::ColDot, true, entry(t, f));
        dot.a = v[t][r];
        slnvp.steps.push_back(std::move(dot));
        slnvp.einsum.push_back(slnv[t][f][r]);
      }
    }
    out.push_back(std::move(slnp));
    out.push_back(std::move(sldp));
    out.push_back(std::move(slnvp));
  };
  front(0);
  for (int t = 0; t < tiles; ++t) {
    if (t + 1 < tiles) front(t + 1);
    back(t);
  }
  return out;
}

std::vector<Program> programs() {
  std::vector<Program> out;
  Rng rng{20261207};
  for (int n : rtl::tile_sizes(g_variant)) {
    for (Program& p : fusemax_programs(n, rng, rtl::tile_exp(g_variant))) out.push_back(std::move(p));
    // A step the RTL refuses (an operand that is not bf16) after good ones: the tile runs
    // none of them, so the programs after it still agree with the model, which skips it.
    Program bad{"N" + std::to_string(n) + " not bf16", n, {}, -1, {}};
    TileStep load;
    load.op = TileOp::Load;
    load.x.assign(static_cast<size_t>(n), 3.0);
    TileStep store = load;
    store.op = TileOp::Narrow, store.flag = true, store.entry = 0;
    TileStep mac;
    mac.op = TileOp::Mac;
    mac.a.assign(static_cast<size_t>(n), 1.0 + 0x1p-20);
    bad.steps = {load, store, mac};
    out.push_back(std::move(bad));
    for (Program& p : random_programs(n, rng)) out.push_back(std::move(p));
  }
  return out;
}

class Bench : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Bench);
  Bench(sc_core::sc_module_name name, std::vector<Outcome>& outcomes) : sc_core::sc_module(name), outcomes_(outcomes) {
    for (int n : rtl::tile_sizes(g_variant)) {
      tiles_.push_back(rtl::make_tile("tile" + std::to_string(n), n, g_variant));
      models_.emplace_back(n, n, NumberFormat::BF16, rtl::tile_exp(g_variant));
    }
    SC_THREAD(run);
  }

 private:
  void run() {
    for (Program& p : programs()) {
      size_t t = 0;
      while (tiles_[t]->n() != p.n) ++t;
      Outcome o;
      const sc_core::sc_time t0 = sc_core::sc_time_stamp();
      try {
        o.rtl = tiles_[t]->run_program(p.steps);
        o.model = models_[t].run(p.steps);  // the same state chain on both sides
      } catch (const Error& e) {
        o.error = e.what();
      }
      o.elapsed_fs = (sc_core::sc_time_stamp() - t0).value();
      o.p = std::move(p);
      outcomes_.push_back(std::move(o));
      sc_core::wait(2.5, sc_core::SC_NS);  // the next program at another phase, the clock gated
    }
    sc_core::sc_stop();
  }
  std::vector<Outcome>& outcomes_;
  std::vector<std::unique_ptr<rtl::RtlTile>> tiles_;
  std::vector<ResidentArray> models_;
};

const std::vector<Outcome>& outcomes() {
  static std::vector<Outcome> out = [] {
    std::vector<Outcome> o;
    sc_core::sc_set_time_resolution(1, sc_core::SC_FS);
    Bench bench("bench", o);
    sc_core::sc_start();
    return o;
  }();
  return out;
}

TEST(RtlResidentAgreement, CyclesAndValuesEqual) {
  ASSERT_FALSE(outcomes().empty());
  long results = 0;
  int refused = 0;
  for (const Outcome& o : outcomes()) {
    if (o.p.name.ends_with("not bf16")) {
      EXPECT_NE(o.error.find("not a bf16 value"), std::string::npos) << o.p.name << ": " << o.error;
      EXPECT_EQ(o.elapsed_fs, 0u) << o.p.name << ": refused before a cycle";
      ++refused;
      continue;
    }
    ASSERT_EQ(o.error, "") << o.p.name;
    EXPECT_EQ(o.rtl.accepted, o.model.accepted) << o.p.name;
    EXPECT_EQ(o.rtl.cycles, o.model.cycles) << o.p.name;
    EXPECT_EQ(o.elapsed_fs, static_cast<uint64_t>(o.rtl.cycles) * 1000000) << o.p.name;
    ASSERT_EQ(o.rtl.results.size(), o.model.results.size()) << o.p.name;
    int bad = 0;
    for (size_t r = 0; r < o.model.results.size(); ++r) {
      const ColumnResult &m = o.model.results[r], &x = o.rtl.results[r];
      EXPECT_EQ(x.step, m.step) << o.p.name;
      EXPECT_EQ(x.cycle, m.cycle) << o.p.name << " result " << r;
      for (size_t j = 0; j < m.y.size(); ++j)
        if (!same(x.y[j], m.y[j]) && ++bad <= 3)
          ADD_FAILURE() << o.p.name << " result " << r << " column " << j << ": rtl " << x.y[j]
                        << ", per-PE model " << m.y[j];
      ++results;
    }
  }
  EXPECT_EQ(refused, static_cast<int>(rtl::tile_sizes(g_variant).size()));
  std::printf("%zu programs, %ld column results compared\n", outcomes().size(), results);
}

// The FuseMax programs: values as loops over the Einsums compute them, cycles in closed form
// (folds F, exp hold L, tile N: BQK F (E + 1), LM and SLD F + 2N - 1, SLN F (L + 2), SLNV
// F x (rows of V) + 2N - 1).
TEST(RtlResidentAgreement, FuseMaxAgainstTheEinsums) {
  int checked = 0;
  for (const Outcome& o : outcomes()) {
    if (o.p.closed_form < 0) continue;
    EXPECT_EQ(o.model.cycles, o.p.closed_form) << o.p.name;
    ASSERT_EQ(o.model.results.size(), o.p.einsum.size()) << o.p.name;
    for (size_t r = 0; r < o.p.einsum.size(); ++r)
      for (size_t j = 0; j < o.p.einsum[r].size(); ++j)
        EXPECT_TRUE(same(o.model.results[r].y[j], o.p.einsum[r][j]))
            << o.p.name << " result " << r << " column " << j << ": " << o.model.results[r].y[j]
            << ", Einsum " << o.p.einsum[r][j];
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace cascade

int sc_main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (!cascade::rtl_bench::parse_rtl_pe(argc, argv, "test_rtl_resident", cascade::g_variant)) return 2;
  cascade::rtl::check_variant(cascade::g_variant);
  return RUN_ALL_TESTS();
}
