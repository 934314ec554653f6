#include "sim/systemc/systolic.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "arch/support/error.h"

namespace cascade {

const char* to_string(Dataflow dataflow) {
  switch (dataflow) {
    case Dataflow::OutputStationary:
      return "output_stationary";
    case Dataflow::WeightStationary:
      return "weight_stationary";
    case Dataflow::InputStationary:
      return "input_stationary";
  }
  return "?";
}

double systolic_cycles(int64_t rows, int64_t cols, double stream, int64_t folds,
                       bool overlap_folds) {
  if (folds <= 0) return 0;
  const double r = static_cast<double>(rows), c = static_cast<double>(cols);
  const double one_fold = 2 * r + c + stream - 2;
  if (!overlap_folds) return static_cast<double>(folds) * one_fold;
  return static_cast<double>(folds - 1) * std::max(stream, r) + one_fold;
}

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

[[noreturn]] void conflict(const std::string& what, int64_t cycle) {
  throw Error("systolic array: " + what + " at cycle " + std::to_string(cycle) +
              " (the fold schedule overlaps two folds in one register)");
}

}  // namespace

SystolicArray::SystolicArray(int64_t rows, int64_t cols, NumberFormat accumulate)
    : rows_(rows), cols_(cols), accumulate_(accumulate) {
  if (rows < 1 || cols < 1 || rows > 64 || cols > 64)
    throw Error("the per-PE systolic model takes arrays of 1 to 64 rows and columns, got " +
                std::to_string(rows) + " x " + std::to_string(cols));
  pe_.resize(static_cast<size_t>(rows * cols));
}

double SystolicArray::mac(double acc, double a, double b) const {
  return round_to(accumulate_, acc + round_to(accumulate_, a * b));
}

void SystolicArray::reset() {
  for (SystolicPe& p : pe_) p = SystolicPe{};
}

SystolicGeometry systolic_geometry(int64_t rows, int64_t cols, Dataflow dataflow, int64_t m,
                                   int64_t n, int64_t k) {
  if (dataflow == Dataflow::InputStationary) std::swap(m, n);  // C^T = B^T A^T, weight stationary
  SystolicGeometry g;
  if (dataflow == Dataflow::OutputStationary) {
    g.rows = std::min(rows, m), g.cols = std::min(cols, n), g.stream = k;
    g.folds = ceil_div(m, g.rows) * ceil_div(n, g.cols);
  } else {
    g.rows = std::min(rows, k), g.cols = std::min(cols, n), g.stream = m;
    g.folds = ceil_div(k, g.rows) * ceil_div(n, g.cols);
  }
  return g;
}

SystolicRun SystolicArray::run(Dataflow dataflow, const GemmOperands& g, bool overlap_folds) {
  if (g.m < 1 || g.n < 1 || g.k < 1 || g.a.size() != static_cast<size_t>(g.m * g.k) ||
      g.b.size() != static_cast<size_t>(g.k * g.n))
    throw Error("systolic array: a GEMM needs M, N, K >= 1 and A (M x K), B (K x N)");
  reset();
  if (dataflow == Dataflow::OutputStationary) return run_output_stationary(g, overlap_folds);
  if (dataflow == Dataflow::WeightStationary) return run_weight_stationary(g, overlap_folds);
  // Input stationary: C^T = B^T A^T, with A^T (K x M) held as the weight-stationary tile.
  SystolicRun r = run_weight_stationary(transposed(g), overlap_folds);
  r.c = transpose_result(r.c, g.m, g.n);
  return r;
}

GemmOperands transposed(const GemmOperands& g) {
  GemmOperands t;
  t.m = g.n;
  t.n = g.m;
  t.k = g.k;
  t.a.resize(static_cast<size_t>(t.m * t.k));
  t.b.resize(static_cast<size_t>(t.k * t.n));
  for (int64_t j = 0; j < g.n; ++j)
    for (int64_t k = 0; k < g.k; ++k) t.a[j * t.k + k] = g.b[k * g.n + j];
  for (int64_t k = 0; k < g.k; ++k)
    for (int64_t i = 0; i < g.m; ++i) t.b[k * t.n + i] = g.a[i * g.k + k];
  return t;
}

std::vector<double> transpose_result(const std::vector<double>& ct, int64_t m, int64_t n) {
  std::vector<double> c(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) c[i * n + j] = ct[j * m + i];
  return c;
}

