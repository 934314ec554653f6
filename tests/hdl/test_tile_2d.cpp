// The Verilated N x N systolic tile (hdl/tile_2d.sv), N = 1, 4 and 8 (bf16) and 4 (fp16);
// N = 16 in test_tile_2d_n16 (opt-in: CASCADE_RTL_TILE16).
//  - K-long GEMMs (K = 1..300) bit for bit equal to a C++ loop doing
//    acc = round(round(a * b) + acc) in ascending k from +0, and their cycle counts from the
//    first input to the last output equal to the documented closed form K + 3N - 1 (row r
//    of C in cycle K + 2N - 1 + r);
//  - back-to-back GEMMs, bubbles on the input and stalls on the output;
//  - random streams of every operation against a golden tile of golden PEs;
//  - the FuseMax 1-pass tile sequence (BQK, narrow, LM, exp(BQK - m), SLD, SLN V) against
//    loops written from the cascade's Einsums.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "Vtile_2d_n1.h"
#include "Vtile_2d_n4.h"
#include "Vtile_2d_n8.h"
#include "Vtile_2d_n4_fp16.h"
#include "tests/hdl/tile_driver.h"

namespace cascade::rtl_test {
namespace {

TEST(Tile2d, GemmN1) { gemms<Vtile_2d_n1>(1, false, ks_all(20, 1), 21); }
TEST(Tile2d, GemmN4) { gemms<Vtile_2d_n4>(4, false, ks_all(60, 2), 22); }
TEST(Tile2d, GemmN8) { gemms<Vtile_2d_n8>(8, false, ks_all(12, 4), 25); }
TEST(Tile2d, GemmN4Fp16) { gemms<Vtile_2d_n4_fp16>(4, true, ks_all(30, 3), 23); }

// Verilated speed in this plain C++ testbench (printed, not asserted; experiments/rtl/speed.sh
// compares it with the tile inside SystemC): five GEMMs of N x N x 2000.
template <class Model>
void speed(int n) {
  Rng rng(62);
  Tile<Model> tile(n, false);
  Gemm g(n, 2000, rng, false);
  for (int rep = 0; rep < 5; ++rep) g.issue(tile);
  const auto start = std::chrono::steady_clock::now();
  tile.run(5 * n);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(compare_rows(tile.outputs(), 4 * n, g.golden(false)), 0);
  std::printf("plain N=%d cycles=%ld seconds=%.4f cycles_per_s=%.0f\n", n, tile.cycles(), s, tile.cycles() / s);
}
TEST(Tile2d, SpeedN4) { speed<Vtile_2d_n4>(4); }
TEST(Tile2d, SpeedN8) { speed<Vtile_2d_n8>(8); }

TEST(Tile2d, BackToBackGemms) { back_to_back<Vtile_2d_n4>(4, false, 31); }
TEST(Tile2d, BackToBackGemmsWithBubblesAndStalls) { back_to_back<Vtile_2d_n4>(4, true, 32); }

TEST(Tile2d, RandomOperationsN4) { random_ops<Vtile_2d_n4>(4, false, 20000, 41); }
TEST(Tile2d, RandomOperationsN4Fp16) { random_ops<Vtile_2d_n4_fp16>(4, true, 10000, 42); }
TEST(Tile2d, BackToBackGemmsN8WithBubblesAndStalls) { back_to_back<Vtile_2d_n8>(8, true, 34); }
TEST(Tile2d, RandomOperationsN8) { random_ops<Vtile_2d_n8>(8, false, 4000, 45); }
TEST(Tile2d, RandomOperationsN1) { random_ops<Vtile_2d_n1>(1, false, 10000, 43); }

// An exp blocks the input for its length; a column result comes 2N - 1 cycles after issue.
TEST(Tile2d, OperationTiming) {
  Tile<Vtile_2d_n4> tile(4, false);
  tile.push(Input{kOpExp, false, 0, {}, {}, {}});
  tile.push(Input{kOpColSum, false, 0, {}, {}, {}});
  tile.push(Input{kOpSubExp, false, 0, {}, {}, {}});
  tile.push(Input{kOpColMax, false, 0, {}, {}, {}});
  tile.push(Input{kOpColDot, false, 0, {}, {}, {}});
  tile.run(3);
  ASSERT_EQ(tile.outputs().size(), 3u);
  // inputs in cycles 0, 8, 9, 18, 19
  EXPECT_EQ(tile.outputs()[0].cycle - tile.first_input_cycle(), 8 + 7);
  EXPECT_EQ(tile.outputs()[1].cycle - tile.first_input_cycle(), 18 + 7);
  EXPECT_EQ(tile.outputs()[2].cycle - tile.first_input_cycle(), 19 + 7);
}

// The tile's part of FuseMax's 1-pass cascade for one M0 x P tile (rows m0, columns p):
//   BQK[m0, p] = sum_e K[e, m0] * Q[e, p]          OpMac x E, then OpNarrow (stored bf16)
//   LM[p]      = max(m0: BQK[m0, p])               OpColMax
//   SLN        = exp(BQK - RM[p])                  OpSubExp (x = RM), then OpNarrow
//   SLD[p]     = sum_m0 SLN[m0, p]                 OpColSum
//   SLNV[f, p] = sum_m0 SLN[m0, p] * V[f, m0]      OpColDot with a = V[f, .], f = 0..F-1
// against loops over the Einsums in the executor's rounding order.
TEST(Tile2d, FuseMaxTileSequence) {
  constexpr int n = 4, e_len = 24, f_len = 6;
  Rng rng(51);
  Tile<Vtile_2d_n4> tile(n, false);
  std::vector<std::vector<uint16_t>> q(e_len, std::vector<uint16_t>(n)), k(e_len, std::vector<uint16_t>(n)),
      v(f_len, std::vector<uint16_t>(n));
  for (auto* t : {&q, &k, &v})
    for (auto& row : *t)
      for (auto& x : row) x = static_cast<uint16_t>((rng.next() & 0x807F) | ((122 + rng.next() % 8) << 7));
  std::vector<uint32_t> rm(n);  // a running max from earlier tiles (bf16 values)
  for (auto& x : rm) x = widen_golden(static_cast<uint16_t>((rng.next() & 0x7F) | (129 << 7)), false);

  for (int s = 0; s < e_len; ++s) tile.push(Input{kOpMac, s == 0, 0, k[s], q[s], {}});
  tile.push(Input{kOpNarrow, false, 0, {}, {}, {}});
  tile.push(Input{kOpColMax, false, 0, {}, {}, {}});
  tile.push(Input{kOpSubExp, false, 0, {}, {}, rm});
  tile.push(Input{kOpNarrow, false, 0, {}, {}, {}});
  tile.push(Input{kOpColSum, false, 0, {}, {}, {}});
  for (int f = 0; f < f_len; ++f) tile.push(Input{kOpColDot, false, 0, v[f], {}, {}});
  tile.run(2 + f_len);
  ASSERT_EQ(tile.outputs().size(), static_cast<size_t>(2 + f_len));

  auto val = [](uint16_t h) { return storage_value(h, false); };
  auto bf16 = [](double x) { return round_as<NumberFormat::BF16>(x); };
  auto fp32 = [](double x) { return round_as<NumberFormat::FP32>(x); };
  std::vector<std::vector<double>> bqk(n, std::vector<double>(n)), sln(n, std::vector<double>(n));
  std::vector<double> lm(n), sld(n);
  for (int m = 0; m < n; ++m)
    for (int p = 0; p < n; ++p) {
      double acc = 0.0;
      for (int s = 0; s < e_len; ++s) acc = fp32(acc + fp32(val(q[s][p]) * val(k[s][m])));
      bqk[m][p] = bf16(acc);
    }
  for (int p = 0; p < n; ++p) {
    double mx = -INFINITY, sum = 0.0;
    for (int m = 0; m < n; ++m) mx = bqk[m][p] > mx ? bqk[m][p] : mx;  // no NaNs here
    lm[p] = mx;
    for (int m = 0; m < n; ++m) {
      sln[m][p] = bf16(hardware_exp_as<NumberFormat::FP32>(fp32(bqk[m][p] - f32(rm[p]))));
      sum = fp32(sum + sln[m][p]);
    }
    sld[p] = sum;
  }
  for (int p = 0; p < n; ++p) {
    EXPECT_EQ(tile.outputs()[0].y[p], bits_of(lm[p])) << "LM " << p;
    EXPECT_EQ(tile.outputs()[1].y[p], bits_of(sld[p])) << "SLD " << p;
    for (int f = 0; f < f_len; ++f) {
      double acc = 0.0;
      for (int m = 0; m < n; ++m) acc = fp32(acc + fp32(sln[m][p] * val(v[f][m])));
      EXPECT_EQ(tile.outputs()[2 + f].y[p], bits_of(acc)) << "SLNV " << f << " " << p;
    }
  }
}

}  // namespace
}  // namespace cascade::rtl_test
