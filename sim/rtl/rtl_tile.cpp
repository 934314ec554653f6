#include "sim/rtl/rtl_tile.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>

#include "Vtile_2d_sc_default_n4.h"
#include "Vtile_2d_sc_default_n8.h"
#include "Vtile_2d_sc_fastexp_n4.h"
#ifdef CASCADE_RTL_TILE16
#include "Vtile_2d_sc_default_n16.h"
#endif
#ifdef CASCADE_RTL_USER_PE
#include "Vtile_2d_sc_user_n4.h"
#include "Vtile_2d_sc_user_n8.h"
#endif
#include "arch/support/error.h"
#include "sim/rtl/operand_bits.h"

namespace cascade::rtl {

namespace {

constexpr uint32_t kOpNop = 0, kOpMac = 1, kOpWsDot = 12;  // hdl/tile_pkg.sv
constexpr uint8_t kDrainMarker = 0x80;  // OpMac sel[7]: the fold's last step
constexpr uint8_t kSwapMarker = 0x80;   // OpWsDot sel[7]: the fold's first streamed row

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

RtlTile::RtlTile(sc_core::sc_module_name name, int n)
    : sc_core::sc_module(name), clk_("clk", false), rst_n_("rst_n", true), n_(n) {}

RtlTile::~RtlTile() = default;

SystolicRun RtlTile::run(Dataflow dataflow, const GemmOperands& g, bool overlap_folds) {
  // Clocked in the caller's thread: its waits are the run's simulated time.
  if (running_) throw Error("the Verilated tile runs one GEMM at a time");
  if (g.m < 1 || g.n < 1 || g.k < 1 || g.a.size() != static_cast<size_t>(g.m * g.k) ||
      g.b.size() != static_cast<size_t>(g.k * g.n))
    throw Error("the Verilated tile: a GEMM needs M, N, K >= 1 and A (M x K), B (K x N)");
  running_ = started_ = true;
  const auto wall = std::chrono::steady_clock::now();
  try {
    SystolicRun out;
    if (dataflow == Dataflow::OutputStationary) {
      out = output_stationary(g, overlap_folds);
    } else if (dataflow == Dataflow::WeightStationary) {
      out = weight_stationary(g, overlap_folds);
    } else {  // input stationary: C^T = B^T A^T, weight stationary
      out = weight_stationary(transposed(g), overlap_folds);
      out.c = transpose_result(out.c, g.m, g.n);
    }
    running_ = false;
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
    return out;
  } catch (...) {
    running_ = false;
    throw;
  }
}

// Every run starts from a reset tile (as SystolicArray::run resets its PEs): the clock is
// gated between runs, and the drains of columns the last run did not use may be pending.
void RtlTile::reset() {
  rst_n_.write(false);
  sc_core::wait(sc_core::SC_ZERO_TIME);
  rst_n_.write(true);
  sc_core::wait(sc_core::SC_ZERO_TIME);
}

namespace {

TileInputs idle_inputs(int n) {
  TileInputs in;
  in.a.assign(static_cast<size_t>(n), 0);
  in.b.assign(static_cast<size_t>(n), 0);
  in.x.assign(static_cast<size_t>(n), 0);
  in.psum.assign(static_cast<size_t>(n), 0);
  return in;
}

std::vector<uint16_t> bf16_all(const std::vector<double>& v) {
  std::vector<uint16_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = bf16_bits(v[i], "the Verilated tile");
  return out;
}

}  // namespace

// One cycle c spans [t0 + c, t0 + c + 1) ns: the registers' outputs are read at its start
// (they settled half a cycle after the last rising edge), its inputs written then, and the
// rising edge that ends it comes half a cycle later. Nothing read depends combinationally on
// the inputs (hdl/README.md). In cycle 0 the reset may still be settling, and no result can
// be out yet. Returns the cycle `step` ended the run in (not clocked).
int64_t RtlTile::clock_until(int64_t limit, const Step& step, bool reset) {
  const sc_core::sc_time half(0.5, sc_core::SC_NS);
  TileInputs in = idle_inputs(n_);
  TileOutputs drain;
  drain.valid.assign(static_cast<size_t>(n_), false);
  drain.out_y.assign(static_cast<size_t>(n_), 0);
  if (reset) this->reset();
  for (int64_t c = 0;; ++c) {
    if (c > limit)
      throw Error("the Verilated tile hung (no result after " + std::to_string(c) + " cycles)");
    if (c > 0 || !reset) read_outputs(drain);
    if (step(c, drain, in)) {
      write_inputs(idle_inputs(n_));  // the clock is gated until the next run resets the tile
      return c;
    }
    write_inputs(in);
    sc_core::wait(half);
    clk_.write(true);
    sc_core::wait(half);
    clk_.write(false);
    ++clocked_;
  }
}

SystolicRun RtlTile::output_stationary(const GemmOperands& g, bool overlap) {
  const int n = n_;
  const int64_t R = std::min<int64_t>(n, g.m), C = std::min<int64_t>(n, g.n), T = g.k;
  const int64_t col_tiles = ceil_div(g.n, C), folds = ceil_div(g.m, R) * col_tiles;
  const std::vector<uint16_t> a = bf16_all(g.a), b = bf16_all(g.b);
  SystolicRun out;
  out.folds = folds;
  out.c.assign(static_cast<size_t>(g.m * g.n), 0.0);
  std::vector<int64_t> start(static_cast<size_t>(folds), -1), done(start);
  std::vector<int64_t> exits(static_cast<size_t>(folds), 0), drained(static_cast<size_t>(C), 0);
  int64_t next = 0, issuing = -1, last_exit = -1;
  // A guard against a hang, not a schedule: far more than any fold needs.
  const int64_t limit = folds * (T + 4 * n + 8) + 64;
  clock_until(limit, [&](int64_t c, const TileOutputs& drain, TileInputs& in) {
    if (last_exit >= 0) return true;  // the cycle after the last result's
    for (int64_t col = 0; col < C; ++col) {
      if (!drain.valid[static_cast<size_t>(col)]) continue;
      const int64_t seen = drained[static_cast<size_t>(col)]++;
      const int64_t f = seen / R, row = R - 1 - seen % R;
      if (f >= folds || drain.row[static_cast<size_t>(col)] != row)
        throw Error("the Verilated tile drained column " + std::to_string(col) + " out of order (row " +
                    std::to_string(drain.row[static_cast<size_t>(col)]) + ", expected " +
                    std::to_string(row) + ")");
      const int64_t i = (f / col_tiles) * R + row, j = (f % col_tiles) * C + col;
      if (i < g.m && j < g.n)
        out.c[static_cast<size_t>(i * g.n + j)] =
            static_cast<double>(std::bit_cast<float>(drain.y[static_cast<size_t>(col)]));
      if (++exits[static_cast<size_t>(f)] == R * C) {
        done[static_cast<size_t>(f)] = c;
        if (f == folds - 1) last_exit = c;
      }
    }
    if (last_exit >= 0) {  // the count ends with the cycle the last result is on the drain
      in.valid = false;
      return false;
    }
    // The feeder: SystolicArray's rule for starting a fold.
    if ((issuing < 0 || c - start[issuing] >= T) && next < folds) {
      const bool ready = next == 0   ? true
                         : overlap   ? c >= start[next - 1] + std::max(T, R)
                                     : done[next - 1] >= 0 && c > done[next - 1];
      if (ready) {
        start[next] = c;
        issuing = next++;
      }
    }
    const int64_t k = issuing < 0 ? -1 : c - start[issuing];
    in.valid = k >= 0 && k < T;
    in.op = kOpMac;
    if (in.valid) {
      const int64_t f = issuing, i0 = (f / col_tiles) * R, j0 = (f % col_tiles) * C;
      in.flag = k == 0;
      in.sel = k == T - 1 ? static_cast<uint8_t>(kDrainMarker | (R - 1)) : 0;
      for (int r = 0; r < n; ++r) {
        const int64_t i = i0 + r;
        in.a[r] = r < R && i < g.m ? a[static_cast<size_t>(i * g.k + k)] : 0;
      }
      for (int col = 0; col < n; ++col) {
        const int64_t j = j0 + col;
        in.b[col] = col < C && j < g.n ? b[static_cast<size_t>(k * g.n + j)] : 0;
      }
      out.macs += (std::min(g.m, i0 + R) - i0) * (std::min(g.n, j0 + C) - j0);
    }
    return false;
  });
  out.cycles = last_exit + 1;
  return out;
}

// Weight stationary on (M x K) . (K x N), SystolicArray::run_weight_stationary's folds: the
// N tiles for each K tile, the K tiles ascending (a later K tile starts from the partial sums
// the earlier one left, as the buffer holds them).
SystolicRun RtlTile::weight_stationary(const GemmOperands& g, bool overlap) {
  const int n = n_;
  const int64_t R = std::min<int64_t>(n, g.k), C = std::min<int64_t>(n, g.n), T = g.m;
  const int64_t k_tiles = ceil_div(g.k, R), n_tiles = ceil_div(g.n, C), folds = k_tiles * n_tiles;
  const std::vector<uint16_t> a = bf16_all(g.a), b = bf16_all(g.b);
  SystolicRun out;
  out.folds = folds;
  out.c.assign(static_cast<size_t>(g.m * g.n), 0.0);
  std::vector<uint32_t> psum(static_cast<size_t>(g.m * g.n), 0);       // fp32 bits
  std::vector<int64_t> psum_tile(static_cast<size_t>(g.m * g.n), -1);  // K tile that left it
  std::vector<int64_t> load(static_cast<size_t>(folds), -1), stream(load), done(load);
  std::vector<int64_t> exits(static_cast<size_t>(folds), 0), drained(static_cast<size_t>(C), 0);
  // The (fold, row) each of the last n cycles streamed: a column reads its partial sum when
  // the operation reaches it, `column` cycles after its issue.
  std::vector<std::pair<int64_t, int64_t>> issued(static_cast<size_t>(n), {-1, -1});
  int64_t next = 0, last_exit = -1;
  const int64_t limit = folds * (T + 2 * R + 4 * n + 8) + 64;
  clock_until(limit, [&](int64_t c, const TileOutputs& drain, TileInputs& in) {
    for (int64_t col = 0; col < C; ++col) {
      if (!drain.valid[static_cast<size_t>(col)]) continue;
      const int64_t seen = drained[static_cast<size_t>(col)]++;
      const int64_t f = seen / T, i = seen % T, j = (f % n_tiles) * C + col;
      if (f >= folds || drain.row[static_cast<size_t>(col)] != R - 1)
        throw Error("the Verilated tile's weight-stationary output of column " + std::to_string(col) +
                    " came from row " + std::to_string(drain.row[static_cast<size_t>(col)]) +
                    ", not " + std::to_string(R - 1) + ", or one too many");
      if (j < g.n) {
        const size_t x = static_cast<size_t>(i * g.n + j);
        psum[x] = drain.y[static_cast<size_t>(col)];
        psum_tile[x] = f / n_tiles;
        if (f / n_tiles == k_tiles - 1) out.c[x] = static_cast<double>(std::bit_cast<float>(psum[x]));
      }
      if (++exits[static_cast<size_t>(f)] == T * C) {
        done[static_cast<size_t>(f)] = c;
        if (f == folds - 1) last_exit = c;
      }
    }
    if (last_exit >= 0) return true;
    // The feeder: SystolicArray's rule for starting a fold's weight load.
    if (next < folds) {
      const bool ready = next == 0 ? true
                         : overlap ? c >= stream[next - 1] + std::max(T, R) - R
                                   : done[next - 1] >= 0 && c >= done[next - 1];
      if (ready) {
        load[next] = c;
        stream[next] = c + R;
        ++next;
      }
    }
    in.valid = in.wload = in.wlast = in.flag = false;
    in.op = kOpNop;
    in.sel = 0;
    std::fill(in.a.begin(), in.a.end(), 0);
    std::fill(in.b.begin(), in.b.end(), 0);
    // This cycle's weight row: fold next - 1 loads for R cycles, the bottom row first.
    if (next > 0 && c < load[next - 1] + R) {
      const int64_t f = next - 1, step = c - load[f];
      const int64_t k = (f / n_tiles) * R + R - 1 - step, j0 = (f % n_tiles) * C;
      in.valid = in.wload = true;
      in.wlast = step == R - 1;
      for (int col = 0; col < n; ++col)
        in.b[col] = col < C && k < g.k && j0 + col < g.n ? b[static_cast<size_t>(k * g.n + j0 + col)] : 0;
    }
    // This cycle's streamed row: of fold next - 1 or next - 2 (streams do not overlap).
    std::pair<int64_t, int64_t>& now = issued[static_cast<size_t>(c % n)];
    now = {-1, -1};
    for (int64_t f = std::max<int64_t>(0, next - 2); f < next; ++f) {
      if (c < stream[f] || c >= stream[f] + T) continue;
      const int64_t i = c - stream[f], k0 = (f / n_tiles) * R, j0 = (f % n_tiles) * C;
      in.valid = true;
      in.op = kOpWsDot;
      in.flag = f / n_tiles > 0;
      in.sel = static_cast<uint8_t>((i == 0 ? kSwapMarker : 0) | (R - 1));
      for (int r = 0; r < n; ++r)
        in.a[r] = r < R && k0 + r < g.k ? a[static_cast<size_t>(i * g.k + k0 + r)] : 0;
      out.macs += (std::min(g.k, k0 + R) - k0) * (std::min(g.n, j0 + C) - j0);
      now = {f, i};
    }
    // The partial sums: column col reads the one of the operation issued col cycles ago.
    for (int col = 0; col < n; ++col) {
      in.psum[col] = 0;
      if (c < col) continue;
      const auto [f, i] = issued[static_cast<size_t>((c - col) % n)];
      const int64_t j = f < 0 ? -1 : (f % n_tiles) * C + col;
      if (f < 0 || f / n_tiles == 0 || col >= C || j >= g.n) continue;
      const size_t x = static_cast<size_t>(i * g.n + j);
      if (psum_tile[x] != f / n_tiles - 1)
        throw Error("the Verilated tile: the partial sum of C[" + std::to_string(i) + "][" +
                    std::to_string(j) + "] was not out when K tile " + std::to_string(f / n_tiles) +
                    " needed it");
      in.psum[col] = psum[x];
    }
    return false;
  });
  out.cycles = last_exit;  // the last result was computed in the cycle before (above)
  return out;
}

namespace {

// The wrapper of one Verilated size: signals bound to the model's ports (every port wider
// than a bit an sc_bv, --pins-bv 2).
template <int N, class V>
class Tile final : public RtlTile {
 public:
  explicit Tile(sc_core::sc_module_name name)
      : RtlTile(name, N),
        model_("tile_2d"),
        out_ready_("out_ready", true),
        in_op_("in_op", sc_dt::sc_bv<4>(kOpNop)) {
    model_.clk_i(clk_);
    model_.rst_ni(rst_n_);
    model_.in_valid_i(in_valid_);
    model_.in_ready_o(in_ready_);
    model_.in_op_i(in_op_);
    model_.in_flag_i(in_flag_);
    model_.in_sel_i(in_sel_);
    model_.in_entry_i(in_entry_);
    model_.in_a_i(in_a_);
    model_.in_b_i(in_b_);
    model_.in_x_i(in_x_);
    model_.in_wload_i(in_wload_);
    model_.in_wlast_i(in_wlast_);
    model_.in_psum_i(in_psum_);
    model_.out_valid_o(out_valid_);
    model_.out_ready_i(out_ready_);
    model_.out_op_o(out_op_);
    model_.out_sel_o(out_sel_);
    model_.out_y_o(out_y_);
    model_.drain_valid_o(drain_valid_);
    model_.drain_row_o(drain_row_);
    model_.drain_y_o(drain_y_);
  }

