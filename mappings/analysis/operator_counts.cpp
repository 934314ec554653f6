#include "mappings/analysis/operator_counts.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "arch/support/names.h"
#include "mappings/analysis/evaluation_order.h"
#include "mappings/cascade/index_program.h"

namespace cascade {

// ---------------------------------------------------------------------------------------
// Operator counts

double OperatorCounts::total() const {
  return macs + multiplies + adds + subtracts + divides + exps + maxes + compares + sqrts + other;
}

OperatorCounts& OperatorCounts::operator+=(const OperatorCounts& o) {
  macs += o.macs;
  multiplies += o.multiplies;
  adds += o.adds;
  subtracts += o.subtracts;
  divides += o.divides;
  exps += o.exps;
  maxes += o.maxes;
  compares += o.compares;
  sqrts += o.sqrts;
  other += o.other;
  return *this;
}

OperatorCounts OperatorCounts::scaled(double f) const {
  OperatorCounts c = *this;
  c.macs *= f;
  c.multiplies *= f;
  c.adds *= f;
  c.subtracts *= f;
  c.divides *= f;
  c.exps *= f;
  c.maxes *= f;
  c.compares *= f;
  c.sqrts *= f;
  c.other *= f;
  return c;
}

namespace {

// Number of points of the box over `vars` that satisfy every condition whose variables
// are all in `vars`. Levels whose conditions are affine are counted as intervals.
class PointCounter {
 public:
  PointCounter(const Cascade& cascade, const Bindings& bindings, const Einsum& einsum)
      : cascade_(cascade), bindings_(bindings), einsum_(einsum) {}

  double count(const std::vector<std::string>& scope) {
    std::vector<Condition> conditions = partition_conditions(cascade_, scope);
    for (const Condition& c : einsum_.where) {
      std::vector<std::string> used;
      index_variables(c.lhs, used);
      index_variables(c.rhs, used);
      if (std::all_of(used.begin(), used.end(), [&](const auto& v) { return contains(scope, v); }))
        conditions.push_back(c);
    }
    // Variables no condition reads go last: each such level multiplies (count_level).
    std::vector<std::string> constrained;
    for (const Condition& c : conditions) {
      index_variables(c.lhs, constrained);
      index_variables(c.rhs, constrained);
    }
    std::vector<std::string> vars;
    for (const std::string& v : scope)
      if (contains(constrained, v)) vars.push_back(v);
    // The widest constrained variable innermost: its range is an interval, not a loop.
    std::stable_sort(vars.begin(), vars.end(), [&](const std::string& a, const std::string& b) {
      return bindings_.shape(rank_of_variable(a)) < bindings_.shape(rank_of_variable(b));
    });
    const size_t free_from = vars.size();
    for (const std::string& v : scope)
      if (!contains(constrained, v)) vars.push_back(v);
    std::map<std::string, int> slots;
    for (size_t i = 0; i < vars.size(); ++i) slots[vars[i]] = static_cast<int>(i);
    programs_.clear();
    for (const Condition& c : conditions)
      programs_.push_back(compile_condition(c, cascade_, bindings_, slots));
    levels_.assign(vars.size(), {});
    for (const ConditionProgram& p : programs_) {
      const auto& used = p.difference.slots_used();
      const int level = used.empty() ? 0 : used.back();
      levels_[level].push_back(&p);
    }
    extents_.clear();
    for (const std::string& v : vars) extents_.push_back(bindings_.shape(rank_of_variable(v)));
    free_points_ = 1;
    for (size_t i = free_from; i < vars.size(); ++i)
      free_points_ *= static_cast<double>(extents_[i]);
    free_from_ = free_from;
    values_.assign(vars.size(), 0);
    if (free_from == 0) {  // no variables, or only conditions on shapes and constants
      for (const ConditionProgram& p : programs_)
        if (!p.holds(values_.data())) return 0;
      return free_points_;
    }
    return count_level(0) * free_points_;
  }

 private:
  // Points of levels `level` .. free_from_ - 1 (the constrained ones) given the outer values.
  double count_level(size_t level) {
    int64_t lo = 0, hi = extents_[level] - 1;
    const bool exact =
        restrict_range(levels_[level], static_cast<int>(level), values_.data(), lo, hi);
    if (hi < lo) return 0;
    const bool last = level + 1 == free_from_;
    // The last constrained level with exact bounds is an interval.
    if (last && exact) return static_cast<double>(hi - lo + 1);
    double total = 0;
    for (int64_t v = lo; v <= hi; ++v) {
      values_[level] = v;
      if (!exact) {
        bool ok = true;
        for (const ConditionProgram* p : levels_[level]) ok = ok && p->holds(values_.data());
        if (!ok) continue;
      }
      total += last ? 1.0 : count_level(level + 1);
    }
    return total;
  }

