// An Einsum's run on a 2D array as systolic folds (the Array2D module's wavefront model):
// which tile stays in the PEs, how many steps it stays for, and what fills and drains.
//
// The stationary tile is the output's if it spans every spatial rank (output stationary),
// else the first read that does (weight stationary; input stationary is the same with the
// operands' roles exchanged). Its fold lasts the innermost temporal loops over ranks it
// does not use (the stream); the other temporal loops give the folds. Per fold:
//  - load  R cycles when the stationary tile is a read that is not already in the PEs'
//          register files (produced there by an earlier Einsum), plus R for every other
//          read spanning both spatial ranks that is not resident;
//  - drain R cycles when an output-stationary result leaves the array (it is not kept in
//          the register files for the next Einsum);
//  - skew  R - 1 when something moves down the columns (an operand or a partial sum that
//          spans the column rank but not the row rank), plus C - 1 when something moves
//          across the rows (spans the row rank only).
// A GEMM gets load + drain = R and skew = R + C - 2: the closed forms of systolic.h, which
// the per-PE model checks cycle for cycle.
#pragma once

#include "arch/arch_spec.h"
#include "mappings/mapping/resolve.h"
#include "mappings/problem/problem.h"
#include "sim/systemc/systolic.h"

namespace cascade {

struct FoldShape {
  Dataflow dataflow = Dataflow::OutputStationary;
  int stationary = -1;  // access index of the stationary tile
  int64_t rows = 1, cols = 1;
  double stream = 1;  // steps per fold
  double folds = 1;   // per run
  double load = 0, drain = 0, skew = 0;  // cycles per fold
  bool gemm = false;  // a two-operand product reduced over one rank: the per-PE model runs it
  uint64_t row_slots = 0, col_slots = 0;  // the iteration slots spread over the rows / columns
};

FoldShape fold_shape(const Problem& problem, const ResolvedMapping& mapping, int einsum);

// Cycles of one run: `ii` cycles per point, `density` the share of points the Einsum's
// `where` keeps (the streaming shrinks with it; fill and drain do not).
double run_cycles(const FoldShape& shape, double ii, double density, FillDrain policy);

}  // namespace cascade
