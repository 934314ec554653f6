// The Verilated N x N systolic tile (hdl/tile_2d.sv), N = 1, 4 and 8 (bf16) and 4 (fp16);
// N = 16 in test_tile_2d_n16 (unless built with CASCADE_RTL_TILE16=OFF). Built twice: with
// the PEs in loops (test_tile_2d, also cut into bands of rows: N = 8 in 2 bands, N = 4 in
// 4) and with N x N pe_2d instances (test_tile_2d_instances), so the two descriptions of
// the tile meet the same golden model.
//  - K-long GEMMs (K = 1..300) bit for bit equal to a C++ loop doing
//    acc = round(round(a * b) + acc) in ascending k from +0, and their cycle counts from the
//    first input to the last output equal to the documented closed form K + 3N - 1 (row r
//    of C in cycle K + 2N - 1 + r);
//  - back-to-back GEMMs, bubbles on the input and stalls on the output;
//  - random streams of every operation against a golden tile of golden PEs;
//  - the FuseMax 1-pass tile sequence (BQK, narrow, LM, exp(BQK - m), SLD, SLN V) against
//    loops written from the cascade's Einsums, one tile and many, the later tiles' BQK
//    running ahead while earlier tiles wait in the PEs' register files;
//  - weight-stationary folds (weights through the chains, OpWsDot, partial sums from the
//    buffer), serialized and overlapped, against the MAC loop and the documented schedule;
//  - output-stationary folds through the drain, serialized and overlapped, likewise;
//  - both drains with random stalls (out_ready_i low): each result once, bit for bit, on
//    schedule in the cycles the tile did not stall.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>

#include "Vtile_2d_n1.h"
#include "Vtile_2d_n4.h"
#include "Vtile_2d_n8.h"
#include "Vtile_2d_n4_fp16.h"
#ifdef CASCADE_TILE_BANDS
#include "Vtile_2d_n4_bands4.h"
#include "Vtile_2d_n8_bands2.h"
#endif
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

#ifdef CASCADE_TILE_BANDS
// The loops cut into bands of rows (the threaded 16 x 16 build's layout): a band's north edge
// is the band above's bottom row, OpReadRow's row numbers run on across bands.
TEST(Tile2d, GemmN8TwoBands) { gemms<Vtile_2d_n8_bands2>(8, false, ks_all(12, 4), 25); }
TEST(Tile2d, RandomOperationsN8TwoBands) { random_ops<Vtile_2d_n8_bands2>(8, false, 4000, 46); }
TEST(Tile2d, RandomOperationsN4FourBands) { random_ops<Vtile_2d_n4_bands4>(4, false, 20000, 47); }
TEST(Tile2d, BackToBackGemmsN4FourBandsWithBubblesAndStalls) {
  back_to_back<Vtile_2d_n4_bands4>(4, true, 35);
}
#endif

