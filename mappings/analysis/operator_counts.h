// Operator counts of a cascade: the one counter. `cascade ops` prints it, and make_problem
// derives Problem::ops_per_point (what the analytical and cycle-level models price) from
// it, so the two can never disagree.
//
// What is counted (mappings/README.md, "Operator counts"): per iteration point of the scope
// an operator runs in, one operator per `+ - * /`, negation, function call and reduction
// step (concat is data movement: no operator). In a sum (implicit, or an explicit sum(...)) whose summand is a product, a factor
// that does not depend on the summed variables (a scale, a parameter, a read indexed only
// by outer variables) is hoisted: it multiplies the finished sum once per outer point. One
// multiply of the remaining factors fuses with the accumulation into a MAC (when at least
// two remain); each further remaining factor is one multiply per point. The functional
// executor computes exactly this (sim/functional/executor.h).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "mappings/cascade/cascade.h"

namespace cascade {

// Operators by name: mac, mul, add, sub, div, neg, max, min (reductions and the binary
// functions), and every other value function by its own name (exp, sqrt, log, abs, relu,
// elu1, pow). Plus the register-file traffic the models charge for them.
struct OperatorCounts {
  std::map<std::string, double> ops;  // by operator name; sorted by name
  double operand_reads = 0;           // tensor reads (operands filled into the PE)
  double accumulator_accesses = 0;    // reduction steps (accumulator read and update)
  // `where` comparisons: one per condition and point of its scope (the output variables
  // and the condition's own), before masking. Counted, not priced: no model charges them
  // (not in `ops`, so not in Problem::ops_per_point). max/min are in `ops`, priced as such.
  double comparisons = 0;

  double of(const std::string& op) const;  // 0 when the operator does not occur
  double total() const;                    // every operator
  OperatorCounts& operator+=(const OperatorCounts& o);
  OperatorCounts scaled(double factor) const;
};

struct EinsumCost {
  int einsum = -1;
  OperatorCounts per_point;    // per iteration point (total / points; 0 when points is 0)
  double points = 0;           // iteration points that satisfy every condition, exact
  OperatorCounts total;        // exact for masked spaces and partial tiles
  std::string points_formula;  // e.g. "P*M*E" when the space is a plain box, else ""
  bool contraction = false;    // it has MACs: a sum of a product of >= 2 dependent factors
};
std::vector<EinsumCost> operator_counts(const Cascade& cascade, const Bindings& bindings);

// A summand split the way it is counted and executed. When `summand` is a product (nested
// `*` flattened, factors left to right as written) of which some factors depend on the
// summed variables and some do not, `dependent` holds the first kind and `independent`
// the second (hoisted: applied to the finished sum, in the order written). Otherwise
// `dependent` is {&summand} and nothing is hoisted.
struct SummedProduct {
  std::vector<const Expr*> dependent;
  std::vector<const Expr*> independent;
};
SummedProduct split_summed_product(const Expr& summand, const std::vector<std::string>& summed);

}  // namespace cascade