 protected:
  void write_inputs(const TileInputs& in) override {
    in_valid_.write(in.valid);
    sc_dt::sc_bv<32 * N> psum;  // read by the columns whether or not this cycle offers input
    for (int j = 0; j < N; ++j) psum.set_word(j, static_cast<sc_dt::sc_digit>(in.psum[j]));
    in_psum_.write(psum);
    if (!in.valid) return;
    sc_dt::sc_bv<32 * N> x;
    for (int j = 0; j < N; ++j) x.set_word(j, static_cast<sc_dt::sc_digit>(in.x[j]));
    in_x_.write(x);
    in_op_.write(sc_dt::sc_bv<4>(in.op));
    in_flag_.write(in.flag);
    in_sel_.write(sc_dt::sc_bv<8>(in.sel));
    in_entry_.write(sc_dt::sc_bv<4>(in.entry));
    in_wload_.write(in.wload);
    in_wlast_.write(in.wlast);
    sc_dt::sc_bv<16 * N> a, b;
    for (int w = 0; w < N / 2; ++w) {
      a.set_word(w, static_cast<sc_dt::sc_digit>(in.a[2 * w] | (uint32_t{in.a[2 * w + 1]} << 16)));
      b.set_word(w, static_cast<sc_dt::sc_digit>(in.b[2 * w] | (uint32_t{in.b[2 * w + 1]} << 16)));
    }
    in_a_.write(a);
    in_b_.write(b);
  }
  void read_outputs(TileOutputs& out) override {
    out.valid.resize(N);
    out.row.resize(N);
    out.y.resize(N);
    const sc_dt::sc_bv<N>& valid = drain_valid_.read();
    const sc_dt::sc_bv<8 * N>& row = drain_row_.read();
    const sc_dt::sc_bv<32 * N>& y = drain_y_.read();
    for (int j = 0; j < N; ++j) {
      out.valid[j] = valid.get_bit(j);
      out.row[j] = static_cast<int>((row.get_word(j / 4) >> (8 * (j % 4))) & 0xFF);
      out.y[j] = static_cast<uint32_t>(y.get_word(j));
    }
    out.in_ready = in_ready_.read();
    out.out_valid = out_valid_.read();
    out.out_y.resize(N);
    const sc_dt::sc_bv<32 * N>& column = out_y_.read();
    for (int j = 0; j < N; ++j) out.out_y[j] = static_cast<uint32_t>(column.get_word(j));
  }