// Weight stationary, F folds of R weight rows (R <= N) on all N columns, T streamed rows each,
// the beats scheduled as the per-PE model's feeder does (sim/systemc/systolic.h): a fold's
// R weight rows (bottom row first; wlast on the R-th), then its T OpWsDot (sel = {i == 0,
// R - 1}); overlapped, the next fold's loads start max(T, R) - R cycles after this fold's
// stream, else in the cycle this fold's last result is on the drain. With `psum`, every row
// starts from a partial sum. Result (fold f, row i, column j) must be on drain_y_o[j] with
// drain_row_o = R - 1 in cycle stream_f + i + R + j (hdl/README.md) and equal the loop
// acc = round(acc + round(A[i][r] * W[r][j])) over r ascending from the partial sum (or +0).
// With `stall_seed`, out_ready_i is low in a random third of the cycles: every stall holds
// the tile, so the schedule holds in the cycles it did not stall (the driver's ecycle).
template <class Model>
void weight_stationary(int n, int R, int T, int F, bool overlap, bool psum, uint64_t seed,
                       uint64_t stall_seed = 0) {
  Rng rng(seed);
  struct Fold {
    std::vector<std::vector<uint16_t>> w, a;  // w[r][j], a[i][r]
    std::vector<std::vector<uint32_t>> p;     // p[i][j]
  };
  std::vector<Fold> folds(F);
  for (Fold& f : folds) {
    f.w.assign(R, std::vector<uint16_t>(n));
    f.a.assign(T, std::vector<uint16_t>(R));
    f.p.assign(T, std::vector<uint32_t>(n, 0));
    for (auto& row : f.w) for (auto& v : row) v = random_storage(rng, false);
    for (auto& row : f.a) for (auto& v : row) v = random_storage(rng, false);
    if (psum)
      for (auto& row : f.p) for (auto& v : row) v = rng.next() % 8 ? bits_of(-4.0 + 8.0 * (rng.next() >> 11) * 0x1p-53) : random_fp32(rng);
  }
  std::vector<long> load(F), stream(F);
  for (int f = 0; f < F; ++f) {
    load[f] = f == 0 ? 0 : overlap ? stream[f - 1] + std::max(T, R) - R : stream[f - 1] + T - 1 + R + n - 1;
    stream[f] = load[f] + R;
  }
  Tile<Model> tile(n, false);
  for (long c = 0; c < stream[F - 1] + T; ++c) {
    Input in;
    in.a.assign(n, 0);
    in.b.assign(n, 0);
    in.psum.assign(n, 0);
    for (int f = 0; f < F; ++f) {
      if (c >= load[f] && c < load[f] + R) {
        const long step = c - load[f];
        in.wload = true;
        in.wlast = step == R - 1;
        in.b = folds[f].w[R - 1 - step];
      }
      if (c >= stream[f] && c < stream[f] + T) {
        const long i = c - stream[f];
        in.op = kOpWsDot;
        in.flag = psum;
        in.sel = (i == 0 ? 0x80 : 0) | (R - 1);
        for (int r = 0; r < R; ++r) in.a[r] = folds[f].a[i][r];
        in.psum = folds[f].p[i];
      }
    }
    tile.push(in);
  }
  const size_t results = static_cast<size_t>(F) * T * n;
  Rng stalls(stall_seed);
  tile.run(0, nullptr, stall_seed ? &stalls : nullptr, results);
  ASSERT_EQ(tile.drained().size(), results);
  if (stall_seed) EXPECT_GT(tile.stall_cycles(), static_cast<long>(F) * T / 4);
  long bad = 0;
  std::vector<int> seen(results, 0);
  for (const DrainOutput& d : tile.drained()) {
    const long t = d.ecycle - tile.first_input_ecycle() - R - d.col;  // stream_f + i
    int f = F - 1;
    while (f > 0 && t < stream[f]) --f;
    const long i = t - stream[f];
    ASSERT_TRUE(i >= 0 && i < T) << "a result in cycle " << d.cycle << " of column " << d.col;
    EXPECT_EQ(d.row, R - 1);
    ++seen[(static_cast<size_t>(f) * T + i) * n + d.col];
    float acc = std::bit_cast<float>(folds[f].p[i][d.col]);
    for (int r = 0; r < R; ++r)
      acc = acc + static_cast<float>(storage_value(folds[f].a[i][r], false)) *
                      static_cast<float>(storage_value(folds[f].w[r][d.col], false));
    if (!same_result(d.y, float_to_bits(acc)) && ++bad <= 5)
      ADD_FAILURE() << "fold " << f << " row " << i << " column " << d.col << std::hex << ": rtl " << d.y
                    << ", golden " << float_to_bits(acc);
  }
  EXPECT_EQ(bad, 0);
  for (size_t x = 0; x < results; ++x) EXPECT_EQ(seen[x], 1) << "result " << x << " on time";
}
// The output-stationary drain (hdl/README.md, "The output-stationary drain"): F folds of K
// OpMacs on R rows and C columns (the other rows' and columns' operands +0), the last step
// with sel = {1, R - 1}; fold f starts in cycle s_f, s_{f+1} = s_f + max(K, R) overlapped, else
// s_f + 2R + C + K - 2 (after the fold's last result). C[r][j] of fold f must leave on
// drain_y_o[j] with drain_row_o = r in cycle s_f + K + 2R - 2 + j - r, equal to the loop
// acc = round(round(A[r][k] * B[k][j]) + acc) over k ascending from +0; every column drains
// R rows. With `stall_seed` as weight_stationary's: the same in the cycles without a stall.
template <class Model>
void output_stationary_drain(int n, int R, int C, int K, int F, bool overlap, uint64_t seed,
                             uint64_t stall_seed = 0) {
  Rng rng(seed);
  std::vector<std::vector<std::vector<uint16_t>>> a(F), b(F);  // a[f][i][k], b[f][k][j]
  for (int f = 0; f < F; ++f) {
    a[f].assign(n, std::vector<uint16_t>(K, 0));
    b[f].assign(K, std::vector<uint16_t>(n, 0));
    for (int i = 0; i < R; ++i) for (int k = 0; k < K; ++k) a[f][i][k] = random_storage(rng, false);
    for (int k = 0; k < K; ++k) for (int j = 0; j < C; ++j) b[f][k][j] = random_storage(rng, false);
  }
  std::vector<long> start(F, 0);
  for (int f = 1; f < F; ++f) start[f] = start[f - 1] + (overlap ? std::max(K, R) : 2 * R + C + K - 2);
  Tile<Model> tile(n, false);
  for (long c = 0; c < start[F - 1] + K; ++c) {
    Input in;
    in.a.assign(n, 0);
    in.b.assign(n, 0);
    for (int f = 0; f < F; ++f) {
      if (c < start[f] || c >= start[f] + K) continue;
      const int k = static_cast<int>(c - start[f]);
      in.op = kOpMac;
      in.flag = k == 0;
      in.sel = k == K - 1 ? 0x80 | (R - 1) : 0;
      for (int i = 0; i < n; ++i) in.a[i] = a[f][i][k];
      in.b = b[f][k];
    }
    tile.push(in);
  }
  const size_t results = static_cast<size_t>(F) * R * n;
  Rng stalls(stall_seed);
  tile.run(0, nullptr, stall_seed ? &stalls : nullptr, results);
  ASSERT_EQ(tile.drained().size(), results);
  if (stall_seed) EXPECT_GT(tile.stall_cycles(), static_cast<long>(F) * R / 4);
  long bad = 0;
  std::vector<int> seen(results, 0);
  for (const DrainOutput& d : tile.drained()) {
    ASSERT_TRUE(d.row >= 0 && d.row < R) << "row " << d.row << " in cycle " << d.cycle;
    const long s = d.ecycle - tile.first_input_ecycle() - (K + 2 * R - 2 + d.col - d.row);
    const int f = static_cast<int>(std::find(start.begin(), start.end(), s) - start.begin());
    ASSERT_LT(f, F) << "C[" << d.row << "][" << d.col << "] off schedule in cycle " << d.cycle;
    ++seen[(static_cast<size_t>(f) * R + d.row) * n + d.col];
    float acc = 0.0f;
    for (int k = 0; k < K; ++k)
      acc = static_cast<float>(storage_value(a[f][d.row][k], false)) *
                static_cast<float>(storage_value(b[f][k][d.col], false)) + acc;
    if (!same_result(d.y, float_to_bits(acc)) && ++bad <= 5)
      ADD_FAILURE() << "fold " << f << " C[" << d.row << "][" << d.col << "]" << std::hex << ": rtl "
                    << d.y << ", golden " << float_to_bits(acc);
  }
  EXPECT_EQ(bad, 0);
  for (size_t x = 0; x < results; ++x) EXPECT_EQ(seen[x], 1) << "result " << x << " once, on time";
}

