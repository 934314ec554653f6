// The per-PE model of the 2D array's operations on tiles that stay in the PEs across
// Einsums (FuseMax keeps BQK for LM and SLN, SLN for SLD and SLN·V): each PE has an fp32
// accumulator and a register file of `entries` storage-format words, and a program of tile
// operations (hdl/tile_pkg.sv's pe_op_e, one per step) runs through the array as through
// the Verilated tile (hdl/tile_2d.sv), which this model must equal cycle for cycle and bit
// for bit (tests/agreement/test_rtl_resident.cpp drives both). The state persists from one
// program to the next.
//
// The schedule (rows x cols PEs, no stall): a step accepted in cycle t executes in PE
// (i, j) in cycle t + i + j (the array skews its inputs); the next step is accepted in
// cycle t + hold, hold = 1 except for exp (L cycles: 8 for the hardware exp, 4 for the fast
// one) and exp(x - b) (L + 1); a column step's result (column sum, max, dot, row read)
// leaves at the south edge, deskewed, as one vector in cycle t + rows + cols - 1. A
// program's cycles run from its first acceptance to the later of the cycle after its last
// step's hold and the cycle after its last result.
//
// Each PE, with x its resident value (with flag: register-file entry `entry`, else acc),
// a the west operand of its row, b what enters from the north (the step's b for a MAC,
// its x for add, max, exp(x - b) and load, -inf for a column max, +0 otherwise) or the
// partial column result above it, rounding as the executor does:
//   Mac     acc = round(round(a b) + acc)     (flag: + 0 instead of acc)
//   Add     acc = round(acc + b)              (flag: acc - b)
//   Max     acc = max(acc, b)                 (NaN if either is; b on a tie)
//   Exp     acc = exp(x)          SubExp  acc = exp(round(x - b))
//   Narrow  acc = round_storage(acc)          (flag: entry = the same)
//   Load    acc = b
//   ColSum  y = round(y + x)      ColMax  y = max(y, x)      ColDot  y = round(y + round(x a))
//   ReadRow y = acc of the PE in row sel (y = +0 if none)
// The GEMM runs (SystolicArray, systolic.h) are separate: the weight-stationary MAC and
// the output-stationary drain are not steps here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/functional/number_format.h"

namespace cascade {

// hdl/tile_pkg.sv pe_op_e (the codes the tile takes).
enum class TileOp : uint8_t {
  Nop = 0, Mac = 1, Add = 2, Max = 3, Exp = 4, SubExp = 5, Narrow = 6, Load = 7,
  ColSum = 8, ColMax = 9, ColDot = 10, ReadRow = 11
};
bool is_column_op(TileOp op);

struct TileStep {
  TileOp op = TileOp::Nop;
  bool flag = false;
  int sel = 0;    // ReadRow: the row; else 0 to 127
  int entry = 0;  // register-file entry (with flag; Narrow with flag writes it)
  std::vector<double> a;  // per row: west operand, a storage-format value (Mac, ColDot)
  std::vector<double> b;  // per column: north operand of a MAC, a storage-format value
  std::vector<double> x;  // per column: fp32 north operand of Add, Max, SubExp, Load
};

struct ColumnResult {
  size_t step = 0;    // index of the step that produced it
  int64_t cycle = 0;  // the cycle it is at the south edge
  std::vector<double> y;  // per column, fp32
};

struct TileProgramRun {
  std::vector<int64_t> accepted;  // per step, the cycle the array took it
  std::vector<ColumnResult> results;
  int64_t cycles = 0;
};

// Error unless an array of rows x cols PEs with `entries` register-file entries can take
// the step: its operand counts, its entry, its sel (0 to 127; sel[7] marks the GEMM drain).
void check_tile_step(const TileStep& step, int64_t rows, int64_t cols, int entries);

// Cycles of the PE's exp: 8 (hardware, fp32_exp_seq) or 4 (fast, fp32_exp_pwl_seq).
int tile_exp_cycles(ExpMode exp);
// Cycles the array holds a step before it takes the next: the exp's for Exp, one more for
// SubExp, else 1.
int tile_step_hold(TileOp op, ExpMode exp);

class ResidentArray {
 public:
  // storage: BF16 or FP16; exp: Hardware or Fast; entries: 1 to 16 (hdl/pe_2d.sv).
  ResidentArray(int64_t rows, int64_t cols, NumberFormat storage, ExpMode exp, int entries = 16);
  // Runs the program on the array's state (Error, before any step runs, for a step it
  // cannot take: a wrong operand count, an entry out of range, a sel of 128 or more).
  TileProgramRun run(const std::vector<TileStep>& program);
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  double acc(int64_t r, int64_t c) const { return pe(r, c).acc; }
  double entry(int64_t r, int64_t c, int e) const { return pe(r, c).rf[static_cast<size_t>(e)]; }

 private:
  struct Pe {
    double acc = 0;
    std::vector<double> rf;
  };
  const Pe& pe(int64_t r, int64_t c) const { return pe_[static_cast<size_t>(r * cols_ + c)]; }
  double apply(Pe& p, int64_t row, const TileStep& s, double a, double b) const;

  int64_t rows_, cols_;
  NumberFormat storage_;
  ExpMode exp_;
  int entries_;
  std::vector<Pe> pe_;  // rows x cols, row-major
};

}  // namespace cascade
