#include "mappings/analysis.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "mappings/index_program.h"

namespace cascade {

// ---------------------------------------------------------------------------------------
// Variables

namespace {

void push_unique(std::vector<std::string>& list, const std::string& name) {
  if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
}

bool contains(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

void index_variables(const IndexExpr& e, std::vector<std::string>& out) {
  if (e.op == IndexOp::Variable) push_unique(out, e.name);
  for (const IndexExpr& a : e.args) index_variables(a, out);
}

// Variables used in `e` outside explicit reductions (free), and those bound by them.
void expr_variables(const Expr& e, std::vector<std::string>& free_vars,
                    std::vector<std::string>& reduced, const std::vector<std::string>& bound) {
  if (e.op == ExprOp::Reduce) {
    std::vector<std::string> inner_bound = bound;
    for (const std::string& v : e.reduce_vars) {
      push_unique(reduced, v);
      inner_bound.push_back(v);
    }
    for (const Expr& a : e.args) expr_variables(a, free_vars, reduced, inner_bound);
    return;
  }
  std::vector<std::string> used;
  for (const IndexExpr& i : e.indices) index_variables(i, used);
  for (const std::string& v : used)
    if (!contains(bound, v)) push_unique(free_vars, v);
  for (const Expr& a : e.args) expr_variables(a, free_vars, reduced, bound);
}

std::string output_variable(const IndexExpr& index) {
  if (index.op == IndexOp::Variable) return index.name;
  if (index.op == IndexOp::Add && !index.args.empty() && index.args[0].op == IndexOp::Variable)
    return index.args[0].name;
  return "";
}

bool is_iterative_index(const IndexExpr& index) {
  return index.op == IndexOp::Add && index.args.size() == 2 &&
         index.args[0].op == IndexOp::Variable && index.args[1].op == IndexOp::Constant &&
         index.args[1].value > 0;
}

// Reads of tensors anywhere in an expression.
void collect_reads(const Expr& e, std::vector<const Expr*>& reads) {
  if (e.op == ExprOp::Read) reads.push_back(&e);
  for (const Expr& a : e.args) collect_reads(a, reads);
}

}  // namespace

std::vector<std::string> EinsumVariables::all() const {
  std::vector<std::string> out = output;
  for (const auto& v : implicit) push_unique(out, v);
  for (const auto& v : reduced) push_unique(out, v);
  return out;
}

EinsumVariables einsum_variables(const Einsum& einsum) {
  EinsumVariables vars;
  for (const IndexExpr& i : einsum.output_indices) {
    const std::string v = output_variable(i);
    if (!v.empty()) push_unique(vars.output, v);
  }
  std::vector<std::string> free_vars;
  expr_variables(einsum.value, free_vars, vars.reduced, {});
  for (const std::string& v : free_vars)
    if (!contains(vars.output, v)) vars.implicit.push_back(v);
  return vars;
}

// ---------------------------------------------------------------------------------------
// Evaluation order

namespace {

// The iterative variable an Einsum writes (`m1` for RM[m1+1, p]) and at which dimension.
struct IterativeWrite {
  std::string variable;
  int dimension = -1;
};

IterativeWrite iterative_write(const Einsum& e) {
  for (size_t d = 0; d < e.output_indices.size(); ++d)
    if (is_iterative_index(e.output_indices[d]))
      return {e.output_indices[d].args[0].name, static_cast<int>(d)};
  return {};
}

// A read of an iterative tensor at the bare iterative variable (RD[m1, p] when RD is
// written at m1+1) takes the previous slice's value: the edge is carried by the rank.
bool is_carried_read(const Expr& read, const Einsum& producer) {
  const IterativeWrite w = iterative_write(producer);
  if (w.dimension < 0 || w.dimension >= static_cast<int>(read.indices.size())) return false;
  const IndexExpr& index = read.indices[w.dimension];
  return index.op == IndexOp::Variable && index.name == w.variable;
}

struct DependencyGraph {
  // edges[i] = einsums that i reads from; carried marks edges carried by an iterative rank.
  std::vector<std::set<int>> reads_from, carried_from;
};

DependencyGraph dependency_graph(const Cascade& cascade) {
  std::map<std::string, int> producer;
  for (size_t i = 0; i < cascade.einsums.size(); ++i)
    producer[cascade.einsums[i].output] = static_cast<int>(i);
  DependencyGraph g;
  g.reads_from.resize(cascade.einsums.size());
  g.carried_from.resize(cascade.einsums.size());
  for (size_t i = 0; i < cascade.einsums.size(); ++i) {
    std::vector<const Expr*> reads;
    collect_reads(cascade.einsums[i].value, reads);
    for (const Expr* r : reads) {
      auto it = producer.find(r->name);
      if (it == producer.end()) continue;
      if (is_carried_read(*r, cascade.einsums[it->second]))
        g.carried_from[i].insert(it->second);
      else
        g.reads_from[i].insert(it->second);
    }
  }
  return g;
}

// Tarjan's strongly connected components over all edges (carried included).
std::vector<std::vector<int>> strongly_connected(const DependencyGraph& g) {
  const int n = static_cast<int>(g.reads_from.size());
  std::vector<int> index(n, -1), low(n, 0), stack;
  std::vector<bool> on_stack(n, false);
  std::vector<std::vector<int>> components;
  int counter = 0;
  std::function<void(int)> visit = [&](int v) {
    index[v] = low[v] = counter++;
    stack.push_back(v);
    on_stack[v] = true;
    auto edge = [&](int w) {
      if (index[w] < 0) {
        visit(w);
        low[v] = std::min(low[v], low[w]);
      } else if (on_stack[w]) {
        low[v] = std::min(low[v], index[w]);
      }
    };
    for (int w : g.reads_from[v]) edge(w);
    for (int w : g.carried_from[v]) edge(w);
    if (low[v] == index[v]) {
      std::vector<int> component;
      int w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        component.push_back(w);
      } while (w != v);
      components.push_back(component);
    }
  };
  for (int v = 0; v < n; ++v)
    if (index[v] < 0) visit(v);
  // Tarjan emits components in reverse topological order of the "reads from" relation,
  // i.e. producers first — exactly evaluation order.
  return components;
}

}  // namespace

std::vector<EinsumGroup> evaluation_order(const Cascade& cascade) {
  const DependencyGraph g = dependency_graph(cascade);
  std::vector<EinsumGroup> groups;
  for (std::vector<int> component : strongly_connected(g)) {
    std::sort(component.begin(), component.end());
    EinsumGroup group;
    const bool self_loop =
        component.size() == 1 && (g.reads_from[component[0]].count(component[0]) ||
                                  g.carried_from[component[0]].count(component[0]));
    if (component.size() == 1 && !self_loop) {
      group.einsums = component;
      groups.push_back(group);
      continue;
    }
    // An iterative group: find the carried variable; every member must iterate it.
    const std::set<int> members(component.begin(), component.end());
    for (int e : component) {
      const IterativeWrite w = iterative_write(cascade.einsums[e]);
      if (w.dimension < 0) continue;
      if (!group.iterative_variable.empty() && group.iterative_variable != w.variable)
        throw Error(cascade.einsums[e].loc, "Einsums " + cascade.einsums[e].output +
                                                " and others depend on each other "
                                                "through two different iterative ranks (" +
                                                group.iterative_variable + ", " + w.variable + ")");
      group.iterative_variable = w.variable;
    }
    std::string names;
    for (int e : component) names += (names.empty() ? "" : ", ") + cascade.einsums[e].output;
    if (group.iterative_variable.empty())
      throw Error(cascade.einsums[component[0]].loc,
                  "dependency cycle between Einsums not carried by an iterative rank: " + names);
    for (int e : component) {
      const EinsumVariables vars = einsum_variables(cascade.einsums[e]);
      if (!contains(vars.output, group.iterative_variable))
        throw Error(cascade.einsums[e].loc, "Einsum " + cascade.einsums[e].output +
                                                " is in a recurrence over '" +
                                                group.iterative_variable + "' (with " + names +
                                                ") but does not have it as an output index");
    }
    // Order inside a slice: topological over the non-carried edges within the group.
    std::vector<int> order;
    std::set<int> placed;
    while (order.size() < component.size()) {
      bool progressed = false;
      for (int e : component) {
        if (placed.count(e)) continue;
        bool ready = true;
        for (int d : g.reads_from[e])
          if (members.count(d) && d != e && !placed.count(d)) ready = false;
        if (g.reads_from[e].count(e)) ready = false;  // reads its own slice: a true cycle
        if (ready) {
          order.push_back(e);
          placed.insert(e);
          progressed = true;
        }
      }
      if (!progressed)
        throw Error(cascade.einsums[component[0]].loc,
                    "dependency cycle between Einsums inside one step of the recurrence over '" +
                        group.iterative_variable + "': " + names);
    }
    group.einsums = order;
    groups.push_back(group);
  }
  return groups;
}

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

// ---------------------------------------------------------------------------------------
// Pass analysis

int PassReport::max_passes() const {
  int m = 0;
  for (const RankPasses& r : ranks) m = std::max(m, r.passes);
  return m;
}

const RankPasses* PassReport::find(const std::string& rank) const {
  for (const RankPasses& r : ranks)
    if (r.rank == rank) return &r;
  return nullptr;
}

namespace {

std::string root_rank(const Cascade& cascade, const std::string& rank) {
  for (const Partition& p : cascade.partitions)
    if (contains(p.parts, rank)) return p.rank;
  return rank;
}

struct PassState {
  int avail = 1;    // first pass in which the tensor can be read
  int origin = -1;  // Einsum whose full reduction over the rank set `avail`
};

RankPasses passes_over(const Cascade& cascade, const std::string& rank,
                       const std::vector<EinsumGroup>& order) {
  RankPasses result;
  result.rank = rank;
  auto in_family = [&](const std::string& var) {
    return root_rank(cascade, rank_of_variable(var)) == rank;
  };
  auto tensor_has_rank = [&](const std::string& tensor) {
    const TensorInfo* t = cascade.find_tensor(tensor);
    if (!t) return false;
    return std::any_of(t->ranks.begin(), t->ranks.end(),
                       [&](const std::string& r) { return root_rank(cascade, r) == rank; });
  };
  // Does this read index the tensor's `rank` dimensions with a variable of the family?
  auto streamed_read = [&](const Expr& read) {
    const TensorInfo* t = cascade.find_tensor(read.name);
    if (!t) return false;
    for (size_t d = 0; d < t->ranks.size() && d < read.indices.size(); ++d) {
      if (root_rank(cascade, t->ranks[d]) != rank) continue;
      std::vector<std::string> used;
      index_variables(read.indices[d], used);
      if (std::none_of(used.begin(), used.end(), in_family)) return false;
    }
    return true;
  };

  std::map<std::string, PassState> state;
  for (const TensorDecl& in : cascade.inputs) state[in.name] = PassState{};
  std::vector<int> flat;
  for (const EinsumGroup& g : order)
    for (int e : g.einsums) flat.push_back(e);

  std::map<int, PassCause> cause_of;  // einsum -> what delays it
  bool changed = true;
  for (int round = 0; changed && round < 64; ++round) {
    changed = false;
    for (int i : flat) {
      const Einsum& einsum = cascade.einsums[i];
      const std::vector<std::string> vars = einsum_variables(einsum).all();
      const bool iterates = std::any_of(vars.begin(), vars.end(), in_family);
      std::vector<const Expr*> reads;
      collect_reads(einsum.value, reads);
      int need = 1;
      PassCause cause;
      for (const Expr* r : reads) {
        if (r->name == einsum.output) continue;  // carried state of a recurrence
        const PassState s = state.count(r->name) ? state[r->name] : PassState{};
        int avail = s.avail;
        int origin = s.origin;
        if (tensor_has_rank(r->name) && (!iterates || !streamed_read(*r))) {
          // Reads a completed traversal (RNV[M1, f, p]) rather than streaming it.
          const TensorInfo* t = cascade.find_tensor(r->name);
          avail = s.avail + 1;
          origin = t ? t->producer : -1;
        }
        if (avail > need) {
          need = avail;
          cause = PassCause{avail, i, r->name, origin};
        }
      }
      PassState out;
      if (iterates) {
        result.einsum_pass[i] = need;
        const bool keeps_rank = tensor_has_rank(einsum.output);
        out.avail = keeps_rank ? need : need + 1;
        out.origin = keeps_rank ? cause.reducer : i;
        if (need > 1)
          cause_of[i] = cause;
        else
          cause_of.erase(i);
      } else {
        out.avail = need;
        out.origin = cause.reducer;
      }
      PassState& slot = state[einsum.output];
      if (slot.avail != out.avail || slot.origin != out.origin) {
        slot = out;
        changed = true;
      }
    }
  }
  for (const auto& [e, p] : result.einsum_pass) result.passes = std::max(result.passes, p);
  // One cause per pass: the first Einsum (in evaluation order) that opens it.
  std::set<int> opened;
  for (int i : flat) {
    auto it = cause_of.find(i);
    if (it == cause_of.end() || opened.count(it->second.pass)) continue;
    opened.insert(it->second.pass);
    result.causes.push_back(it->second);
  }
  std::sort(result.causes.begin(), result.causes.end(),
            [](const PassCause& a, const PassCause& b) { return a.pass < b.pass; });
  return result;
}

}  // namespace

PassReport analyze_passes(const Cascade& cascade) {
  const std::vector<EinsumGroup> order = evaluation_order(cascade);
  std::vector<std::string> roots;
  auto add_rank = [&](const std::string& r) { push_unique(roots, root_rank(cascade, r)); };
  for (const TensorDecl& in : cascade.inputs)
    for (const std::string& r : in.ranks) add_rank(r);
  for (const TensorInfo& t : cascade.tensors)
    for (const std::string& r : t.ranks) add_rank(r);
  PassReport report;
  for (const std::string& r : roots) report.ranks.push_back(passes_over(cascade, r, order));
  return report;
}

}  // namespace cascade
