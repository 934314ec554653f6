// Index extents over a tile, for the loop-nest analysis of data movement: the interval an
// index spans when each variable ranges over a tile of given extents (m1*M0 + m0 over
// e(m1) x e(m0) spans (e(m1)-1)*M0 + e(m0)). The analysis is IndexProgram::extent; these
// are the names problem.cpp and resolve.cpp use.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mappings/cascade/cascade.h"
#include "mappings/cascade/index_program.h"

namespace cascade {

// Compiles an index expression (shapes folded, index functions inlined); `variables` are the
// names of the slots, in slot order.
inline IndexProgram compile_index_extent(const IndexExpr& expr, const Cascade& cascade,
                                         const Bindings& bindings,
                                         const std::vector<std::string>& variables) {
  std::map<std::string, int> slots;
  for (size_t i = 0; i < variables.size(); ++i) slots.emplace(variables[i], static_cast<int>(i));
  return IndexProgram(expr, cascade, bindings, slots);
}

// The interval an index spans over a tile with the given extents per slot.
inline double index_extent(const IndexProgram& index, const double* extents) {
  return index.extent(extents);
}

// Sets the bit of every slot the program reads.
inline void index_variable_slots(const IndexProgram& index, uint64_t& mask) {
  for (int slot : index.slots_used())
    if (slot < 64) mask |= uint64_t{1} << slot;
}

}  // namespace cascade
