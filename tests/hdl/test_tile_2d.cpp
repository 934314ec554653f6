// The Verilated N x N systolic tile (hdl/tile_2d.sv), N = 1, 4 and 16 (bf16) and 4 (fp16):
//  - K-long GEMMs (K = 1..300) bit for bit equal to a C++ loop doing
//    acc = round(round(a * b) + acc) in ascending k from +0, and their cycle counts from the
//    first input to the last output equal to the documented closed form K + 3N (row r of C
//    in cycle K + 2N + r);
//  - back-to-back GEMMs, bubbles on the input and stalls on the output;
//  - random streams of every operation against a golden tile of golden PEs;
//  - the FuseMax 1-pass tile sequence (BQK, narrow, LM, exp(BQK - m), SLD, SLN V) against
//    loops written from the cascade's Einsums.
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <type_traits>
#include <vector>

#include "Vtile_2d_n1.h"
#include "Vtile_2d_n16.h"
#include "Vtile_2d_n4.h"
#include "Vtile_2d_n4_fp16.h"
#include "tests/hdl/pe_golden.h"

namespace cascade::rtl_test {
namespace {

// Element `index` (of `width` bits) of a packed Verilator port: an integer or a VlWide.
template <class Port>
void set_element(Port& port, int index, int width, uint32_t value) {
  const uint64_t mask = (uint64_t{1} << width) - 1;
  if constexpr (std::is_integral_v<Port>) {
    const int shift = index * width;
    port = static_cast<Port>((port & ~(static_cast<Port>(mask) << shift)) |
                             (static_cast<Port>(value & mask) << shift));
  } else {
    const int bit = index * width, word = bit / 32, shift = bit % 32;
    port[word] = (port[word] & ~static_cast<uint32_t>(mask << shift)) |
                 static_cast<uint32_t>((value & mask) << shift);
  }
}
template <class Port>
uint32_t get_element(const Port& port, int index, int width) {
  const uint64_t mask = (uint64_t{1} << width) - 1;
  if constexpr (std::is_integral_v<Port>) {
    return static_cast<uint32_t>((static_cast<uint64_t>(port) >> (index * width)) & mask);
  } else {
    const int bit = index * width;
    return static_cast<uint32_t>((port[bit / 32] >> (bit % 32)) & mask);
  }
}

struct Input {
  uint8_t op = kOpNop;
  bool flag = false;
  int sel = 0;
  std::vector<uint16_t> a, b;  // storage format
  std::vector<uint32_t> x;     // fp32
};
struct Output {
  uint8_t op;
  int sel;
  std::vector<uint32_t> y;
  long cycle;
};

// Drives a tile: a queue of inputs offered in order (with optional random bubbles), the
// outputs taken (with optional random stalls), every handshake cycle recorded.
template <class Model>
class Tile {
 public:
  Tile(int n, bool fp16) : n_(n), fp16_(fp16) {
    m_.clk_i = 0;
    m_.rst_ni = 0;
    m_.in_valid_i = 0;
    m_.out_ready_i = 1;
    m_.eval();
    m_.rst_ni = 1;
    m_.eval();
  }
  void push(Input in) {
    in.a.resize(n_);
    in.b.resize(n_);
    in.x.resize(n_);
    queue_.push_back(std::move(in));
  }
  // Runs until every input went in and `outputs` outputs came out (or a cycle limit).
  void run(size_t outputs, Rng* bubbles = nullptr, Rng* stalls = nullptr) {
    long limit = cycle_ + 100000;
    while ((!queue_.empty() || out_.size() < outputs) && cycle_ < limit) {
      const bool offer = !queue_.empty() && !(bubbles && bubbles->next() % 3 == 0);
      m_.in_valid_i = offer;
      if (offer) {
        const Input& in = queue_.front();
        m_.in_op_i = in.op;
        m_.in_flag_i = in.flag;
        m_.in_sel_i = static_cast<uint8_t>(in.sel);
        for (int k = 0; k < n_; ++k) {
          set_element(m_.in_a_i, k, 16, in.a[k]);
          set_element(m_.in_b_i, k, 16, in.b[k]);
          set_element(m_.in_x_i, k, 32, in.x[k]);
        }
      }
      m_.out_ready_i = !(stalls && stalls->next() % 3 == 0);
      m_.eval();
      const bool fire_in = offer && m_.in_ready_o;
      if (m_.out_valid_o && m_.out_ready_i) {
        Output o{m_.out_op_o, m_.out_sel_o, std::vector<uint32_t>(n_), cycle_};
        for (int k = 0; k < n_; ++k) o.y[k] = get_element(m_.out_y_o, k, 32);
        out_.push_back(std::move(o));
      }
      if (fire_in) {
        if (first_in_ < 0) first_in_ = cycle_;
        queue_.pop_front();
      }
      m_.clk_i = 1;
      m_.eval();
      m_.clk_i = 0;
      m_.eval();
      ++cycle_;
    }
    m_.in_valid_i = 0;
    ASSERT_LT(cycle_, limit) << "tile hung";
  }
  std::vector<Output>& outputs() { return out_; }
  long first_input_cycle() const { return first_in_; }
  long cycles() const { return cycle_; }
  int n() const { return n_; }
  bool fp16() const { return fp16_; }
  void clear() {
    out_.clear();
    first_in_ = -1;
  }

