// Index expressions compiled for fast repeated evaluation: shapes are folded to
// constants, user index functions are inlined, variables become slots of an int64 array.
// Affine expressions (the common case: m1*M0 + m0) also expose their coefficients so loops
// can step offsets instead of re-evaluating.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mappings/cascade/cascade.h"

namespace cascade {

class IndexProgram {
 public:
  IndexProgram() = default;
  // `slots` maps each variable that may appear to its slot index.
  IndexProgram(const IndexExpr& expr, const Cascade& cascade, const Bindings& bindings,
               const std::map<std::string, int>& slots);

  int64_t evaluate(const int64_t* slot_values) const {
    if (affine_) {
      int64_t v = constant_;
      for (const auto& [slot, coef] : terms_) v += coef * slot_values[slot];
      return v;
    }
    return evaluate_node(root_, slot_values);
  }

  bool affine() const { return affine_; }
  int64_t constant() const { return constant_; }
  // Coefficient of a slot in an affine program (0 when absent).
  int64_t coefficient(int slot) const;
  // Slots the program reads.
  const std::vector<int>& slots_used() const { return slots_used_; }
  const SourceLocation& loc() const { return loc_; }

 private:
  struct Node {
    IndexOp op = IndexOp::Constant;
    int64_t value = 0;  // Constant, or slot for Variable
    int builtin = 0;    // Call: 0 min, 1 max, 2 clamp
    std::vector<int> args;
  };
  int build(const IndexExpr& expr, const Cascade& cascade, const Bindings& bindings,
            const std::map<std::string, int>& slots,
            const std::map<std::string, int>& locals, int depth);
  int64_t evaluate_node(int node, const int64_t* slot_values) const;
  bool linearize(int node, std::map<int, int64_t>& terms, int64_t& constant,
                 int64_t factor) const;

  std::vector<Node> nodes_;
  int root_ = -1;
  bool affine_ = false;
  std::vector<std::pair<int, int64_t>> terms_;  // affine: (slot, coefficient)
  int64_t constant_ = 0;
  std::vector<int> slots_used_;
  SourceLocation loc_;
};

// A compiled `where` condition (or a partition bound): lhs - rhs compared to 0.
struct ConditionProgram {
  IndexProgram difference;  // lhs - rhs
  CompareOp op = CompareOp::Less;
  bool holds(const int64_t* slot_values) const {
    const int64_t d = difference.evaluate(slot_values);
    switch (op) {
      case CompareOp::Less: return d < 0;
      case CompareOp::LessEqual: return d <= 0;
      case CompareOp::Greater: return d > 0;
      case CompareOp::GreaterEqual: return d >= 0;
      case CompareOp::Equal: return d == 0;
      case CompareOp::NotEqual: return d != 0;
    }
    return false;
  }
};
ConditionProgram compile_condition(const Condition& condition, const Cascade& cascade,
                                   const Bindings& bindings,
                                   const std::map<std::string, int>& slots);

// The conditions a partition imposes on a scope that binds both of its parts:
// m1*M0 + m0 < M.
std::vector<Condition> partition_conditions(const Cascade& cascade,
                                            const std::vector<std::string>& variables);

// Tightens [lo, hi] (inclusive) for the slot `slot` from conditions that are affine in it
// with every other slot they read already bound; returns false if the others must be
// checked per point (a condition is not affine or reads a later slot).
bool restrict_range(const std::vector<const ConditionProgram*>& conditions, int slot,
                    const int64_t* slot_values, int64_t& lo, int64_t& hi);

}  // namespace cascade
