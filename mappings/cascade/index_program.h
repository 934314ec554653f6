// The one evaluator of integer index expressions (K[e, m1*M0 + m0], K[e, start(p) + w*D]).
//
// An IndexExpr is compiled once: shapes are folded to constants (from Bindings, or through
// a lookup while the bindings are still being resolved), user index functions are inlined,
// variables become slots of an int64 array. The program is a list of nodes in the order a
// left-to-right evaluation of the tree meets them (operands before the node that uses
// them, a call's arguments before the inlined body), so every mode is one sweep:
//
//   evaluate_checked  the values as written: floor division, non-negative modulo; overflow,
//                     division by zero, clamp with lo > hi, unknown names, wrong arity and
//                     runaway recursion throw Error at the offending node's file:line:col.
//                     Problems found while compiling are kept as failing nodes, so errors
//                     come in the same order as a tree walk would raise them.
//   evaluate          the same values for the hot loops (executor, operator counts): an
//                     affine program (m1*M0 + m0) sums coefficient * slot without checks.
//   extent            the length of the interval an index's values lie in when each slot
//                     ranges over a tile of given extents (data movement): exact for affine
//                     indices, an upper bound through min/max/clamp.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mappings/cascade/cascade.h"

namespace cascade {

struct IndexSources;  // index_program.cpp: what error messages need

// The value of shape `name`, used at `use`; throws Error when there is none.
using ShapeLookup = std::function<int64_t(const std::string& name, const SourceLocation& use)>;

class alignas(64) IndexProgram {
 public:
  IndexProgram() = default;
  // `slots` maps each variable that may appear to its slot index.
  IndexProgram(const IndexExpr& expr, const Cascade& cascade, const Bindings& bindings,
               const std::map<std::string, int>& slots);
  IndexProgram(const IndexExpr& expr, const Cascade& cascade, const ShapeLookup& shapes,
               const std::map<std::string, int>& slots);

  int64_t evaluate(const int64_t* slot_values) const {
    if (affine_) {
      int64_t v = constant_;
      for (const auto& [slot, coef] : terms_) v += coef * slot_values[slot];
      return v;
    }
    return evaluate_checked(slot_values);
  }
  int64_t evaluate_checked(const int64_t* slot_values) const;
  // The interval the index spans over a tile with `slot_extents[s]` values of slot s (>= 1
  // each), which bounds how many distinct values it takes. The rules, node by node:
  // constants 1; a + b and a - b: len a + len b - 1; c * a: (len a - 1) * |c| + 1;
  // a / c (c > 0): floor((len a - 1) / c) + 1; a % c (c > 0): min(len a, c);
  // min, max, clamp: the widest argument; a * b of two variables: len a * len b. Exact for
  // affine indices whose slots appear once (not m - m); / and % assume a tile that starts at
  // a multiple of the divisor.
  double extent(const double* slot_extents) const;

  // Affine: every node is reached from the root and the value is constant + Σ coef * slot.
  bool affine() const { return affine_; }
  int64_t constant() const { return constant_; }
  // Coefficient of a slot in an affine program (0 when absent).
  int64_t coefficient(int slot) const;
  // Slots the program reads, ascending.
  const std::vector<int>& slots_used() const { return slots_used_; }
  const SourceLocation& loc() const;

 private:
  friend class IndexCompiler;
  enum class Kind : uint8_t { Constant, Slot, Add, Sub, Mul, Div, Mod, Neg, Min, Max, Clamp, Fail };
  struct Node {
    Kind kind = Kind::Constant;
    int a = -1, b = -1, c = -1;  // operand nodes (earlier in the list)
    int64_t value = 0;           // Constant: the value; Slot: the slot; Fail: the error
  };
  // Throws the error of an operation whose value is undefined (operands b and c given).
  [[noreturn]] void fail_at(int node, int64_t b, int64_t c) const;
  bool linearize(int node, std::map<int, int64_t>& terms, int64_t& constant,
                 int64_t factor) const;
  void finish();

  // Hot fields only, 104 bytes, which alignas(64) rounds to 128: arrays of programs are
  // indexed in the executor's innermost loops, and a power-of-two size makes that a shift
  // (a 200-byte program cost the functional benchmark 6 %).
  std::vector<Node> nodes_;
  std::vector<std::pair<int, int64_t>> terms_;  // affine: (slot, coefficient)
  std::vector<int> slots_used_;
  int64_t constant_ = 0;
  int root_ = -1;
  bool affine_ = false;
  // Cold, for messages: the expressions the nodes came from, the errors found while
  // compiling (raised when evaluation reaches their Fail node), the location.
  std::shared_ptr<const IndexSources> sources_;
};

static_assert(sizeof(IndexProgram) == 128, "see the note on the hot fields");

// A compiled `where` condition (or a partition bound): lhs - rhs compared to 0.
// Whether `lhs op rhs` holds, given d = lhs - rhs.
inline bool compares(CompareOp op, int64_t d) {
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

struct ConditionProgram {
  IndexProgram difference;  // lhs - rhs
  CompareOp op = CompareOp::Less;
  bool holds(const int64_t* slot_values) const { return compares(op, difference.evaluate(slot_values)); }
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
