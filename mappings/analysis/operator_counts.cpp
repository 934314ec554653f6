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

double OperatorCounts::of(const std::string& op) const {
  const auto it = ops.find(op);
  return it == ops.end() ? 0.0 : it->second;
}

double OperatorCounts::total() const {
  double t = 0;  // comparisons are not operators the models price
  for (const auto& [op, n] : ops) t += n;
  return t;
}

OperatorCounts& OperatorCounts::operator+=(const OperatorCounts& o) {
  for (const auto& [op, n] : o.ops) ops[op] += n;
  operand_reads += o.operand_reads;
  accumulator_accesses += o.accumulator_accesses;
  comparisons += o.comparisons;
  return *this;
}

OperatorCounts OperatorCounts::scaled(double f) const {
  OperatorCounts c = *this;
  for (auto& [op, n] : c.ops) n *= f;
  c.operand_reads *= f;
  c.accumulator_accesses *= f;
  c.comparisons *= f;
  return c;
}

namespace {

// Number of points of the box over `scope` that satisfy every condition whose variables
// are all in `scope` (the `where` conditions of the Einsum, and m1*M0 + m0 < M for each
// partition whose two parts are in scope). Without an applicable `where` condition it is
// a closed form (a partition's two parts together count the parent rank exactly: the
// last tile is partial); otherwise levels whose conditions are affine are counted as
// intervals and the rest enumerated. Counts are remembered per scope.
class PointCounter {
 public:
  PointCounter(const Cascade& cascade, const Bindings& bindings, const Einsum& einsum)
      : cascade_(cascade), bindings_(bindings), einsum_(einsum) {
    for (const Condition& c : einsum.where) {
      where_vars_.emplace_back();
      index_variables(c.lhs, where_vars_.back());
      index_variables(c.rhs, where_vars_.back());
    }
  }

  // The points of the box over `scope` before any `where` condition (a partition's two
  // parts count the parent rank): where a condition is evaluated.
  double box_count(const std::vector<std::string>& scope) const {
    std::vector<std::string> key;
    for (const std::string& v : scope) push_unique(key, v);
    return box(key);
  }

  double count(const std::vector<std::string>& scope) {
    std::vector<std::string> key = scope;
    std::sort(key.begin(), key.end());
    key.erase(std::unique(key.begin(), key.end()), key.end());
    for (const auto& [k, n] : known_)
      if (k == key) return n;
    std::vector<Condition> conditions;
    for (size_t i = 0; i < einsum_.where.size(); ++i)
      if (std::all_of(where_vars_[i].begin(), where_vars_[i].end(),
                      [&](const auto& v) { return contains(key, v); }))
        conditions.push_back(einsum_.where[i]);
    const double n = conditions.empty() ? box(key) : enumerate(key, std::move(conditions));
    known_.emplace_back(std::move(key), n);
    return n;
  }

 private:
  // The closed form: the product of the extents, M1 x M0 replaced by M.
  double box(const std::vector<std::string>& scope) const {
    std::vector<std::string> rest = scope;
    double n = 1;
    for (const Partition& p : cascade_.partitions) {
      if (p.parts.size() != 2) continue;
      const std::string outer = variable_of_rank(p.parts[0]);
      const std::string inner = variable_of_rank(p.parts[1]);
      if (!contains(rest, outer) || !contains(rest, inner)) continue;
      n *= static_cast<double>(bindings_.shape(p.rank));
      rest.erase(std::find(rest.begin(), rest.end(), outer));
      rest.erase(std::find(rest.begin(), rest.end(), inner));
    }
    for (const std::string& v : rest)
      n *= static_cast<double>(bindings_.shape(rank_of_variable(v)));
    return n;
  }

  double enumerate(const std::vector<std::string>& scope, std::vector<Condition> where) {
    std::vector<Condition> conditions = partition_conditions(cascade_, scope);
    for (Condition& c : where) conditions.push_back(std::move(c));
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
    steps_ = 0;
    return count_level(0) * free_points_;
  }