 private:
  Model m_;
  int n_;
  bool fp16_;
  std::deque<Input> queue_;
  std::vector<Output> out_;
  long cycle_ = 0, first_in_ = -1;
};

// Random storage-format operands: finite, moderate (sums of hundreds stay finite and
// interesting), now and then a special value or a subnormal.
uint16_t random_storage(Rng& rng, bool fp16) {
  const uint64_t r = rng.next();
  const uint16_t sign = static_cast<uint16_t>((r >> 63) << 15);
  if (r % 50 == 0) {
    static const uint16_t kBf[] = {0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0x0001, 0x007F};
    static const uint16_t kHf[] = {0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0x0001, 0x03FF};
    return fp16 ? kHf[(r >> 8) % 7] : kBf[(r >> 8) % 7];
  }
  if (fp16) return static_cast<uint16_t>(sign | ((8 + (r >> 8) % 14) << 10) | ((r >> 20) & 0x3FF));
  return static_cast<uint16_t>(sign | ((110 + (r >> 8) % 30) << 7) | ((r >> 20) & 0x7F));
}

// One GEMM: A (N x K) and B (K x N) as storage patterns; issues K MACs and N row reads.
struct Gemm {
  int n, k;
  std::vector<std::vector<uint16_t>> a, b;  // a[i][k], b[k][j]
  Gemm(int n_, int k_, Rng& rng, bool fp16) : n(n_), k(k_), a(n_, std::vector<uint16_t>(k_)), b(k_, std::vector<uint16_t>(n_)) {
    for (auto& row : a) for (auto& v : row) v = random_storage(rng, fp16);
    for (auto& row : b) for (auto& v : row) v = random_storage(rng, fp16);
  }
  template <class Model>
  void issue(Tile<Model>& tile) const {
    for (int s = 0; s < k; ++s) {
      Input in{kOpMac, s == 0, 0, {}, {}, {}};
      for (int i = 0; i < n; ++i) in.a.push_back(a[i][s]);
      for (int j = 0; j < n; ++j) in.b.push_back(b[s][j]);
      tile.push(in);
    }
    for (int r = 0; r < n; ++r) tile.push(Input{kOpReadRow, false, r, {}, {}, {}});
  }
  // acc = round(round(a * b) + acc), ascending k, from +0.
  std::vector<std::vector<uint32_t>> golden(bool fp16) const {
    std::vector<std::vector<uint32_t>> c(n, std::vector<uint32_t>(n));
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        float acc = 0.0f;
        for (int s = 0; s < k; ++s) {
          const float product = static_cast<float>(storage_value(a[i][s], fp16)) *
                                static_cast<float>(storage_value(b[s][j], fp16));
          acc = acc + product;
        }
        c[i][j] = float_to_bits(acc);
      }
    return c;
  }
};

// Compares N row reads (outputs[first..first+N)) with C; returns mismatches.
long compare_rows(const std::vector<Output>& out, size_t first, const std::vector<std::vector<uint32_t>>& c) {
  long bad = 0;
  const int n = static_cast<int>(c.size());
  for (int r = 0; r < n; ++r) {
    const Output& o = out.at(first + r);
    EXPECT_EQ(o.op, kOpReadRow);
    EXPECT_EQ(o.sel, r);
    for (int j = 0; j < n; ++j)
      if (!same_result(o.y[j], c[r][j]) && ++bad <= 5)
        ADD_FAILURE() << "C[" << r << "][" << j << "]" << std::hex << ": rtl " << o.y[j] << ", golden " << c[r][j];
  }
  return bad;
}

template <class Model>
void gemms(int n, bool fp16, const std::vector<int>& ks, uint64_t seed) {
  Rng rng(seed);
  for (int k : ks) {
    Tile<Model> tile(n, fp16);
    Gemm g(n, k, rng, fp16);
    g.issue(tile);
    tile.run(n);
    ASSERT_EQ(tile.outputs().size(), static_cast<size_t>(n));
    EXPECT_EQ(compare_rows(tile.outputs(), 0, g.golden(fp16)), 0) << "N=" << n << " K=" << k;
    // the schedule: row r leaves in cycle K + 2N + r after the first input
    for (int r = 0; r < n; ++r)
      EXPECT_EQ(tile.outputs()[r].cycle - tile.first_input_cycle(), k + 2 * n + r) << "K=" << k;
    EXPECT_EQ(tile.outputs().back().cycle - tile.first_input_cycle() + 1, k + 3 * n)
        << "cycles from first input to last output, N=" << n << " K=" << k;
  }
}

std::vector<int> ks_all(int count, uint64_t seed) {
  std::vector<int> ks = {1, 2, 3, 300};
  Rng rng(seed);
  while (static_cast<int>(ks.size()) < count) ks.push_back(1 + static_cast<int>(rng.next() % 300));
  return ks;
}

TEST(Tile2d, GemmN1) { gemms<Vtile_2d_n1>(1, false, ks_all(20, 1), 21); }
TEST(Tile2d, GemmN4) { gemms<Vtile_2d_n4>(4, false, ks_all(60, 2), 22); }
TEST(Tile2d, GemmN4Fp16) { gemms<Vtile_2d_n4_fp16>(4, true, ks_all(30, 3), 23); }
TEST(Tile2d, GemmN16) { gemms<Vtile_2d_n16>(16, false, {1, 2, 16, 77, 300}, 24); }

// GEMMs back to back (the next one's MACs right after the previous one's row reads), with
// random input bubbles and output stalls: the same values; without them the stream takes
// sum(K + N) + 2N cycles.
template <class Model>
void back_to_back(int n, bool random_timing, uint64_t seed) {
  Rng rng(seed), bubbles(seed + 1), stalls(seed + 2);
  Tile<Model> tile(n, false);
  std::vector<Gemm> gs;
  long expected = 2 * n;
  for (int g = 0; g < 6; ++g) {
    gs.emplace_back(n, 1 + static_cast<int>(rng.next() % 40), rng, false);
    gs.back().issue(tile);
    expected += gs.back().k + n;
  }
  tile.run(6 * n, random_timing ? &bubbles : nullptr, random_timing ? &stalls : nullptr);
  ASSERT_EQ(tile.outputs().size(), static_cast<size_t>(6 * n));
  for (int g = 0; g < 6; ++g) EXPECT_EQ(compare_rows(tile.outputs(), g * n, gs[g].golden(false)), 0);
  if (!random_timing) EXPECT_EQ(tile.outputs().back().cycle - tile.first_input_cycle() + 1, expected);
}
TEST(Tile2d, BackToBackGemms) { back_to_back<Vtile_2d_n4>(4, false, 31); }
TEST(Tile2d, BackToBackGemmsWithBubblesAndStalls) { back_to_back<Vtile_2d_n4>(4, true, 32); }
TEST(Tile2d, BackToBackGemmsN16WithBubblesAndStalls) { back_to_back<Vtile_2d_n16>(16, true, 33); }

// Random streams of every operation against a golden tile (one golden PE per position;
// every PE sees the operations in issue order, so applying them in order is the model).
template <class Model>
void random_ops(int n, bool fp16, int count, uint64_t seed) {
  Rng rng(seed), bubbles(seed + 1), stalls(seed + 2);
  Tile<Model> tile(n, fp16);
  std::vector<std::vector<PeGolden>> pe(n, std::vector<PeGolden>(n, PeGolden{fp16}));
  std::vector<Output> expected;
  static const uint8_t kOps[] = {kOpMac, kOpMac, kOpMac, kOpAdd, kOpMax, kOpExp, kOpSubExp, kOpNarrow,
                                 kOpLoad, kOpColSum, kOpColMax, kOpColDot, kOpReadRow, kOpNop};
  for (int c = 0; c < count; ++c) {
    Input in{kOps[rng.next() % std::size(kOps)], rng.next() % 4 == 0, static_cast<int>(rng.next() % (n + 1)), {}, {}, {}};
    for (int k = 0; k < n; ++k) {
      in.a.push_back(static_cast<uint16_t>(rng.next()));
      in.b.push_back(static_cast<uint16_t>(rng.next()));
      in.x.push_back(rng.next() % 2 ? random_fp32(rng) : bits_of(-20.0 + 40.0 * (rng.next() >> 11) * 0x1p-53));
    }
    Output o{in.op, in.sel, std::vector<uint32_t>(n), 0};
    for (int j = 0; j < n; ++j) {
      uint32_t b = 0;  // the north edge
      switch (in.op) {
        case kOpMac: b = widen_golden(in.b[j], fp16); break;
        case kOpAdd: case kOpMax: case kOpSubExp: case kOpLoad: b = in.x[j]; break;
        case kOpColMax: b = 0xFF800000u; break;
        default: b = 0;
      }
      for (int i = 0; i < n; ++i) b = pe[i][j].apply(in.op, in.flag, in.sel, i, widen_golden(in.a[i], fp16), b);
      o.y[j] = b;
    }
    if (is_column_op(in.op)) expected.push_back(o);
    tile.push(in);
  }
  for (int r = 0; r < n; ++r) {  // finally every accumulator
    tile.push(Input{kOpReadRow, false, r, {}, {}, {}});
    Output o{kOpReadRow, r, std::vector<uint32_t>(n), 0};
    for (int j = 0; j < n; ++j) o.y[j] = pe[r][j].acc;
    expected.push_back(o);
  }
  tile.run(expected.size(), &bubbles, &stalls);
  ASSERT_EQ(tile.outputs().size(), expected.size());
  long bad = 0;
  for (size_t k = 0; k < expected.size(); ++k) {
    const Output& got = tile.outputs()[k];
    EXPECT_EQ(got.op, expected[k].op) << k;
    if (got.op == kOpReadRow) EXPECT_EQ(got.sel, expected[k].sel) << k;
    for (int j = 0; j < n; ++j)
      if (!same_result(got.y[j], expected[k].y[j]) && ++bad <= 5)
        ADD_FAILURE() << "output " << k << " op " << int(got.op) << " column " << j << std::hex << ": rtl "
                      << got.y[j] << ", golden " << expected[k].y[j];
  }
  EXPECT_EQ(bad, 0);
}
TEST(Tile2d, RandomOperationsN4) { random_ops<Vtile_2d_n4>(4, false, 20000, 41); }
TEST(Tile2d, RandomOperationsN4Fp16) { random_ops<Vtile_2d_n4_fp16>(4, true, 10000, 42); }
TEST(Tile2d, RandomOperationsN1) { random_ops<Vtile_2d_n1>(1, false, 10000, 43); }
TEST(Tile2d, RandomOperationsN16) { random_ops<Vtile_2d_n16>(16, false, 1500, 44); }

// An exp blocks the input for its length; a column result comes 2N cycles after issue.
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
  EXPECT_EQ(tile.outputs()[0].cycle - tile.first_input_cycle(), 8 + 8);
  EXPECT_EQ(tile.outputs()[1].cycle - tile.first_input_cycle(), 18 + 8);
  EXPECT_EQ(tile.outputs()[2].cycle - tile.first_input_cycle(), 19 + 8);
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

// Verilated speed of the 16 x 16 tile in this plain C++ testbench (reported, not asserted).
TEST(Tile2d, SpeedN16) {
  Rng rng(61);
  Tile<Vtile_2d_n16> tile(16, false);
  Gemm g(16, 2000, rng, false);
  for (int rep = 0; rep < 5; ++rep) g.issue(tile);
  const auto start = std::chrono::steady_clock::now();
  tile.run(5 * 16);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(compare_rows(tile.outputs(), 64, g.golden(false)), 0);
  std::printf("16x16 tile: %ld cycles in %.3f s: %.0f cycles/s\n", tile.cycles(), s, tile.cycles() / s);
}

}  // namespace
}  // namespace cascade::rtl_test
