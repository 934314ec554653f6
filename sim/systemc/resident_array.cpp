#include "sim/systemc/resident_array.h"

#include <cmath>
#include <limits>
#include <string>

#include "arch/support/error.h"

namespace cascade {

bool is_column_op(TileOp op) { return op >= TileOp::ColSum && op <= TileOp::ReadRow; }

int tile_exp_cycles(ExpMode exp) { return exp == ExpMode::Fast ? 4 : 8; }

int tile_step_hold(TileOp op, ExpMode exp) {
  return op == TileOp::Exp ? tile_exp_cycles(exp) : op == TileOp::SubExp ? tile_exp_cycles(exp) + 1 : 1;
}

namespace {

double fp32(double x) { return round_as<NumberFormat::FP32>(x); }

// The PE's max (fp32_pkg::max_of(p, q)): NaN if either is NaN, else p if p > q, else q.
double max_of(double p, double q) {
  if (std::isnan(p) || std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  return p > q ? p : q;
}

}  // namespace

ResidentArray::ResidentArray(int64_t rows, int64_t cols, NumberFormat storage, ExpMode exp, int entries)
    : rows_(rows), cols_(cols), storage_(storage), exp_(exp), entries_(entries) {
  if (rows < 1 || cols < 1 || rows > 64 || cols > 64)
    throw Error("the per-PE resident model takes arrays of 1 to 64 rows and columns, got " +
                std::to_string(rows) + " x " + std::to_string(cols));
  if (storage != NumberFormat::BF16 && storage != NumberFormat::FP16)
    throw Error(std::string("the 2D PE stores bf16 or fp16, not ") + to_string(storage));
  if (exp != ExpMode::Hardware && exp != ExpMode::Fast)
    throw Error("the 2D PE computes the hardware or the fast exp, not the exact one");
  if (entries < 1 || entries > 16)
    throw Error("the 2D PE has 1 to 16 register-file entries, got " + std::to_string(entries));
  pe_.assign(static_cast<size_t>(rows * cols), Pe{0.0, std::vector<double>(static_cast<size_t>(entries), 0.0)});
}

void check_tile_step(const TileStep& s, int64_t rows, int64_t cols, int entries) {
  const auto has = [](const std::vector<double>& v, int64_t n) { return v.empty() || static_cast<int64_t>(v.size()) == n; };
  if (!has(s.a, rows) || !has(s.b, cols) || !has(s.x, cols))
    throw Error("a tile step takes one west operand per row (" + std::to_string(rows) +
                ") and one north operand per column (" + std::to_string(cols) + ")");
  if (s.entry < 0 || s.entry >= entries)
    throw Error("register-file entry " + std::to_string(s.entry) + " of " + std::to_string(entries));
  if (s.sel < 0 || s.sel > 127)
    throw Error("a tile step's sel is 0 to 127 (sel[7] marks the GEMM runs' drain), got " +
                std::to_string(s.sel));
}

double ResidentArray::apply(Pe& p, int64_t row, const TileStep& s, double a, double b) const {
  const double x = s.flag ? p.rf[static_cast<size_t>(s.entry)] : p.acc;
  const auto exp = [&](double v) {
    return exp_ == ExpMode::Fast ? fast_exp_as<NumberFormat::FP32>(v) : hardware_exp_as<NumberFormat::FP32>(v);
  };
  switch (s.op) {
    case TileOp::Mac: p.acc = fp32(fp32(a * b) + (s.flag ? 0.0 : p.acc)); return b;
    case TileOp::Add: p.acc = s.flag ? fp32(p.acc - b) : fp32(p.acc + b); return b;
    case TileOp::Max: p.acc = max_of(p.acc, b); return b;
    case TileOp::Exp: p.acc = exp(x); return b;
    case TileOp::SubExp: p.acc = exp(fp32(x - b)); return b;
    case TileOp::Narrow:
      p.acc = round_to(storage_, p.acc);
      if (s.flag) p.rf[static_cast<size_t>(s.entry)] = p.acc;
      return b;
    case TileOp::Load: p.acc = b; return b;
    case TileOp::ColSum: return fp32(b + x);
    case TileOp::ColMax: return max_of(b, x);
    case TileOp::ColDot: return fp32(b + fp32(x * a));
    case TileOp::ReadRow: return s.sel == row ? p.acc : b;
    case TileOp::Nop: return b;
  }
  return b;
}

TileProgramRun ResidentArray::run(const std::vector<TileStep>& program) {
  TileProgramRun out;
  for (const TileStep& s : program) check_tile_step(s, rows_, cols_, entries_);  // before any runs
  int64_t t = 0, end = 0;
  for (size_t k = 0; k < program.size(); ++k) {
    const TileStep& s = program[k];
    out.accepted.push_back(t);
    ColumnResult result{k, t + rows_ + cols_ - 1, std::vector<double>(static_cast<size_t>(cols_))};
    for (int64_t j = 0; j < cols_; ++j) {
      const size_t cj = static_cast<size_t>(j);
      double b = 0.0;  // the north edge
      switch (s.op) {
        case TileOp::Mac: b = s.b.empty() ? 0.0 : s.b[cj]; break;
        case TileOp::Add: case TileOp::Max: case TileOp::SubExp: case TileOp::Load:
          b = s.x.empty() ? 0.0 : s.x[cj];
          break;
        case TileOp::ColMax: b = -std::numeric_limits<double>::infinity(); break;
        default: break;
      }
      for (int64_t i = 0; i < rows_; ++i)
        b = apply(pe_[static_cast<size_t>(i * cols_ + j)], i, s, s.a.empty() ? 0.0 : s.a[static_cast<size_t>(i)], b);
      result.y[cj] = b;
    }
    t += tile_step_hold(s.op, exp_);
    end = std::max(end, t);
    if (is_column_op(s.op)) {
      end = std::max(end, result.cycle + 1);
      out.results.push_back(std::move(result));
    }
  }
  out.cycles = end;
  return out;
}

}  // namespace cascade
