// Kernel's construction: slots, conditions placed at their loop levels, the expression
// compiled into nodes and reads, the hoisted factors and the contraction fast paths' checks.
#include "mappings/analysis/operator_counts.h"
#include "sim/functional/kernel.h"

namespace cascade::executor_detail {

Kernel::Kernel(const Cascade& cascade, const Bindings& bindings, const Einsum& einsum,
               TensorMap& tensors, const std::map<std::string, NumberFormat>& formats,
               const ExecutionOptions& options)
    : cascade_(cascade),
      bindings_(bindings),
      einsum_(einsum),
      options_(options),
      noise_(options.noise_seed, einsum) {
  const EinsumVariables vars = einsum_variables(einsum);
  std::map<std::string, int> scope;
  auto add_slot = [&](const std::string& v) {
    const int slot = static_cast<int>(extents_.size());
    extents_.push_back(bindings.shape(rank_of_variable(v)));
    return slot;
  };
  for (const std::string& v : vars.output) scope[v] = add_slot(v);
  outputs_ = static_cast<int>(extents_.size());
  for (const std::string& v : vars.implicit) scope[v] = add_slot(v);
  outer_ = static_cast<int>(extents_.size());

  Tensor& out = tensors.at(einsum.output);
  output_ = &out;
  output_format_ = formats.at(einsum.output);
  for (const IndexExpr& i : einsum.output_indices)
    output_index_.emplace_back(i, cascade, bindings, scope);

  pending_ = einsum.where;
  outer_levels_.resize(outer_);
  std::vector<std::string> outer_names;
  for (const auto& [name, slot] : scope) outer_names.push_back(name);
  std::vector<Condition> outer_conditions = partition_conditions(cascade, outer_names);
  for (auto it = pending_.begin(); it != pending_.end();) {
    const std::set<std::string> used = condition_variables(*it);
    bool inside = true;
    for (const std::string& v : used) inside = inside && scope.count(v);
    if (inside) {
      outer_conditions.push_back(*it);
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  for (const Condition& c : outer_conditions) attach(c, scope, outer_levels_, 0);

  root_ = vars.implicit.empty()
              ? compile(einsum.value, scope, tensors)
              : compile_summand(einsum.value, vars.implicit, scope, scope, tensors, hoisted_);
  for (const Condition& c : pending_)
    throw Error(c.loc,
                "condition uses a variable that no loop of Einsum " + einsum.output + " binds");
  fast_ = vars.implicit.empty() ? false : collect_factors(root_);
  block_ok_ = outputs_ > 0 && block_applicable(outputs_ - 1);
}

// Puts a condition at the level of the last slot it reads (relative to `first_slot`).
void Kernel::attach(const Condition& c, const std::map<std::string, int>& scope,
                    std::vector<std::vector<const ConditionProgram*>>& levels, int first_slot) {
  conditions_.push_back(compile_condition(c, cascade_, bindings_, scope));
  const ConditionProgram* p = &conditions_.back();
  const auto& used = p->difference.slots_used();
  const int level = used.empty() ? 0 : std::max(0, used.back() - first_slot);
  levels[level].push_back(p);
}

int Kernel::compile(const Expr& e, const std::map<std::string, int>& scope, TensorMap& tensors) {
  Node n;
  n.op = e.op;
  switch (e.op) {
    case ExprOp::Number:
      n.number = round_to(options_.accumulate, e.number);
      break;
    case ExprOp::Parameter: {
      auto it = bindings_.parameters.find(e.name);
      if (it == bindings_.parameters.end())
        throw Error(e.loc, "parameter '" + e.name + "' has no value");
      n.number = round_to(options_.accumulate, it->second);
      n.op = ExprOp::Number;
      break;
    }
    case ExprOp::Index:
      n.index = IndexProgram(e.indices.at(0), cascade_, bindings_, scope);
      break;
    case ExprOp::Read: {
      auto it = tensors.find(e.name);
      if (it == tensors.end()) throw Error(e.loc, "tensor '" + e.name + "' has no values");
      Read r;
      r.tensor = e.name;
      r.data = it->second.values.data();
      r.extents = it->second.extents;
      r.loc = e.loc;
      if (e.indices.size() != r.extents.size())
        throw Error(e.loc, "tensor " + e.name + " has " + std::to_string(r.extents.size()) +
                               " dimensions, read with " + std::to_string(e.indices.size()));
      r.strides.assign(r.extents.size(), 1);
      for (int d = static_cast<int>(r.extents.size()) - 2; d >= 0; --d)
        r.strides[d] = r.strides[d + 1] * r.extents[d + 1];
      for (const IndexExpr& i : e.indices) r.dims.emplace_back(i, cascade_, bindings_, scope);
      reads_.push_back(std::move(r));
      n.read = static_cast<int>(reads_.size()) - 1;
      break;
    }
    case ExprOp::Call:
      n.function = function_of(e.name, e.loc);
      break;
    case ExprOp::Reduce: {
      n.reduce_max = e.name == "max";
      n.reduce_min = e.name == "min";
      std::map<std::string, int> inner = scope;
      const int first = static_cast<int>(extents_.size());
      for (const std::string& v : e.reduce_vars) {
        const int slot = static_cast<int>(extents_.size());
        extents_.push_back(bindings_.shape(rank_of_variable(v)));
        inner[v] = slot;
        n.slots.push_back(slot);
      }
      n.levels.resize(n.slots.size());
      std::vector<std::string> names;
      for (const auto& [name, slot] : inner) names.push_back(name);
      auto uses_reduced = [&](const std::set<std::string>& used) {
        for (const std::string& v : e.reduce_vars)
          if (used.count(v)) return true;
        return false;
      };
      for (const Condition& c : partition_conditions(cascade_, names))
        if (uses_reduced(condition_variables(c))) attach(c, inner, n.levels, first);
      for (auto it = pending_.begin(); it != pending_.end();) {
        const std::set<std::string> used = condition_variables(*it);
        bool inside = uses_reduced(used);
        for (const std::string& v : used) inside = inside && inner.count(v);
        if (inside) {
          attach(*it, inner, n.levels, first);
          it = pending_.erase(it);
        } else {
          ++it;
        }
      }
      n.args.push_back(e.name == "sum" ? compile_summand(e.args.at(0), e.reduce_vars, inner, scope,
                                                         tensors, n.hoisted)
                                       : compile(e.args.at(0), inner, tensors));
      nodes_.push_back(std::move(n));
      return static_cast<int>(nodes_.size()) - 1;
    }
    case ExprOp::Concat: {  // part k binds its variable to j - (the parts before it)
      n.index = IndexProgram(e.indices.at(0), cascade_, bindings_, scope);
      for (size_t k = 0; k < e.args.size(); ++k) {
        std::map<std::string, int> inner = scope;
        inner[e.reduce_vars.at(k)] = n.slots.emplace_back(static_cast<int>(extents_.size()));
        extents_.push_back(concat_part_extent(e, k, cascade_, bindings_));
        n.parts_end.push_back((k == 0 ? 0 : n.parts_end.back()) + extents_.back());
        n.args.push_back(compile(e.args[k], inner, tensors));
      }
      nodes_.push_back(std::move(n));
      return static_cast<int>(nodes_.size()) - 1;
    }
    default:
      break;
  }
  for (const Expr& a : e.args) n.args.push_back(compile(a, scope, tensors));
  nodes_.push_back(std::move(n));
  return static_cast<int>(nodes_.size()) - 1;
}

// The summand of a sum over `summed`: the factors of a product that do not depend on the
// summed variables (split_summed_product, the operator counter's rule) are compiled in
// the outer scope into `hoisted`, to multiply the finished sum; the summand is the
// product as written without them.
int Kernel::compile_summand(const Expr& summand, const std::vector<std::string>& summed,
                            const std::map<std::string, int>& inner,
                            const std::map<std::string, int>& outer, TensorMap& tensors,
                            std::vector<int>& hoisted) {
  const SummedProduct split = split_summed_product(summand, summed);
  if (split.independent.empty()) return compile(summand, inner, tensors);
  Expr rest;
  without_factors(summand, split.independent, rest);  // dependent factors remain
  const int root = compile(rest, inner, tensors);
  for (const Expr* f : split.independent) hoisted.push_back(compile(*f, outer, tensors));
  return root;
}

// The fast path: a left-deep product of reads and constants, summed implicitly.
bool Kernel::collect_factors(int node) {
  const Node& n = nodes_[node];
  if (n.op == ExprOp::Mul) {
    if (!collect_factors(n.args[0])) return false;
    const Node& right = nodes_[n.args[1]];
    if (right.op != ExprOp::Read && right.op != ExprOp::Number) return false;
    factors_.push_back(n.args[1]);
    return true;
  }
  if (n.op == ExprOp::Read || n.op == ExprOp::Number) {
    factors_.push_back(node);
    return true;
  }
  return false;
}

// Whether a block of the last output variable can be computed together: a contraction
// whose summation space does not depend on that variable. Each output still accumulates
// sequentially in the same order; only the loops are interchanged so the innermost loop
// runs over outputs (contiguous, vectorizable).
bool Kernel::block_applicable(int level) const {
  if (!fast_ || outer_ == outputs_ || factors_.size() > kMaxFactors) return false;
  for (int l = outputs_; l < outer_; ++l)
    for (const ConditionProgram* c : outer_levels_[l]) {
      const auto& used = c->difference.slots_used();
      if (std::find(used.begin(), used.end(), level) != used.end()) return false;
    }
  for (int f : factors_) {
    const Node& n = nodes_[f];
    if (n.op != ExprOp::Read) continue;
    for (const IndexProgram& d : reads_[n.read].dims)
      if (!d.affine()) return false;
  }
  for (const IndexProgram& d : output_index_)
    if (!d.affine()) return false;
  return true;
}

}  // namespace cascade::executor_detail