TEST(Tile2d, OutputStationaryDrainSerialized) { output_stationary_drain<Vtile_2d_n4>(4, 4, 4, 9, 3, false, 91); }
TEST(Tile2d, OutputStationaryDrainOverlapped) { output_stationary_drain<Vtile_2d_n4>(4, 3, 2, 5, 4, true, 92); }
TEST(Tile2d, OutputStationaryDrainWithStalls) { output_stationary_drain<Vtile_2d_n4>(4, 4, 3, 6, 4, true, 93, 94); }
TEST(Tile2d, OutputStationaryDrainN8WithStalls) { output_stationary_drain<Vtile_2d_n8>(8, 8, 5, 3, 3, true, 95, 96); }

TEST(Tile2d, WeightStationarySerialized) { weight_stationary<Vtile_2d_n4>(4, 4, 7, 3, false, false, 71); }
TEST(Tile2d, WeightStationaryOverlapped) { weight_stationary<Vtile_2d_n4>(4, 4, 7, 4, true, true, 72); }
TEST(Tile2d, WeightStationaryOverlappedShortStream) { weight_stationary<Vtile_2d_n4>(4, 4, 2, 5, true, true, 73); }
TEST(Tile2d, WeightStationaryOverlappedStreamOfR) { weight_stationary<Vtile_2d_n4>(4, 4, 4, 4, true, false, 74); }
TEST(Tile2d, WeightStationaryFewerRows) { weight_stationary<Vtile_2d_n4>(4, 3, 5, 3, true, true, 75); }
TEST(Tile2d, WeightStationaryN8) { weight_stationary<Vtile_2d_n8>(8, 8, 11, 3, true, true, 76); }
TEST(Tile2d, WeightStationaryN1) { weight_stationary<Vtile_2d_n1>(1, 1, 6, 3, true, true, 77); }
TEST(Tile2d, WeightStationaryWithStalls) { weight_stationary<Vtile_2d_n4>(4, 4, 7, 4, true, true, 78, 79); }
TEST(Tile2d, WeightStationaryN8WithStalls) { weight_stationary<Vtile_2d_n8>(8, 6, 9, 3, false, true, 80, 81); }

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

