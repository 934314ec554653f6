// Analyses of a validated cascade: the variables of an Einsum and the evaluation order.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mappings/cascade/cascade.h"

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

}  // namespace cascade