 private:
  V model_;
  sc_core::sc_signal<bool> in_valid_{"in_valid"}, in_ready_{"in_ready"}, in_flag_{"in_flag"},
      out_valid_{"out_valid"}, in_wload_{"in_wload"}, in_wlast_{"in_wlast"};
  sc_core::sc_signal<bool> out_ready_;
  sc_core::sc_signal<sc_dt::sc_bv<4>> in_op_, out_op_{"out_op"};
  sc_core::sc_signal<sc_dt::sc_bv<8>> in_sel_{"in_sel"}, out_sel_{"out_sel"};
  sc_core::sc_signal<sc_dt::sc_bv<4>> in_entry_{"in_entry"};
  sc_core::sc_signal<sc_dt::sc_bv<16 * N>> in_a_{"in_a"}, in_b_{"in_b"};
  sc_core::sc_signal<sc_dt::sc_bv<32 * N>> in_x_{"in_x"}, in_psum_{"in_psum"}, out_y_{"out_y"},
      drain_y_{"drain_y"};
  sc_core::sc_signal<sc_dt::sc_bv<N>> drain_valid_{"drain_valid"};
  sc_core::sc_signal<sc_dt::sc_bv<8 * N>> drain_row_{"drain_row"};
};

}  // namespace

std::vector<int> tile_sizes(const std::string& variant) {
  if (variant == "default") return {CASCADE_RTL_SIZES_DEFAULT};
  if (variant == "fastexp") return {CASCADE_RTL_SIZES_FASTEXP};
#ifdef CASCADE_RTL_USER_PE
  if (variant == "user") return {CASCADE_RTL_SIZES_USER};
#endif
  return {};
}

std::string tile_sizes_text(const std::string& variant) {
  std::string text;
  for (int n : tile_sizes(variant))
    text += (text.empty() ? "" : ", ") + std::to_string(n) + " x " + std::to_string(n);
  return text;
}

std::vector<std::string> tile_variants() {
  std::vector<std::string> v = {"default", "fastexp"};
#ifdef CASCADE_RTL_USER_PE
  v.push_back("user");
#endif
  return v;
}

ExpMode tile_exp(const std::string& variant) {
  if (variant == "fastexp") return ExpMode::Fast;
#ifdef CASCADE_RTL_USER_EXP_FAST
  if (variant == "user") return ExpMode::Fast;
#endif
  return ExpMode::Hardware;
}

std::string tile_variants_text() {
  std::string text;
  for (const std::string& v : tile_variants()) text += (text.empty() ? "" : ", ") + v;
  return text + " (user with -DCASCADE_RTL_PE=your_pe.sv)";
}

void check_variant(const std::string& variant) {
  const std::vector<std::string> v = tile_variants();
  if (std::find(v.begin(), v.end(), variant) == v.end())
    throw Error("--rtl-pe: no Verilated tile with PE '" + variant + "' in this build (built: " +
                tile_variants_text() + ")");
}

std::unique_ptr<RtlTile> make_tile(const std::string& name, int n, const std::string& variant) {
  check_variant(variant);
  if (variant == "default") {
    if (n == 4) return std::make_unique<Tile<4, Vtile_2d_sc_default_n4>>(name.c_str());
    if (n == 8) return std::make_unique<Tile<8, Vtile_2d_sc_default_n8>>(name.c_str());
#ifdef CASCADE_RTL_TILE16
    if (n == 16) return std::make_unique<Tile<16, Vtile_2d_sc_default_n16>>(name.c_str());
#endif
  } else if (variant == "fastexp") {
    if (n == 4) return std::make_unique<Tile<4, Vtile_2d_sc_fastexp_n4>>(name.c_str());
#ifdef CASCADE_RTL_USER_PE
  } else if (variant == "user") {
    if (n == 4) return std::make_unique<Tile<4, Vtile_2d_sc_user_n4>>(name.c_str());
    if (n == 8) return std::make_unique<Tile<8, Vtile_2d_sc_user_n8>>(name.c_str());
#endif
  }
  throw Error("no Verilated systolic tile of " + std::to_string(n) + " x " + std::to_string(n) +
              " with PE '" + variant + "' in this build (built with it: " + tile_sizes_text(variant) +
              "; 16 x 16: default PE only, unless built with -DCASCADE_RTL_TILE16=OFF)");
}

}  // namespace cascade::rtl