// The tile's part of FuseMax's 1-pass cascade for M1 tiles of M0 x P (rows m0, columns p):
//   BQK[m0, p] = sum_e K[e, m0] * Q[e, p]          OpMac x E, then OpNarrow into entry t
//   LM[p]      = max(m0: BQK[m0, p])               OpColMax on entry t
//   SLN        = exp(BQK - RM[p])                  OpSubExp on entry t (x = RM), OpNarrow into t
//   SLD[p]     = sum_m0 SLN[m0, p]                 OpColSum on entry t
//   SLNV[f, p] = sum_m0 SLN[m0, p] * V[f, m0]      OpColDot on entry t, a = V[f, .], f < F
// in the cycle model's order: BQK and LM of tile m1 + `ahead` run before SLN, SLD and SLNV
// of tile m1 (the 2D array runs ahead while tile m1 waits for the 1D array's running max
// RM[m1] = max(RM[m1 - 1], LM[m1])), each tile resident in entry t = m1 mod 16 from its BQK
// to its SLNV while later tiles accumulate in acc. Against loops over the Einsums in the
// executor's rounding order.
template <class Model>
void fusemax_tiles(int n, int tiles, int ahead, uint64_t seed) {
  constexpr int e_len = 24, f_len = 6;
  Rng rng(seed);
  Tile<Model> tile(n, false);
  using Rows = std::vector<std::vector<uint16_t>>;
  auto random_rows = [&](int count) {
    Rows rows(count, std::vector<uint16_t>(n));
    for (auto& row : rows)
      for (auto& x : row) x = static_cast<uint16_t>((rng.next() & 0x807F) | ((122 + rng.next() % 8) << 7));
    return rows;
  };
  const Rows q = random_rows(e_len);
  std::vector<Rows> k, v;
  for (int t = 0; t < tiles; ++t) k.push_back(random_rows(e_len)), v.push_back(random_rows(f_len));

  auto val = [](uint16_t h) { return storage_value(h, false); };
  auto bf16 = [](double x) { return round_as<NumberFormat::BF16>(x); };
  auto fp32 = [](double x) { return round_as<NumberFormat::FP32>(x); };
  using Tile2 = std::vector<std::vector<double>>;
  std::vector<std::vector<double>> lm(tiles, std::vector<double>(n)), rm = lm, sld = lm;
  std::vector<Tile2> slnv(tiles, Tile2(f_len, std::vector<double>(n)));
  for (int t = 0; t < tiles; ++t) {
    Tile2 bqk(n, std::vector<double>(n)), sln = bqk;
    for (int m = 0; m < n; ++m)
      for (int p = 0; p < n; ++p) {
        double acc = 0.0;
        for (int s = 0; s < e_len; ++s) acc = fp32(acc + fp32(val(q[s][p]) * val(k[t][s][m])));
        bqk[m][p] = bf16(acc);
      }
    for (int p = 0; p < n; ++p) {
      double mx = -INFINITY, sum = 0.0;
      for (int m = 0; m < n; ++m) mx = bqk[m][p] > mx ? bqk[m][p] : mx;  // no NaNs here
      lm[t][p] = mx;
      rm[t][p] = t == 0 ? mx : std::max(rm[t - 1][p], mx);
      for (int m = 0; m < n; ++m) {
        sln[m][p] = bf16(hardware_exp_as<NumberFormat::FP32>(fp32(bqk[m][p] - rm[t][p])));
        sum = fp32(sum + sln[m][p]);
      }
      sld[t][p] = sum;
      for (int f = 0; f < f_len; ++f) {
        double acc = 0.0;
        for (int m = 0; m < n; ++m) acc = fp32(acc + fp32(sln[m][p] * val(v[t][f][m])));
        slnv[t][f][p] = acc;
      }
    }
  }

  // The operations in the cycle model's order, and the column results they leave.
  std::vector<std::vector<double>> expected;
  auto op = [&](uint8_t code, bool flag, int entry) {
    Input in{code, flag, 0, {}, {}, {}};
    in.entry = entry;
    return in;
  };
  auto front = [&](int t) {  // BQK, stored; LM
    for (int s = 0; s < e_len; ++s) tile.push(Input{kOpMac, s == 0, 0, k[t][s], q[s], {}});
    tile.push(op(kOpNarrow, true, t % kPeEntries));
    tile.push(op(kOpColMax, true, t % kPeEntries));
    expected.push_back(lm[t]);
  };
  auto back = [&](int t) {  // SLN, stored over BQK; SLD; SLNV
    Input sub = op(kOpSubExp, true, t % kPeEntries);
    for (int p = 0; p < n; ++p) sub.x.push_back(bits_of(rm[t][p]));
    tile.push(sub);
    tile.push(op(kOpNarrow, true, t % kPeEntries));
    tile.push(op(kOpColSum, true, t % kPeEntries));
    expected.push_back(sld[t]);
    for (int f = 0; f < f_len; ++f) {
      Input dot = op(kOpColDot, true, t % kPeEntries);
      dot.a = v[t][f];
      tile.push(dot);
      expected.push_back(slnv[t][f]);
    }
  };
  for (int t = 0; t <= ahead && t < tiles; ++t) front(t);
  for (int t = 0; t < tiles; ++t) {
    back(t);
    if (t + ahead + 1 < tiles) front(t + ahead + 1);
  }
  tile.run(expected.size());
  ASSERT_EQ(tile.outputs().size(), expected.size());
  long bad = 0;
  for (size_t o = 0; o < expected.size(); ++o)
    for (int p = 0; p < n; ++p)
      if (tile.outputs()[o].y[p] != bits_of(expected[o][p]) && ++bad <= 5)
        ADD_FAILURE() << "output " << o << " column " << p << std::hex << ": rtl "
                      << tile.outputs()[o].y[p] << ", golden " << bits_of(expected[o][p]);
  EXPECT_EQ(bad, 0) << "of " << expected.size() * n;
}

TEST(Tile2d, FuseMaxTileSequence) { fusemax_tiles<Vtile_2d_n4>(4, 1, 0, 51); }
// Tile m1 + 1's BQK overwrites acc before tile m1's SLN: only the register file keeps BQK.
TEST(Tile2d, FuseMaxTilesOneAhead) { fusemax_tiles<Vtile_2d_n4>(4, 12, 1, 52); }
// 40 tiles, 15 ahead: all 16 entries in use, each reused by tile m1 + 16.
TEST(Tile2d, FuseMaxTilesFifteenAheadN8) { fusemax_tiles<Vtile_2d_n8>(8, 40, 15, 53); }

}  // namespace
}  // namespace cascade::rtl_test