  // Masked points are counted by walking the outer constrained ranks: bounded, so a huge
  // shape is refused with a message instead of counting for hours.
  static constexpr double kMaxSteps = 2e8;

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
    steps_ += static_cast<double>(hi - lo) + 1;
    if (steps_ > kMaxSteps)
      throw Error(einsum_.loc,
                  "einsum " + einsum_.output + ": counting its masked points walks more than " +
                      std::to_string(static_cast<int64_t>(kMaxSteps)) +
                      " values of its constrained ranks (" + std::to_string(extents_[level]) +
                      " in one of them): these shapes are too large to count exactly");
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
  std::vector<std::vector<std::string>> where_vars_;                // per `where` condition
  std::vector<std::pair<std::vector<std::string>, double>> known_;  // sorted scope -> count
  std::vector<ConditionProgram> programs_;
  std::vector<std::vector<const ConditionProgram*>> levels_;
  std::vector<int64_t> extents_;
  std::vector<int64_t> values_;
  size_t free_from_ = 0;    // levels from here on are read by no condition
  double steps_ = 0;        // values walked by count_level in this count
  double free_points_ = 1;  // the product of their extents
};

bool index_uses(const IndexExpr& e, const std::vector<std::string>& vars) {
  if (e.op == IndexOp::Variable && contains(vars, e.name)) return true;
  for (const IndexExpr& a : e.args)
    if (index_uses(a, vars)) return true;
  return false;
}

// Whether an expression reads any of `vars` (in an index, or as a value: `p - m`).
bool depends_on(const Expr& e, const std::vector<std::string>& vars) {
  for (const IndexExpr& i : e.indices)
    if (index_uses(i, vars)) return true;
  if (e.op == ExprOp::Parameter && contains(vars, e.name)) return true;
  for (const Expr& a : e.args)
    if (depends_on(a, vars)) return true;
  return false;
}

void flatten_product(const Expr& e, std::vector<const Expr*>& out) {
  if (e.op == ExprOp::Mul) {
    for (const Expr& a : e.args) flatten_product(a, out);
    return;
  }
  out.push_back(&e);
}

// Counts the operators of one Einsum, each at the points of the scope it runs in.
class Counter {
 public:
  explicit Counter(PointCounter& points) : points_(points) {}

  OperatorCounts counts;
  bool contraction = false;

  void count(const Expr& e, const std::vector<std::string>& scope) {
    switch (e.op) {
      case ExprOp::Number:
      case ExprOp::Parameter:
      case ExprOp::Index:
        return;
      case ExprOp::Read:
        counts.operand_reads += points_.count(scope);
        return;
      case ExprOp::Reduce: {
        std::vector<std::string> inner = scope;
        for (const std::string& v : e.reduce_vars) push_unique(inner, v);
        if (e.name == "sum") {
          sum(e.args[0], scope, inner);
        } else {
          const double n = points_.count(inner);
          counts.ops[e.name == "min" ? "min" : "max"] += n;
          counts.accumulator_accesses += n;
          count(e.args[0], inner);
        }
        return;
      }
      case ExprOp::Concat: {
        // Data movement, no arithmetic: each element is a copy of one part's value. Part k
        // runs where j lies in its range, i.e. at the points of the scope with j replaced
        // by the part's own variable (no `where` condition tests j: validate()).
        const std::string j = e.indices.empty() ? std::string() : e.indices[0].name;
        for (size_t k = 0; k < e.args.size(); ++k) {
          std::vector<std::string> part;
          for (const std::string& v : scope)
            if (v != j) part.push_back(v);
          if (k < e.reduce_vars.size()) push_unique(part, e.reduce_vars[k]);
          count(e.args[k], part);
        }
        return;
      }
      case ExprOp::Neg:
        add("neg", scope);
        break;
      case ExprOp::Add:
        add("add", scope);
        break;
      case ExprOp::Sub:
        add("sub", scope);
        break;
      case ExprOp::Mul:
        add("mul", scope);
        break;
      case ExprOp::Div:
        add("div", scope);
        break;
      case ExprOp::Call:
        add(e.name, scope);
        break;
    }
    for (const Expr& a : e.args) count(a, scope);
  }

