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

namespace cascade::rtl {

namespace {

constexpr uint32_t kOpNop = 0, kOpMac = 1;  // hdl/tile_pkg.sv
constexpr uint8_t kDrainMarker = 0x80;      // OpMac sel[7]: the fold's last step

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The bf16 pattern of a value the GEMM holds as a double (it must be a bf16 value; any NaN
// becomes the canonical quiet NaN, as the RTL makes them).
uint16_t bf16_of(double v) {
  if (std::isnan(v)) return 0x7FC0;
  const float f = static_cast<float>(v);
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  if (static_cast<double>(f) != v || (bits & 0xFFFF) != 0)
    throw Error("the Verilated tile takes bf16 operands; " + std::to_string(v) +
                " is not a bf16 value");
  return static_cast<uint16_t>(bits >> 16);
}

}  // namespace

RtlTile::RtlTile(sc_core::sc_module_name name, int n)
    : sc_core::sc_module(name), clk_("clk", false), rst_n_("rst_n", true), n_(n) {}

RtlTile::~RtlTile() = default;

SystolicRun RtlTile::run(const GemmOperands& gemm, bool overlap_folds) {
  // Clocked in the caller's thread: its waits are the run's simulated time.
  if (running_) throw Error("the Verilated tile runs one GEMM at a time");
  running_ = true;
  try {
    SystolicRun out = execute(gemm, overlap_folds);
    running_ = false;
    return out;
  } catch (...) {
    running_ = false;
    throw;
  }
}

// One cycle c spans [t0 + c, t0 + c + 1) ns: its inputs are written at its start, its
// outputs (registers) read half a cycle later, and the rising edge that ends it comes then.
SystolicRun RtlTile::execute(const GemmOperands& g, bool overlap) {
  if (g.m < 1 || g.n < 1 || g.k < 1 || g.a.size() != static_cast<size_t>(g.m * g.k) ||
      g.b.size() != static_cast<size_t>(g.k * g.n))
    throw Error("the Verilated tile: a GEMM needs M, N, K >= 1 and A (M x K), B (K x N)");
  const int n = n_;
  const int64_t R = std::min<int64_t>(n, g.m), C = std::min<int64_t>(n, g.n), T = g.k;
  const int64_t col_tiles = ceil_div(g.n, C), folds = ceil_div(g.m, R) * col_tiles;
  std::vector<uint16_t> a(g.a.size()), b(g.b.size());
  for (size_t i = 0; i < a.size(); ++i) a[i] = bf16_of(g.a[i]);
  for (size_t i = 0; i < b.size(); ++i) b[i] = bf16_of(g.b[i]);

  SystolicRun out;
  out.folds = folds;
  out.c.assign(static_cast<size_t>(g.m * g.n), 0.0);
  std::vector<int64_t> start(static_cast<size_t>(folds), -1), done(start);
  std::vector<int64_t> exits(static_cast<size_t>(folds), 0), drained(static_cast<size_t>(C), 0);
  int64_t next = 0, issuing = -1, last_exit = -1;
  // A guard against a hang, not a schedule: far more than any fold needs.
  const int64_t limit = folds * (T + 4 * n + 8) + 64;
  TileInputs in;
  in.a.assign(static_cast<size_t>(n), 0);
  in.b.assign(static_cast<size_t>(n), 0);
  TileDrain drain;
  const sc_core::sc_time half(0.5, sc_core::SC_NS);
  // Every run starts from a reset tile (as SystolicArray::run resets its PEs): the clock is
  // gated between runs, and the drains of columns the last run did not use may be pending.
  rst_n_.write(false);
  sc_core::wait(sc_core::SC_ZERO_TIME);
  rst_n_.write(true);
  sc_core::wait(sc_core::SC_ZERO_TIME);
  const auto wall = std::chrono::steady_clock::now();
  int64_t c = 0;
  for (; last_exit < 0; ++c) {
    if (c > limit) throw Error("the Verilated tile hung (no result after " + std::to_string(c) + " cycles)");
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
    write_inputs(in);
    sc_core::wait(half);
    read_drain(drain);
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
    clk_.write(true);
    sc_core::wait(half);
    clk_.write(false);
  }
  in.valid = false;
  write_inputs(in);
  clocked_ += c;
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
  out.cycles = last_exit + 1;
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
    model_.in_a_i(in_a_);
    model_.in_b_i(in_b_);
    model_.in_x_i(in_x_);
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
    if (!in.valid) return;
    in_op_.write(sc_dt::sc_bv<4>(kOpMac));
    in_flag_.write(in.flag);
    in_sel_.write(sc_dt::sc_bv<8>(in.sel));
    sc_dt::sc_bv<16 * N> a, b;
    for (int w = 0; w < N / 2; ++w) {
      a.set_word(w, static_cast<sc_dt::sc_digit>(in.a[2 * w] | (uint32_t{in.a[2 * w + 1]} << 16)));
      b.set_word(w, static_cast<sc_dt::sc_digit>(in.b[2 * w] | (uint32_t{in.b[2 * w + 1]} << 16)));
    }
    in_a_.write(a);
    in_b_.write(b);
  }
  void read_drain(TileDrain& out) override {
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
  }

 private:
  V model_;
  sc_core::sc_signal<bool> in_valid_{"in_valid"}, in_ready_{"in_ready"}, in_flag_{"in_flag"},
      out_valid_{"out_valid"};
  sc_core::sc_signal<bool> out_ready_;
  sc_core::sc_signal<sc_dt::sc_bv<4>> in_op_, out_op_{"out_op"};
  sc_core::sc_signal<sc_dt::sc_bv<8>> in_sel_{"in_sel"}, out_sel_{"out_sel"};
  sc_core::sc_signal<sc_dt::sc_bv<16 * N>> in_a_{"in_a"}, in_b_{"in_b"};
  sc_core::sc_signal<sc_dt::sc_bv<32 * N>> in_x_{"in_x"}, out_y_{"out_y"}, drain_y_{"drain_y"};
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
              "; 16 x 16 with -DCASCADE_RTL_TILE16=ON, default PE only)");
}

}  // namespace cascade::rtl