// Output stationary. Per PE: the operand registers, the accumulator, a shadow register the
// finished result moves to at the PE's last MAC of a fold, and a drain register: once every
// row of a column has handed off, the column's shadows are copied into its drain chain in one
// cycle, which presents the bottom row on the column's output that cycle and shifts one row
// per cycle after. Folds start when the feeder's counter says so: after the previous fold's
// last result left (no overlap), or max(T, R) cycles after the previous fold started.
SystolicRun SystolicArray::run_output_stationary(const GemmOperands& g, bool overlap) {
  const int64_t R = std::min(rows_, g.m), C = std::min(cols_, g.n), T = g.k;
  const int64_t row_tiles = ceil_div(g.m, R), col_tiles = ceil_div(g.n, C);
  const int64_t folds = row_tiles * col_tiles;
  SystolicRun out;
  out.folds = folds;
  out.c.assign(static_cast<size_t>(g.m * g.n), 0.0);
  struct Slot {
    bool full = false;
    int64_t fold = -1, row = -1;
    double value = 0;
  };
  std::vector<Slot> shadow(static_cast<size_t>(R * C)), drain(static_cast<size_t>(R * C));
  std::vector<int64_t> handed(static_cast<size_t>(C * folds), 0);  // rows handed off per column
  std::vector<int64_t> start(static_cast<size_t>(folds), -1);
  int64_t next_fold = 0, exited = 0, last_exit_fold_end = -1;
  const int64_t results = folds * R * C;
  std::vector<int64_t> exits(static_cast<size_t>(folds), 0);
  int64_t first_active = 0;  // folds before it have every operand through the array
  auto slot = [&](std::vector<Slot>& v, int64_t r, int64_t c) -> Slot& {
    return v[static_cast<size_t>(r * C + c)];
  };
  int64_t t = 0;
  for (;; ++t) {
    // The feeder's counter.
    if (next_fold < folds) {
      const bool ready = next_fold == 0 ? true
                         : overlap    ? t >= start[next_fold - 1] + std::max(T, R)
                                      : last_exit_fold_end == next_fold - 1;
      if (ready) start[next_fold++] = t;
    }
    // Drain: copy columns whose rows all handed off, present and shift.
    for (int64_t c = 0; c < C; ++c) {
      // shift first: the bottom value left last cycle
      for (int64_t r = R - 1; r > 0; --r) slot(drain, r, c) = slot(drain, r - 1, c);
      slot(drain, 0, c) = Slot{};
      for (int64_t f = std::max<int64_t>(0, first_active - 1); f < next_fold; ++f) {
        int64_t& h = handed[static_cast<size_t>(c * folds + f)];
        if (h != R) continue;
        h = R + 1;  // copied
        for (int64_t r = 0; r < R; ++r) {
          if (slot(drain, r, c).full) conflict("drain chain still busy", t);
          slot(drain, r, c) = slot(shadow, r, c);
          slot(shadow, r, c) = Slot{};
        }
      }
      Slot& bottom = slot(drain, R - 1, c);
      if (bottom.full) {
        const int64_t f = bottom.fold;
        const int64_t i = (f / col_tiles) * R + bottom.row, j = (f % col_tiles) * C + c;
        if (i < g.m && j < g.n) out.c[static_cast<size_t>(i * g.n + j)] = bottom.value;
        bottom.full = false;
        ++exited;
        if (++exits[static_cast<size_t>(f)] == R * C) last_exit_fold_end = f;
      }
    }
    if (exited == results) break;
    while (first_active < next_fold && t > start[first_active] + T + R + C) ++first_active;
    // Operands move one PE per cycle: A east, B south; the edges take the next step.
    for (int64_t r = 0; r < R; ++r)
      for (int64_t c = C - 1; c >= 0; --c) {
        SystolicPe& p = at(r, c);
        if (c > 0) {
          const SystolicPe& w = at(r, c - 1);
          p.a = w.a, p.a_valid = w.a_valid, p.a_tag = w.a_tag;
        } else {
          p.a_valid = false;
          for (int64_t f = first_active; f < next_fold; ++f) {
            const int64_t k = t - start[f] - r;
            if (k < 0 || k >= T) continue;
            const int64_t i = (f / col_tiles) * R + r;
            p.a = i < g.m ? g.a[static_cast<size_t>(i * g.k + k)] : 0.0;
            p.a_valid = i < g.m;
            p.a_tag = f * T + k;
          }
        }
      }
    for (int64_t c = 0; c < C; ++c)
      for (int64_t r = R - 1; r >= 0; --r) {
        SystolicPe& p = at(r, c);
        if (r > 0) {
          const SystolicPe& n = at(r - 1, c);
          p.b = n.b, p.b_valid = n.b_valid, p.b_tag = n.b_tag;
        } else {
          p.b_valid = false;
          for (int64_t f = first_active; f < next_fold; ++f) {
            const int64_t k = t - start[f] - c;
            if (k < 0 || k >= T) continue;
            const int64_t j = (f % col_tiles) * C + c;
            p.b = j < g.n ? g.b[static_cast<size_t>(k * g.n + j)] : 0.0;
            p.b_valid = j < g.n;
            p.b_tag = f * T + k;
          }
        }
      }
    // MACs; a PE's last MAC of a fold hands its result to the shadow register.
    for (int64_t r = 0; r < R; ++r)
      for (int64_t c = 0; c < C; ++c) {
        SystolicPe& p = at(r, c);
        // Padded rows/columns (a partial last tile) take the wave's time but no data.
        int64_t tag = -1;
        for (int64_t f = first_active; f < next_fold && tag < 0; ++f) {
          const int64_t k = t - start[f] - r - c;
          if (k >= 0 && k < T) tag = f * T + k;
        }
        if (tag < 0) continue;
        if (p.a_valid && p.b_valid) {
          if (p.a_tag != tag || p.b_tag != tag) conflict("operands of different steps meet", t);
          p.acc = mac(p.acc, p.a, p.b);
          ++out.macs;
        }
        if (tag % T == T - 1) {
          Slot& s = slot(shadow, r, c);
          if (s.full) conflict("shadow register still holds a result", t);
          s = Slot{true, tag / T, r, p.acc};
          p.acc = 0;
          ++handed[static_cast<size_t>(c * folds + tag / T)];
        }
      }
  }
  out.cycles = t + 1;
  return out;
}

