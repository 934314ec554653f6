// Index extents over a tile: how many distinct values an index expression takes when each
// variable ranges over a tile of given extents (m1*M0 + m0 over a tile of e(m1) x e(m0)
// spans (e(m1)-1)*M0 + e(m0)). The loop-nest analysis of data movement sizes tiles with it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mappings/cascade/cascade.h"

namespace cascade {

// Problem: a cascade with concrete shapes, batch and heads, prepared for loop-nest analysis.
// Built once per (cascade, shapes); every mapping evaluation reuses it.

// One node of a compiled index expression (postfix), used to compute the extent of an index
// over a tile: for a tile of extents e(v) per variable, `m1*M0 + m0` spans (e(m1)-1)*M0 + e(m0).
struct IndexExtentNode {
  enum Op : uint8_t { Constant, Variable, Add, Mul, Div, Mod, MaxOf } op = Constant;
  int64_t value = 0;  // Constant: the value; Variable: the slot
  int lhs = -1, rhs = -1;
};


// Compiles an index expression (shapes folded, index functions inlined); `variables` are the
// names of the slots, in slot order.
std::vector<IndexExtentNode> compile_index_extent(const IndexExpr& expr, const Cascade& cascade,
                                                  const Bindings& bindings,
                                                  const std::vector<std::string>& variables);

// The number of distinct values an index takes over a tile with the given extents per slot.
double index_extent(const std::vector<IndexExtentNode>& nodes, const double* extents);

// Sets the bit of every slot the program reads.
void index_variable_slots(const std::vector<IndexExtentNode>& nodes, uint64_t& mask);

}  // namespace cascade
