#include "mappings/analysis/evaluation_order.h"

#include <algorithm>
#include <functional>
#include <set>

#include "arch/support/names.h"

namespace cascade {

// ---------------------------------------------------------------------------------------
// Variables

namespace {

void expr_variables_of_index(const IndexExpr& i, std::vector<std::string>& free_vars,
                             const std::vector<std::string>& bound) {
  std::vector<std::string> used;
  index_variables(i, used);
  for (const std::string& v : used)
    if (!contains(bound, v)) push_unique(free_vars, v);
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
  if (e.op == ExprOp::Concat) {  // j is free; part k binds its own variable (not reduced)
    for (const IndexExpr& i : e.indices) expr_variables_of_index(i, free_vars, bound);
    for (size_t k = 0; k < e.args.size(); ++k) {
      std::vector<std::string> inner_bound = bound;
      if (k < e.reduce_vars.size()) inner_bound.push_back(e.reduce_vars[k]);
      expr_variables(e.args[k], free_vars, reduced, inner_bound);
    }
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

}  // namespace cascade
