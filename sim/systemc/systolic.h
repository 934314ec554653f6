// Systolic timing of a 2D PE array, at two granularities that must agree cycle for cycle:
//
//  - wavefront: closed forms per fold (systolic_cycles), what the Array2D module uses for
//    any size (256 x 256 and up);
//  - per PE: SystolicArray, one PE object per position, operands moving one PE per cycle,
//    for arrays up to 32 x 32. It moves real values (the executor's rounding: a product
//    rounded to the accumulation format, then the sum rounded) and checks the closed forms.
//
// The schedule (R = rows used, C = columns used, T = stream steps per fold, F = folds):
//
//  output stationary (OS)  PE(r, c) holds output (r, c). A's row r enters PE(r, 0) at cycle
//      k + r and moves east, B's column c enters PE(0, c) at k + c and moves south, so PE
//      (r, c) does its k-th MAC at cycle k + r + c; the last at T - 1 + (R - 1) + (C - 1).
//      The results then shift south out of the array, one row per cycle: R cycles.
//  weight stationary (WS)  the stationary tile enters from the north, one row per cycle:
//      R cycles. Streamed row i enters PE(r, 0) at R + i + r and moves east; its partial
//      sum enters PE(0, c) at R + i + c and moves south, accumulating down the column; it
//      leaves PE(R - 1, c) at R + i + (R - 1) + c.
//  input stationary (IS) is WS with the operands' roles exchanged.
//
// Both give, per fold with folds one after another,   2R + C + T - 2   cycles (SCALE-Sim's
// form), and F of them take F (2R + C + T - 2). With folds overlapping (the next fold's
// stationary tile loads, or this fold's results drain, through shadow registers while the
// next fold streams) a fold issues every max(T, R) cycles:
//     (F - 1) max(T, R) + 2R + C + T - 2.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/functional/number_format.h"

namespace cascade {

enum class Dataflow { OutputStationary, WeightStationary, InputStationary };
const char* to_string(Dataflow dataflow);

// Cycles of `folds` folds of `stream` steps on `rows` x `cols` PEs (the closed forms above).
// `stream` may be fractional (a point costs II cycles; stream = points per PE x II).
double systolic_cycles(int64_t rows, int64_t cols, double stream, int64_t folds,
                       bool overlap_folds);

// The folds a GEMM (C = A B, M x N x K) takes on rows x cols PEs in `dataflow`: the rows
// and columns used, the steps per fold and the folds (SystolicArray's and the closed forms'
// R, C, T and F). Two GEMMs of one geometry take the same cycles.
struct SystolicGeometry {
  int64_t rows = 0, cols = 0, stream = 0, folds = 0;
  bool operator==(const SystolicGeometry&) const = default;
};
SystolicGeometry systolic_geometry(int64_t rows, int64_t cols, Dataflow dataflow, int64_t m,
                                   int64_t n, int64_t k);

// C[M][N] = A[M][K] B[K][N], row-major.
struct GemmOperands {
  int64_t m = 0, n = 0, k = 0;
  std::vector<double> a, b;
};

// The input-stationary GEMM as weight stationary: C^T = B^T A^T (M and N exchanged, A and
// B transposed and swapped); transpose_result turns the C^T it computes back into C.
GemmOperands transposed(const GemmOperands& gemm);
std::vector<double> transpose_result(const std::vector<double>& ct, int64_t m, int64_t n);

struct SystolicRun {
  int64_t cycles = 0;
  int64_t folds = 0;
  int64_t macs = 0;  // MACs done (every PE-cycle that computed)
  std::vector<double> c;  // M x N, row-major
};

// One PE: the operand registers it passes on, its accumulator, and (for overlapped folds)
// the shadow register its finished result drains through.
struct SystolicPe {
  double a = 0, b = 0, acc = 0, shadow = 0;
  bool a_valid = false, b_valid = false;
  int64_t a_tag = -1, b_tag = -1;  // which step the operand belongs to
};

// The per-PE model. OS maps M on the rows and N on the columns (output (i, j) at
// PE(i mod R, j mod C)); WS holds B with K on the rows and N on the columns and streams
// A's M rows; IS holds A transposed (K on the rows, M on the columns) and streams B's N
// columns. Folds are taken in row-major order of the tiles; a reduction split over folds
// (K > R in WS/IS) accumulates in ascending k, the partial sums coming back from the
// buffer, so the values equal a sequential sum in ascending k.
class SystolicArray {
 public:
  SystolicArray(int64_t rows, int64_t cols, NumberFormat accumulate);
  SystolicRun run(Dataflow dataflow, const GemmOperands& gemm, bool overlap_folds);
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }

 private:
  double mac(double acc, double a, double b) const;
  void reset();
  SystolicRun run_output_stationary(const GemmOperands& g, bool overlap);
  // WS on (M x K) . (K x N); IS calls it on the transposed problem.
  SystolicRun run_weight_stationary(const GemmOperands& g, bool overlap);

  int64_t rows_, cols_;
  NumberFormat accumulate_;
  std::vector<SystolicPe> pe_;  // rows x cols, row-major
  SystolicPe& at(int64_t r, int64_t c) { return pe_[static_cast<size_t>(r * cols_ + c)]; }
};

}  // namespace cascade
