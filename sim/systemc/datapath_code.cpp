#include "sim/systemc/datapath_code.h"

#include <fmt/core.h>

#include <algorithm>

#include "arch/support/error.h"
#include "mappings/analysis/evaluation_order.h"
#include "mappings/analysis/operator_counts.h"

namespace cascade::datapath_detail {

namespace {

Fn function_named(const std::string& name, const SourceLocation& loc) {
  static const std::pair<const char*, Fn> table[] = {
      {"exp", Fn::Exp},   {"sqrt", Fn::Sqrt}, {"log", Fn::Log}, {"abs", Fn::Abs}, {"relu", Fn::Relu},
      {"elu1", Fn::Elu1}, {"max", Fn::Max},   {"min", Fn::Min}, {"pow", Fn::Pow},
      {"sigmoid", Fn::Sigmoid}, {"tanh", Fn::Tanh}, {"softplus", Fn::Softplus}};
  for (const auto& [n, f] : table)
    if (name == n) return f;
  throw Error(loc, "data mode: no datapath for function '" + name + "'");
}

// Builds an EinsumCode's nodes and its read and reduction sites from an expression.
struct Builder {
  const CompileContext& impl;
  EinsumCode& c;
  const std::map<std::string, int>& scope;
  const std::vector<std::set<std::string>>& used;
  std::vector<bool>& placed;

  int add(Node n) {
    c.nodes.push_back(std::move(n));
    return static_cast<int>(c.nodes.size()) - 1;
  }

  // The summand of a sum over `summed`, its hoisted factors compiled in the outer scope.
  int summand(const Expr& e, const std::vector<std::string>& summed,
              const std::set<std::string>& inner, const std::set<std::string>& outer,
              std::vector<int>& hoisted) {
    const SummedProduct split = split_summed_product(e, summed);
    for (const Expr* f : split.independent) hoisted.push_back(node(*f, outer));
    return product_without(e, split.independent, inner);
  }

  // `e` with the factors in `drop` taken out of its product (-1 when none is left).
  int product_without(const Expr& e, const std::vector<const Expr*>& drop,
                      const std::set<std::string>& scope_names) {
    if (std::find(drop.begin(), drop.end(), &e) != drop.end()) return -1;
    if (e.op != ExprOp::Mul) return node(e, scope_names);
    const int l = product_without(e.args[0], drop, scope_names);
    const int r = product_without(e.args[1], drop, scope_names);
    if (l < 0 || r < 0) return l < 0 ? r : l;
    Node n;
    n.op = ExprOp::Mul;
    n.args = {l, r};
    return add(n);
  }