  const Cascade& cascade_;
  const Bindings& bindings_;
  const Einsum& einsum_;
  std::vector<ConditionProgram> programs_;
  std::vector<std::vector<const ConditionProgram*>> levels_;
  std::vector<int64_t> extents_;
  std::vector<int64_t> values_;
  size_t free_from_ = 0;    // levels from here on are read by no condition
  double free_points_ = 1;  // the product of their extents
};

// Operators of one expression node, not counting its children.
void node_operators(const Expr& e, OperatorCounts& c) {
  switch (e.op) {
    case ExprOp::Add:
      c.adds += 1;
      break;
    case ExprOp::Sub:
      c.subtracts += 1;
      break;
    case ExprOp::Mul:
      c.multiplies += 1;
      break;
    case ExprOp::Div:
      c.divides += 1;
      break;
    case ExprOp::Neg:
      c.other += 1;
      break;
    case ExprOp::Call:
      if (e.name == "exp")
        c.exps += 1;
      else if (e.name == "max" || e.name == "min")
        c.maxes += 1;
      else if (e.name == "sqrt")
        c.sqrts += 1;
      else if (e.name == "relu" || e.name == "abs")
        c.compares += 1;
      else
        c.other += 1;
      break;
    default:
      break;
  }
}

// A sum whose summand is a product: one multiply + one add per point become one MAC.
void fuse_mac(const Expr& summand, double points, OperatorCounts& total) {
  if (summand.op != ExprOp::Mul) return;
  total.adds -= points;
  total.multiplies -= points;
  total.macs += points;
}

void count_expression(const Expr& e, const std::vector<std::string>& scope, double scope_points,
                      PointCounter& counter, OperatorCounts& total) {
  if (e.op == ExprOp::Reduce) {
    std::vector<std::string> inner = scope;
    for (const std::string& v : e.reduce_vars) push_unique(inner, v);
    const double inner_points = counter.count(inner);
    if (e.name == "sum")
      total.adds += inner_points;
    else
      total.maxes += inner_points;
    count_expression(e.args[0], inner, inner_points, counter, total);
    if (e.name == "sum") fuse_mac(e.args[0], inner_points, total);
    return;
  }
  OperatorCounts own;
  node_operators(e, own);
  total += own.scaled(scope_points);
  for (const Expr& a : e.args) count_expression(a, scope, scope_points, counter, total);
}

std::string box_formula(const Cascade& cascade, const std::vector<std::string>& vars) {
  std::vector<std::string> ranks;
  for (const std::string& v : vars) ranks.push_back(rank_of_variable(v));
  // A partition's two parts together cover the parent rank exactly (partial last tile).
  for (const Partition& p : cascade.partitions) {
    if (p.parts.size() != 2) continue;
    auto a = std::find(ranks.begin(), ranks.end(), p.parts[0]);
    auto b = std::find(ranks.begin(), ranks.end(), p.parts[1]);
    if (a != ranks.end() && b != ranks.end()) {
      *a = p.rank;
      ranks.erase(b);
    }
  }
  std::string out;
  for (const std::string& r : ranks) out += (out.empty() ? "" : "*") + r;
  return out.empty() ? "1" : out;
}

}  // namespace

std::vector<EinsumCost> operator_counts(const Cascade& cascade, const Bindings& bindings) {
  std::vector<EinsumCost> costs;
  for (size_t i = 0; i < cascade.einsums.size(); ++i) {
    const Einsum& einsum = cascade.einsums[i];
    const EinsumVariables vars = einsum_variables(einsum);
    PointCounter counter(cascade, bindings, einsum);
    std::vector<std::string> outer = vars.output;
    for (const std::string& v : vars.implicit) outer.push_back(v);
    const double outer_points = counter.count(outer);

    EinsumCost cost;
    cost.einsum = static_cast<int>(i);
    count_expression(einsum.value, outer, outer_points, counter, cost.total);
    if (!vars.implicit.empty()) {
      cost.total.adds += outer_points;  // the implicit sum's accumulation
      fuse_mac(einsum.value, outer_points, cost.total);
    }
    cost.points = counter.count(vars.all());
    cost.per_point = cost.points > 0 ? cost.total.scaled(1.0 / cost.points) : OperatorCounts{};
    if (einsum.where.empty()) cost.points_formula = box_formula(cascade, vars.all());
    costs.push_back(cost);
  }
  return costs;
}

}  // namespace cascade
