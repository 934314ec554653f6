// The testbench of the systolic tile (hdl/tile_2d.sv), shared by test_tile_2d (N = 1, 4)
// and test_tile_2d_n16: a driver with ready/valid on both sides (optional random bubbles
// and stalls, every handshake cycle recorded), GEMMs with their golden loop, and random
// operation streams against a golden tile of golden PEs.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <type_traits>
#include <vector>

#include "tests/hdl/pe_golden.h"

namespace cascade::rtl_test {

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
  std::vector<uint16_t> a, b;  // storage format (b: a weight row with wload)
  std::vector<uint32_t> x;     // fp32
  bool wload = false, wlast = false;
  std::vector<uint32_t> psum;  // fp32, per column: OpWsDot with flag starts from it
  int entry = 0;               // the PEs' register-file entry (pe_golden.h)
};
// A value the drain presented (output stationary: C[row][col]; weight stationary: the
// result of the fold's last row `row`). `cycle` counts every clock, `ecycle` only those
// the tile did not stall (its schedule's time: a stall holds every register).
struct DrainOutput {
  int col, row;
  uint32_t y;
  long cycle, ecycle;
};
struct Output {
  uint8_t op;
  int sel;
  std::vector<uint32_t> y;
  long cycle, ecycle;  // as DrainOutput's
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
    m_.in_wload_i = 0;
    m_.in_wlast_i = 0;
    m_.out_ready_i = 1;
    m_.eval();
    m_.rst_ni = 1;
    m_.eval();
  }
  void push(Input in) {
    in.a.resize(n_);
    in.b.resize(n_);
    in.x.resize(n_);
    in.psum.resize(n_);
    queue_.push_back(std::move(in));
  }
  // Runs until every input went in and `outputs` outputs came out (or `drained` values left
  // the drain), or a cycle limit. Each column reads the partial sums of the input accepted
  // `column` un-stalled cycles ago (when its operation reaches the column).
  void run(size_t outputs, Rng* bubbles = nullptr, Rng* stalls = nullptr, size_t drained = 0) {
    long limit = cycle_ + 100000;
    std::vector<std::vector<uint32_t>> accepted(n_, std::vector<uint32_t>(n_));  // psums by ecycle % n
    while ((!queue_.empty() || out_.size() < outputs || drain_.size() < drained) && cycle_ < limit) {
      const bool offer = !queue_.empty() && !(bubbles && bubbles->next() % 3 == 0);
      m_.in_valid_i = offer;
      if (offer) {
        const Input& in = queue_.front();
        m_.in_op_i = in.op;
        m_.in_flag_i = in.flag;
        m_.in_sel_i = static_cast<uint8_t>(in.sel);
        m_.in_entry_i = static_cast<uint8_t>(in.entry);
        for (int k = 0; k < n_; ++k) {
          set_element(m_.in_a_i, k, 16, in.a[k]);
          set_element(m_.in_b_i, k, 16, in.b[k]);
          set_element(m_.in_x_i, k, 32, in.x[k]);
        }
        m_.in_wload_i = in.wload;
        m_.in_wlast_i = in.wlast;
      }
      accepted[ecycle_ % n_] = offer ? queue_.front().psum : std::vector<uint32_t>(n_);
      for (int j = 0; j < n_; ++j)
        set_element(m_.in_psum_i, j, 32, ecycle_ >= j ? accepted[(ecycle_ - j) % n_][j] : 0);
      m_.out_ready_i = !(stalls && stalls->next() % 3 == 0);
      m_.eval();
      const bool fire_in = offer && m_.in_ready_o;
      if (!fire_in) accepted[ecycle_ % n_].assign(n_, 0);
      bool valid_out = m_.out_valid_o;
      if (m_.out_valid_o && m_.out_ready_i) {
        Output o{m_.out_op_o, m_.out_sel_o, std::vector<uint32_t>(n_), cycle_, ecycle_};
        for (int k = 0; k < n_; ++k) o.y[k] = get_element(m_.out_y_o, k, 32);
        out_.push_back(std::move(o));
      }
      for (int j = 0; j < n_; ++j) {
        if (!get_element(m_.drain_valid_o, j, 1)) continue;
        valid_out = true;
        if (m_.out_ready_i)
          drain_.push_back(DrainOutput{j, static_cast<int>(get_element(m_.drain_row_o, j, 8)),
                                       get_element(m_.drain_y_o, j, 32), cycle_, ecycle_});
      }
      if (fire_in) {
        if (first_in_ < 0) first_in_ = cycle_, first_in_e_ = ecycle_;
        queue_.pop_front();
      }
      const bool stalled = valid_out && !m_.out_ready_i;  // the tile holds this cycle
      EXPECT_FALSE(stalled && m_.in_ready_o) << "in_ready_o high in a stall, cycle " << cycle_;
      stalls_ += stalled;
      ecycle_ += !stalled;
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
  std::vector<DrainOutput>& drained() { return drain_; }
  long first_input_cycle() const { return first_in_; }
  long first_input_ecycle() const { return first_in_e_; }
  long stall_cycles() const { return stalls_; }
  long cycles() const { return cycle_; }
  int n() const { return n_; }
  bool fp16() const { return fp16_; }
  void clear() {
    out_.clear();
    first_in_ = first_in_e_ = -1;
  }

 private:
  Model m_;
  int n_;
  bool fp16_;
  std::deque<Input> queue_;
  std::vector<Output> out_;
  std::vector<DrainOutput> drain_;
  long cycle_ = 0, first_in_ = -1, ecycle_ = 0, first_in_e_ = -1, stalls_ = 0;
};

// Random storage-format operands: finite, moderate (sums of hundreds stay finite and
// interesting), now and then a special value or a subnormal.
inline uint16_t random_storage(Rng& rng, bool fp16) {
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
inline long compare_rows(const std::vector<Output>& out, size_t first, const std::vector<std::vector<uint32_t>>& c) {
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
    // the schedule: row r leaves in cycle K + 2N - 1 + r after the first input
    for (int r = 0; r < n; ++r)
      EXPECT_EQ(tile.outputs()[r].cycle - tile.first_input_cycle(), k + 2 * n - 1 + r) << "K=" << k;
    EXPECT_EQ(tile.outputs().back().cycle - tile.first_input_cycle() + 1, k + 3 * n - 1)
        << "cycles from first input to last output, N=" << n << " K=" << k;
  }
}

inline std::vector<int> ks_all(int count, uint64_t seed) {
  std::vector<int> ks = {1, 2, 3, 300};
  Rng rng(seed);
  while (static_cast<int>(ks.size()) < count) ks.push_back(1 + static_cast<int>(rng.next() % 300));
  return ks;
}

// GEMMs back to back (the next one's MACs right after the previous one's row reads), with
// random input bubbles and output stalls: the same values; without them the stream takes
// sum(K + N) + 2N - 1 cycles.
template <class Model>
void back_to_back(int n, bool random_timing, uint64_t seed) {
  Rng rng(seed), bubbles(seed + 1), stalls(seed + 2);
  Tile<Model> tile(n, false);
  std::vector<Gemm> gs;
  long expected = 2 * n - 1;
  for (int g = 0; g < 6; ++g) {
    gs.emplace_back(n, 1 + static_cast<int>(rng.next() % 40), rng, false);
    gs.back().issue(tile);
    expected += gs.back().k + n;
  }
  tile.run(6 * n, random_timing ? &bubbles : nullptr, random_timing ? &stalls : nullptr);
  ASSERT_EQ(tile.outputs().size(), static_cast<size_t>(6 * n));
  for (int g = 0; g < 6; ++g) EXPECT_EQ(compare_rows(tile.outputs(), g * n, gs[g].golden(false)), 0);
  if (!random_timing) {
    EXPECT_EQ(tile.outputs().back().cycle - tile.first_input_cycle() + 1, expected);
  }
}
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
    in.entry = static_cast<int>(rng.next() % 8 ? rng.next() % 3 : rng.next() % kPeEntries);
    for (int k = 0; k < n; ++k) {
      in.a.push_back(static_cast<uint16_t>(rng.next()));
      in.b.push_back(static_cast<uint16_t>(rng.next()));
      in.x.push_back(rng.next() % 2 ? random_fp32(rng) : bits_of(-20.0 + 40.0 * (rng.next() >> 11) * 0x1p-53));
    }
    Output o{in.op, in.sel, std::vector<uint32_t>(n), 0, 0};
    for (int j = 0; j < n; ++j) {
      uint32_t b = 0;  // the north edge
      switch (in.op) {
        case kOpMac: b = widen_golden(in.b[j], fp16); break;
        case kOpAdd: case kOpMax: case kOpSubExp: case kOpLoad: b = in.x[j]; break;
        case kOpColMax: b = 0xFF800000u; break;
        default: b = 0;
      }
      for (int i = 0; i < n; ++i) b = pe[i][j].apply(in.op, in.flag, in.sel, i, widen_golden(in.a[i], fp16), b, 0, in.entry);
      o.y[j] = b;
    }
    if (is_column_op(in.op)) expected.push_back(o);
    tile.push(in);
  }
  for (int r = 0; r < n; ++r) {  // finally every accumulator
    tile.push(Input{kOpReadRow, false, r, {}, {}, {}});
    Output o{kOpReadRow, r, std::vector<uint32_t>(n), 0, 0};
    for (int j = 0; j < n; ++j) o.y[j] = pe[r][j].acc;
    expected.push_back(o);
  }
  tile.run(expected.size(), &bubbles, &stalls);
  ASSERT_EQ(tile.outputs().size(), expected.size());
  long bad = 0;
  for (size_t k = 0; k < expected.size(); ++k) {
    const Output& got = tile.outputs()[k];
    EXPECT_EQ(got.op, expected[k].op) << k;
    if (got.op == kOpReadRow) {
      EXPECT_EQ(got.sel, expected[k].sel) << k;
    }
    for (int j = 0; j < n; ++j)
      if (!same_result(got.y[j], expected[k].y[j]) && ++bad <= 5)
        ADD_FAILURE() << "output " << k << " op " << int(got.op) << " column " << j << std::hex << ": rtl "
                      << got.y[j] << ", golden " << expected[k].y[j];
  }
  EXPECT_EQ(bad, 0);
}

}  // namespace cascade::rtl_test