  // The sum over (inner - outer) of `summand` (split_summed_product): one accumulation per
  // inner point, fused with one multiply into a MAC when >= 2 factors depend on the summed
  // variables, one multiply per further dependent factor and inner point, one multiply per
  // hoisted factor and outer point.
  void sum(const Expr& summand, const std::vector<std::string>& outer,
           const std::vector<std::string>& inner) {
    std::vector<std::string> summed;
    for (const std::string& v : inner)
      if (!contains(outer, v)) summed.push_back(v);
    const SummedProduct split = split_summed_product(summand, summed);
    const double n = points_.count(inner);
    counts.accumulator_accesses += n;
    if (split.dependent.size() >= 2) {
      contraction = true;
      counts.ops["mac"] += n;
      counts.ops["mul"] += static_cast<double>(split.dependent.size() - 2) * n;
    } else {
      counts.ops["add"] += n;
    }
    for (const Expr* f : split.dependent) count(*f, inner);
    if (split.independent.empty()) return;
    counts.ops["mul"] += static_cast<double>(split.independent.size()) * points_.count(outer);
    for (const Expr* f : split.independent) count(*f, outer);
  }

 private:
  void add(const std::string& op, const std::vector<std::string>& scope) {
    counts.ops[op] += points_.count(scope);
  }

  PointCounter& points_;
};

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

SummedProduct split_summed_product(const Expr& summand, const std::vector<std::string>& summed) {
  SummedProduct split;
  if (summand.op != ExprOp::Mul) {
    split.dependent.push_back(&summand);
    return split;
  }
  std::vector<const Expr*> factors;
  flatten_product(summand, factors);
  for (const Expr* f : factors)
    (depends_on(*f, summed) ? split.dependent : split.independent).push_back(f);
  if (split.dependent.empty()) {  // nothing depends on the summed variables: nothing to hoist
    split.independent.clear();
    split.dependent.push_back(&summand);
  }
  return split;
}

std::vector<EinsumCost> operator_counts(const Cascade& cascade, const Bindings& bindings) {
  std::vector<EinsumCost> costs;
  for (size_t i = 0; i < cascade.einsums.size(); ++i) {
    const Einsum& einsum = cascade.einsums[i];
    const EinsumVariables vars = einsum_variables(einsum);
    PointCounter points(cascade, bindings, einsum);
    Counter counter(points);
    if (vars.implicit.empty()) {
      counter.count(einsum.value, vars.output);
    } else {
      std::vector<std::string> inner = vars.output;
      for (const std::string& v : vars.implicit) inner.push_back(v);
      counter.sum(einsum.value, vars.output, inner);
    }
    // One comparison per `where` condition at every point of its scope (the output
    // variables and those it reads), before masking: the mask is computed to be applied.
    for (const Condition& c : einsum.where) {
      std::vector<std::string> scope = vars.output;
      index_variables(c.lhs, scope);
      index_variables(c.rhs, scope);
      counter.counts.comparisons += points.box_count(scope);
    }
    EinsumCost cost;
    cost.einsum = static_cast<int>(i);
    cost.total = std::move(counter.counts);
    cost.contraction = counter.contraction;
    cost.points = points.count(vars.all());
    cost.per_point = cost.total.scaled(cost.points > 0 ? 1.0 / cost.points : 0.0);
    if (einsum.where.empty()) cost.points_formula = box_formula(cascade, vars.all());
    costs.push_back(std::move(cost));
  }
  return costs;
}

}  // namespace cascade
