// The pieces the functional executor's kernels are built from (sim/functional/executor.cpp
// only): compiled expression nodes and reads, the summand without its hoisted factors, and
// the inner loop of a contraction. Not an interface.
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "mappings/cascade/cascade.h"
#include "mappings/cascade/index_program.h"
#include "sim/functional/number_format.h"

namespace cascade::executor_detail {

enum class Function { Exp, Sqrt, Max, Min, Pow, Elu1, Relu, Abs, Log, Sigmoid, Tanh, Softplus };

inline Function function_of(const std::string& name, const SourceLocation& loc) {
  static const std::map<std::string, Function> table = {
      {"exp", Function::Exp},   {"sqrt", Function::Sqrt}, {"max", Function::Max},
      {"min", Function::Min},   {"pow", Function::Pow},   {"elu1", Function::Elu1},
      {"relu", Function::Relu}, {"abs", Function::Abs},   {"log", Function::Log},
      {"sigmoid", Function::Sigmoid}, {"tanh", Function::Tanh}, {"softplus", Function::Softplus}};
  auto it = table.find(name);
  if (it == table.end()) throw Error(loc, "unknown function '" + name + "'");
  return it->second;
}

inline void index_variable_names(const IndexExpr& e, std::set<std::string>& out) {
  if (e.op == IndexOp::Variable) out.insert(e.name);
  for (const IndexExpr& a : e.args) index_variable_names(a, out);
}

inline std::set<std::string> condition_variables(const Condition& c) {
  std::set<std::string> vars;
  index_variable_names(c.lhs, vars);
  index_variable_names(c.rhs, vars);
  return vars;
}

struct Read {
  std::string tensor;
  const double* data = nullptr;
  std::vector<IndexProgram> dims;
  std::vector<int64_t> extents, strides;
  SourceLocation loc;
};

struct Node {
  ExprOp op = ExprOp::Number;
  Function function = Function::Exp;
  double number = 0;  // Number / Parameter, already rounded
  int read = -1;
  IndexProgram index;
  std::vector<int> args;
  // Reduce
  bool reduce_max = false, reduce_min = false;
  std::vector<int> slots;
  std::vector<std::vector<const ConditionProgram*>> levels;  // per reduce slot
  std::vector<int> hoisted;  // sum: factors applied to the finished sum, in order
  // Concat: `index` is j, slots[k] part k's variable, parts_end[k] where part k ends on j.
  std::vector<int64_t> parts_end;
};

// The extent of part k of a concat: the shape of the k-th part rank of its declaration.
inline int64_t concat_part_extent(const Expr& e, size_t k, const Cascade& cascade,
                                  const Bindings& bindings) {
  const Concatenation* cat = cascade.find_concatenation(rank_of_variable(e.indices.at(0).name));
  if (cat == nullptr || cat->parts.size() != e.args.size() || e.reduce_vars.size() != e.args.size())
    throw Error(e.loc, "malformed concat");
  return bindings.shape(cat->parts.at(k));
}

// The part of concat node `n` that j (its index) falls in; sets that part's variable slot to
// j's position inside it.
inline size_t enter_concat_part(const Node& n, std::vector<int64_t>& slots, const Einsum& einsum) {
  const int64_t j = n.index.evaluate(slots.data());
  for (size_t k = 0; k < n.args.size(); ++k)
    if (j < n.parts_end[k]) {
      slots[n.slots[k]] = j - (k == 0 ? 0 : n.parts_end[k - 1]);
      return k;
    }
  throw Error(einsum.loc, "Einsum " + einsum.output + ": concat index " + std::to_string(j) +
                              " is past the concatenated rank");
}

// `product` with the factors in `drop` taken out (Mul nodes with one factor left collapse
// to it); false when every factor is dropped.
inline bool without_factors(const Expr& product, const std::vector<const Expr*>& drop, Expr& out) {
  if (std::find(drop.begin(), drop.end(), &product) != drop.end()) return false;
  if (product.op != ExprOp::Mul) {
    out = product;
    return true;
  }
  Expr left, right;
  const bool has_left = without_factors(product.args[0], drop, left);
  const bool has_right = without_factors(product.args[1], drop, right);
  if (has_left && has_right) {
    out = product;
    out.args = {std::move(left), std::move(right)};
  } else if (has_left || has_right) {
    out = has_left ? std::move(left) : std::move(right);
  }
  return has_left || has_right;
}

// acc[j] += f0[j*s0] * f1[j*s1] * ... for j in [0, n) -- or, with kOneAccumulator, all
// terms summed in order into acc[0]. Products are formed left to right; every product and
// sum is rounded to F. For fp32, native float arithmetic gives the same bits as rounding
// each double result (products of floats are exact in double and sums round once either
// way) and keeps conversions off the accumulator's dependency chain.
template <NumberFormat F, bool kOneAccumulator, typename Acc>
inline void accumulate_products(size_t count, const double* const* base, const int64_t* stride,
                                int64_t n, Acc* acc) {
  auto target = [&](int64_t j) -> Acc& { return kOneAccumulator ? acc[0] : acc[j]; };
  if constexpr (F == NumberFormat::FP32) {
    if (count == 2) {
      const double *a = base[0], *b = base[1];
      const int64_t sa = stride[0], sb = stride[1];
      for (int64_t j = 0; j < n; ++j)
        target(j) += static_cast<float>(a[j * sa]) * static_cast<float>(b[j * sb]);
      return;
    }
    if (count == 3) {
      const double *a = base[0], *b = base[1], *c = base[2];
      const int64_t sa = stride[0], sb = stride[1], sc = stride[2];
      for (int64_t j = 0; j < n; ++j)
        target(j) += static_cast<float>(a[j * sa]) * static_cast<float>(b[j * sb]) *
                     static_cast<float>(c[j * sc]);
      return;
    }
  }
  for (int64_t j = 0; j < n; ++j) {
    double product = base[0][j * stride[0]];
    for (size_t f = 1; f < count; ++f) product = round_as<F>(product * base[f][j * stride[f]]);
    target(j) = static_cast<Acc>(round_as<F>(static_cast<double>(target(j)) + product));
  }
}

constexpr size_t kMaxFactors = 8;

}  // namespace cascade::executor_detail
