// The cost of one iteration point of an Einsum on a PE array: the actions it performs on the
// array's components and its issue interval. The one rule both the analytical and the
// cycle-level model apply to compute (it describes the PE, not a schedule):
//
//   An Einsum's operators per point (mappings/analysis/operator_counts) are realised as the
//   array's operations (lower_operation: sub -> add, elu1 -> exp + add + max, ...), each a set
//   of actions on the PE's components (FuseMax's 2D exp = 6 MACs + 1 add). A PE's functional
//   units are pipelined independently, so one point issues every
//       II = max( max over components c of the actions per point on c,
//                 max over operations o of (o per point) x issue cycles of o )
//   cycles (FLAT's exp(QK - M) is 1 cycle: an add and an exp on different units; FuseMax's
//   exp(BQK - RM) is 7: the exp alone takes 7 issue slots).
#pragma once

#include <string>
#include <vector>

#include "arch/arch_spec.h"
#include "mappings/problem/problem.h"

namespace cascade {

struct PointAction {
  std::string component;
  std::string action;
  double per_point = 0;
};

struct ComputeCost {
  bool supported = false;  // the array can run every operator of the Einsum
  double ii = 0;           // issue interval, cycles per point per PE
  std::vector<PointAction> actions;
};

ComputeCost compute_cost(const ProblemEinsum& einsum, const PeArray& array);

}  // namespace cascade
