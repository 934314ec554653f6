// Operator counts of a cascade: the one counter (cascade ops and every model use it).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mappings/cascade/cascade.h"

namespace cascade {

// Operator counts. Per point of the iteration space, an Einsum costs the operators of its
// expression; a multiply whose result feeds a sum reduction directly counts as one MAC.
struct OperatorCounts {
  double macs = 0, multiplies = 0, adds = 0, subtracts = 0, divides = 0, exps = 0,
         maxes = 0, compares = 0, sqrts = 0, other = 0;
  double total() const;
  OperatorCounts& operator+=(const OperatorCounts& o);
  OperatorCounts scaled(double factor) const;
};
struct EinsumCost {
  int einsum = -1;
  OperatorCounts per_point;   // operators per iteration point (reductions included)
  double points = 0;          // iteration points that satisfy every condition
  OperatorCounts total;       // per_point * points (exact for masked spaces)
  std::string points_formula; // e.g. "P*M*E" when the space is a plain box, else ""
};
std::vector<EinsumCost> operator_counts(const Cascade& cascade, const Bindings& bindings);

}  // namespace cascade
