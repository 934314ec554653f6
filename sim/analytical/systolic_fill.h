// The analytical model's closed form for a 2D array's systolic fill and drain (the arch's
// `fill_drain`): the cycle-level model's Array2D times every fold; this counts them in
// closed form over the whole Einsum. The physics (systolic.h, fold_shape.h): per fold of an
// R x C region, the stationary tile loads (R cycles) unless it is already in the PEs, an
// output-stationary result drains (R) unless it stays, and operands crossing the array add
// their skew (R - 1 down the columns, C - 1 across the rows); a fold streams S steps.
//   per_fold:   runs x F x (fill + drain + skew + S II d)
//   overlapped: runs x [(F - 1) max(S II d, load + drain) + fill + drain + skew + S II d]
// with F folds per run, II the issue interval, d the share of points a `where` keeps.
#pragma once

#include "arch/arch_spec.h"
#include "mappings/mapping/resolve.h"
#include "mappings/problem/problem.h"

namespace cascade {

// Busy cycles of Einsum `e` on its array including fill and drain (the array's policy);
// equals ii x temporal iterations x density when the policy is none or the array has one row.
double systolic_busy_cycles(const Problem& problem, const ResolvedMapping& mapping, int e,
                            const PeArray& array, double ii);

}  // namespace cascade