// Weight stationary on (M x K) . (K x N): the stationary tile (K on the rows, N on the
// columns) enters each column's load chain from the north, one row per cycle (R cycles),
// is copied into the PEs' shadow registers, and each PE swaps it in when the fold's first
// streamed operand reaches it. A's row i enters PE(r, 0) at S + i + r and moves east; its
// partial sum enters PE(0, c) at S + i + c (0, or the previous K-fold's result for that
// output) and leaves PE(R - 1, c) at S + i + R - 1 + c. Folds: the N tiles for each K tile,
// the K tiles in ascending order (partial sums accumulate in ascending k).
SystolicRun SystolicArray::run_weight_stationary(const GemmOperands& g, bool overlap) {
  const int64_t R = std::min(rows_, g.k), C = std::min(cols_, g.n), T = g.m;
  const int64_t k_tiles = ceil_div(g.k, R), n_tiles = ceil_div(g.n, C);
  const int64_t folds = k_tiles * n_tiles;  // fold f: k tile f / n_tiles, n tile f % n_tiles
  SystolicRun out;
  out.folds = folds;
  out.c.assign(static_cast<size_t>(g.m * g.n), 0.0);
  std::vector<double> psum(static_cast<size_t>(g.m * g.n), 0.0);  // the buffer's partial sums
  struct Weight {
    bool full = false;
    int64_t fold = -1;
    double value = 0;
  };
  // load chain, shadow, active weight per PE
  std::vector<Weight> load(static_cast<size_t>(R * C)), shadow(load), active(load);
  std::vector<double> sum(static_cast<size_t>(R * C), 0.0);
  std::vector<int64_t> sum_tag(static_cast<size_t>(R * C), -1);
  std::vector<bool> sum_valid(static_cast<size_t>(R * C), false);
  auto idx = [&](int64_t r, int64_t c) { return static_cast<size_t>(r * C + c); };
  std::vector<int64_t> load_start(static_cast<size_t>(folds), -1), stream(load_start);
  int64_t next_load = 0, last_done_fold = -1, exited = 0, first_active = 0;
  const int64_t results = folds * T * C;
  std::vector<int64_t> exited_of(static_cast<size_t>(folds), 0);
  int64_t t = 0;
  for (;; ++t) {
    // The feeder: a fold's weights load R cycles before its stream starts.
    if (next_load < folds) {
      const bool ready = next_load == 0 ? true
                         : overlap    ? t >= stream[next_load - 1] + std::max(T, R) - R
                                      : last_done_fold == next_load - 1;
      if (ready) {
        load_start[next_load] = t;
        stream[next_load] = t + R;
        ++next_load;
      }
    }
    while (first_active < next_load && t > stream[first_active] + T + R + C) ++first_active;
    // The stream: swap in the fold's weight at its first operand, then MAC and pass on.
    for (int64_t r = 0; r < R; ++r)
      for (int64_t c = C - 1; c >= 0; --c) {
        SystolicPe& p = at(r, c);
        if (c > 0) {
          const SystolicPe& w = at(r, c - 1);
          p.a = w.a, p.a_valid = w.a_valid, p.a_tag = w.a_tag;
        } else {
          p.a_valid = false;
          for (int64_t f = first_active; f < next_load; ++f) {
            const int64_t i = t - stream[f] - r;
            if (i < 0 || i >= T) continue;
            const int64_t k = (f / n_tiles) * R + r;
            p.a = k < g.k ? g.a[static_cast<size_t>(i * g.k + k)] : 0.0;
            p.a_valid = true;
            p.a_tag = f * T + i;
          }
        }
      }
    for (int64_t c = 0; c < C; ++c)
      for (int64_t r = R - 1; r >= 0; --r) {
        // partial sums move south (from the row above, or the buffer at row 0)
        if (r > 0) {
          sum[idx(r, c)] = sum[idx(r - 1, c)];
          sum_tag[idx(r, c)] = sum_tag[idx(r - 1, c)];
          sum_valid[idx(r, c)] = sum_valid[idx(r - 1, c)];
        } else {
          sum_valid[idx(0, c)] = false;
          for (int64_t f = first_active; f < next_load; ++f) {
            const int64_t i = t - stream[f] - c;
            if (i < 0 || i >= T) continue;
            const int64_t j = (f % n_tiles) * C + c;
            const bool first_k_tile = f / n_tiles == 0;
            sum[idx(0, c)] =
                first_k_tile || j >= g.n ? 0.0 : psum[static_cast<size_t>(i * g.n + j)];
            sum_tag[idx(0, c)] = f * T + i;
            sum_valid[idx(0, c)] = true;
          }
        }
      }
    for (int64_t r = 0; r < R; ++r)
      for (int64_t c = 0; c < C; ++c) {
        SystolicPe& p = at(r, c);
        const size_t x = idx(r, c);
        if (!p.a_valid) continue;
        if (!sum_valid[x] || sum_tag[x] != p.a_tag) conflict("a partial sum missed its row", t);
        const int64_t f = p.a_tag / T;
        if (p.a_tag % T == 0) {  // the fold's first operand: swap the weight in
          if (!shadow[x].full || shadow[x].fold != f) conflict("weight not loaded", t);
          active[x] = shadow[x];
          shadow[x] = Weight{};
        }
        if (active[x].fold != f) conflict("weight of another fold", t);
        const int64_t k = (f / n_tiles) * R + r, j = (f % n_tiles) * C + c;
        if (k < g.k && j < g.n) {
          sum[x] = mac(sum[x], p.a, active[x].value);
          ++out.macs;
        }
      }
    // (After the swaps: a shadow register read and rewritten in one cycle holds the new
    // weight.) Load chains shift south; the top takes the fold's next weight row (the bottom row's
    // weight first). Column c loads c cycles after column 0, in step with the stream's skew,
    // and after its R-th shift is copied into the column's shadow registers.
    for (int64_t f = std::max<int64_t>(0, first_active - 1); f < next_load; ++f) {
      const int64_t k0 = (f / n_tiles) * R, j0 = (f % n_tiles) * C;
      for (int64_t c = 0; c < C; ++c) {
        const int64_t step = t - load_start[f] - c;
        if (step < 0 || step >= R) continue;
        for (int64_t r = R - 1; r > 0; --r) load[idx(r, c)] = load[idx(r - 1, c)];
        const int64_t k = k0 + (R - 1 - step), j = j0 + c;
        load[idx(0, c)] =
            Weight{true, f, k < g.k && j < g.n ? g.b[static_cast<size_t>(k * g.n + j)] : 0.0};
        if (step == R - 1)
          for (int64_t r = 0; r < R; ++r) {
            if (shadow[idx(r, c)].full) conflict("shadow weight not yet swapped in", t);
            shadow[idx(r, c)] = load[idx(r, c)];
            load[idx(r, c)] = Weight{};
          }
      }
    }
    // Outputs leave the bottom row.
    for (int64_t c = 0; c < C; ++c) {
      const size_t x = idx(R - 1, c);
      if (!sum_valid[x]) continue;
      // This cycle's bottom value is the one computed in it: it leaves now.
      const int64_t f = sum_tag[x] / T, i = sum_tag[x] % T;
      const int64_t j = (f % n_tiles) * C + c;
      if (j < g.n) {
        psum[static_cast<size_t>(i * g.n + j)] = sum[x];
        if (f / n_tiles == k_tiles - 1) out.c[static_cast<size_t>(i * g.n + j)] = sum[x];
      }
      sum_valid[x] = false;
      ++exited;
      if (++exited_of[static_cast<size_t>(f)] == T * C) last_done_fold = f;
    }
    if (exited == results) break;
  }
  out.cycles = t + 1;
  return out;
}

}  // namespace cascade