  int node(const Expr& e, const std::set<std::string>& scope_names) {
    const Cascade& cascade = impl.problem.cascade;
    const Bindings& bindings = impl.problem.bindings;
    const NumberFormat acc = impl.accumulate;
    Node n;
    n.op = e.op;
    switch (e.op) {
      case ExprOp::Number: n.number = round_to(acc, e.number); return add(n);
      case ExprOp::Parameter: {
        auto it = bindings.parameters.find(e.name);
        if (it == bindings.parameters.end()) throw Error(e.loc, "parameter '" + e.name + "' has no value");
        n.op = ExprOp::Number;
        n.number = round_to(acc, it->second);
        return add(n);
      }
      case ExprOp::Index:
        c.indices.emplace_back(e.indices.at(0), cascade, bindings, scope);
        n.site = static_cast<int>(c.indices.size()) - 1;
        return add(n);
      case ExprOp::Read: {
        ReadSite r;
        r.tensor = impl.problem.find_tensor(e.name);
        if (r.tensor < 0) throw Error(e.loc, "data mode: tensor '" + e.name + "' is not in the problem");
        r.loc = e.loc;
        const int einsum_index = impl.problem.find_einsum(c.name);
        bool staged = true;
        if (einsum_index >= 0) {
          const ProblemEinsum& pe = impl.problem.einsums[einsum_index];
          for (size_t i = 0; i < pe.accesses.size(); ++i)
            if (pe.accesses[i].tensor == r.tensor && !pe.accesses[i].write)
              staged = impl.plan.resolved.einsums[einsum_index].is_staged(i);
        }
        r.place = place_of(impl.plan, r.tensor, staged);
        for (const IndexExpr& i : e.indices) r.dims.emplace_back(i, cascade, bindings, scope);
        if (r.dims.size() != impl.tensors[r.tensor].sizes.size())
          throw Error(e.loc, "tensor " + e.name + " read with the wrong number of indices");
        c.reads.push_back(std::move(r));
        n.site = static_cast<int>(c.reads.size()) - 1;
        return add(n);
      }
      case ExprOp::Call: n.fn = function_named(e.name, e.loc); break;
      case ExprOp::Reduce: {
        ReduceSite r;
        r.max = e.name == "max";
        r.min = e.name == "min";
        std::set<std::string> inner = scope_names;
        for (const std::string& v : e.reduce_vars) {
          r.slots.push_back(scope.at(v));
          inner.insert(v);
        }
        for (size_t k = 0; k < used.size(); ++k) {
          if (placed[k]) continue;
          bool binds = false, in = true;
          for (const std::string& v : used[k]) {
            in = in && inner.count(v);
            binds = binds || std::find(e.reduce_vars.begin(), e.reduce_vars.end(), v) != e.reduce_vars.end();
          }
          if (in && binds) r.conditions.push_back(static_cast<int>(k)), placed[k] = true;
        }
        std::vector<int> hoisted;
        r.summand = e.name == "sum" ? summand(e.args.at(0), e.reduce_vars, inner, scope_names, hoisted)
                                    : node(e.args.at(0), inner);
        r.hoisted = hoisted;
        c.reduces.push_back(std::move(r));
        n.site = static_cast<int>(c.reduces.size()) - 1;
        return add(n);
      }
      case ExprOp::Concat:  // its parts bind variables no loop of the mapping has
        throw Error(e.loc, "data mode of the cycle-level model does not run concat (Einsum " +
                               c.name + "): simulate with --timing-only, and compute the "
                               "values with the functional executor (cascade eval, check)");
      default: break;
    }
    for (const Expr& a : e.args) n.args.push_back(node(a, scope_names));
    return add(n);
  }
};

}  // namespace

void variables_of(const IndexExpr& e, std::set<std::string>& out) {
  if (e.op == IndexOp::Variable) out.insert(e.name);
  for (const IndexExpr& a : e.args) variables_of(a, out);
}

int place_of(const Plan& plan, int tensor, bool staged) {
  const TensorHome home = plan.resolved.tensors[tensor].home;
  if (home == TensorHome::RegisterFile) return kArray;
  if (home == TensorHome::GlobalBuffer) return kBuffer;
  return staged ? kBuffer : kArray;
}

void compile_einsum(const CompileContext& context, const Einsum& einsum,
                    const std::vector<std::string>& names, const std::vector<int64_t>& extents,
                    int einsum_index, EinsumCode& c) {
  const Problem& problem = context.problem;
  const Plan& plan = context.plan;
  const Cascade& cascade = problem.cascade;
  c.name = einsum.output;
  c.loc = einsum.loc;
  c.slot_names = names;
  c.extents = extents;
  std::map<std::string, int> scope;
  for (size_t s = 0; s < names.size(); ++s) scope[names[s]] = static_cast<int>(s);
  const EinsumVariables vars = einsum_variables(einsum);
  for (const std::string& v : vars.output) c.outputs.push_back(scope.at(v));
  for (const std::string& v : vars.implicit) c.implicit.push_back(scope.at(v));
  for (const std::string& v : vars.reduced) c.reduced.push_back(scope.at(v));
  c.out_tensor = problem.find_tensor(einsum.output);
  const ProblemEinsum* pe = einsum_index >= 0 ? &problem.einsums[einsum_index] : nullptr;
  auto staged = [&](int tensor, bool write) {
    if (!pe) return true;
    for (size_t i = 0; i < pe->accesses.size(); ++i)
      if (pe->accesses[i].tensor == tensor && pe->accesses[i].write == write)
        return plan.resolved.einsums[einsum_index].is_staged(i);
    return true;
  };
  c.out_place = place_of(plan, c.out_tensor, staged(c.out_tensor, true));
  for (const IndexExpr& i : einsum.output_indices) c.out_dims.emplace_back(i, cascade, problem.bindings, scope);

  // Conditions: `where` and the partitions' bounds, each at the innermost scope it needs.
  std::vector<Condition> all = einsum.where;
  for (const Condition& p : partition_conditions(cascade, names)) all.push_back(p);
  std::vector<std::set<std::string>> used;
  for (const Condition& cond : all) {
    c.conditions.push_back(compile_condition(cond, cascade, problem.bindings, scope));
    std::set<std::string> v;
    variables_of(cond.lhs, v);
    variables_of(cond.rhs, v);
    used.push_back(v);
  }
  std::set<std::string> outer(vars.output.begin(), vars.output.end());
  std::vector<bool> placed(all.size(), false);
  auto inside = [](const std::set<std::string>& v, const std::set<std::string>& s) {
    return std::all_of(v.begin(), v.end(), [&](const std::string& x) { return s.count(x) > 0; });
  };
  for (size_t k = 0; k < all.size(); ++k)
    if (inside(used[k], outer)) c.output_conditions.push_back(static_cast<int>(k)), placed[k] = true;
  outer.insert(vars.implicit.begin(), vars.implicit.end());
  for (size_t k = 0; k < all.size(); ++k)
    if (!placed[k] && inside(used[k], outer))
      c.term_conditions.push_back(static_cast<int>(k)), placed[k] = true;

  Builder b{context, c, scope, used, placed};
  if (vars.implicit.empty()) {
    c.root = b.node(einsum.value, outer);
  } else {
    c.root = b.summand(einsum.value, vars.implicit, outer, outer, c.hoisted);
  }
}

void tile_einsum(const Plan& plan, int e, EinsumCode& c) {
  const ResolvedEinsum& re = plan.resolved.einsums[e];
  c.span.assign(c.extents.size(), 1);
  std::vector<double> covered(c.extents.size(), 1);
  const size_t dram_end = re.level_end[kDramLevel];
  size_t first_inner = 0;
  while (first_inner < dram_end &&
         (re.loops[first_inner].slot == kBatchSlot || re.loops[first_inner].slot == kHeadSlot))
    ++first_inner;
  for (size_t i = 0; i < re.loops.size(); ++i) {
    const ResolvedLoop& loop = re.loops[i];
    if (loop.slot < 0) continue;
    covered[loop.slot] *= static_cast<double>(loop.factor);
    if (i >= dram_end) c.span[loop.slot] *= loop.factor;
    else if (i < first_inner) continue;
    else if (loop.slot == kBatchSlot || loop.slot == kHeadSlot)
      throw Error(fmt::format("data mode: group {}'s batch and head loops must be its outermost "
                              "DRAM loops", plan.resolved.groups[re.group].name));
  }
  std::vector<int64_t> range(c.extents);
  for (size_t i = first_inner; i < dram_end; ++i) {
    const ResolvedLoop& loop = re.loops[i];
    c.dram_slot.push_back(loop.slot);
    c.dram_factor.push_back(loop.factor);
    if (loop.slot >= 0) range[loop.slot] = (range[loop.slot] + loop.factor - 1) / loop.factor;
  }
  for (size_t s = 2; s < c.extents.size(); ++s)
    if (c.span[s] < range[s] || covered[s] < static_cast<double>(c.extents[s]))
      throw Error(fmt::format("data mode: the loops of Einsum {} below the DRAM level cover {} of "
                              "the {} values of {} in a DRAM-level tile",
                              c.name, c.span[s], range[s], c.slot_names[s]));
}

}  // namespace cascade::datapath_detail
