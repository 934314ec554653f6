// Analyses of a validated cascade: variables, evaluation order, operator counts, passes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mappings/cascade.h"

namespace cascade {

// The variables of one Einsum's iteration space.
struct EinsumVariables {
  std::vector<std::string> output;    // in output-index order (m1 for RM[m1+1, p])
  std::vector<std::string> implicit;  // summed implicitly: only on the right, outside
                                      // explicit reductions; in order of first use
  std::vector<std::string> reduced;   // bound by explicit reductions
  std::vector<std::string> all() const;  // output, implicit, reduced
};
EinsumVariables einsum_variables(const Einsum& einsum);

// Evaluation order. Einsums that depend on each other through an iterative rank
// (RD[m1+1] = SPD[m1] + SLD[m1], SPD[m1] = RD[m1] * PRM[m1]) form one group that is
// evaluated slice by slice over `iterative_variable`, ascending; inside a slice the
// group's Einsums run in `einsums` order. Every other group holds one Einsum.
struct EinsumGroup {
  std::vector<int> einsums;
  std::string iterative_variable;  // "" for an ordinary Einsum
};
std::vector<EinsumGroup> evaluation_order(const Cascade& cascade);

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

// Pass analysis (FuseMax, MICRO'24, Sec. 3): the number of passes an evaluation must make
// over the elements of a rank's fibres. A later Einsum that iterates over rank R and reads
// a value that depends on a full reduction over R by an earlier Einsum needs another pass.
struct PassCause {
  int pass = 0;            // the pass this cause opens (2, 3, ...)
  int einsum = -1;         // the Einsum that must wait
  std::string tensor;      // the tensor it reads
  int reducer = -1;        // the Einsum whose full reduction over R that tensor depends on
};
struct RankPasses {
  std::string rank;                 // root rank (M, not M1/M0)
  int passes = 0;                   // 0 if no Einsum iterates over it
  std::map<int, int> einsum_pass;   // einsum index -> pass it runs in (iterating ones)
  std::vector<PassCause> causes;
};
struct PassReport {
  std::vector<RankPasses> ranks;  // every root rank, declaration order
  int max_passes() const;
  const RankPasses* find(const std::string& rank) const;
};
PassReport analyze_passes(const Cascade& cascade);

}  // namespace cascade
