// validate(), part 3: the dependency structure. Einsums may form a cycle only through
// reads of an iterative tensor at its iterative variable, and every Einsum on such a cycle
// iterates over that variable (validator.h).
#include <algorithm>
#include <functional>

#include "arch/support/names.h"
#include "mappings/cascade/validator.h"

namespace cascade::detail {

namespace {

// A read of a tensor by an Einsum.
struct TensorRead {
  const Expr* read;
  bool in_init;
};

void collect_reads(const Expr& e, bool in_init, std::vector<TensorRead>& out) {
  if (e.op == ExprOp::Read) out.push_back({&e, in_init});
  for (const Expr& a : e.args) collect_reads(a, in_init, out);
}

// Is `index` of the form v + d (d < extra)? Then the read sees a value produced in an
// earlier slice of v: the dependency is carried by the iterative rank.
bool carried_read(const IndexExpr& index, const Iterative& it) {
  if (index.op == IndexOp::Variable) return index.name == it.variable;
  if ((index.op == IndexOp::Add || index.op == IndexOp::Sub) && index.args.size() == 2 &&
      index.args[0].op == IndexOp::Variable && index.args[0].name == it.variable &&
      index.args[1].op == IndexOp::Constant) {
    const int64_t d = index.op == IndexOp::Add ? index.args[1].value : -index.args[1].value;
    return d < it.extra;
  }
  return false;
}

}  // namespace

std::vector<Validator::Edge> Validator::edges() const {
  std::vector<Edge> out;
  for (size_t i = 0; i < c_.einsums.size(); ++i) {
    const Einsum& e = c_.einsums[i];
    std::vector<TensorRead> reads;
    collect_reads(e.value, false, reads);
    if (e.init) collect_reads(e.init->value, true, reads);
    for (const TensorRead& r : reads) {
      const auto p = producer_.find(r.read->name);
      if (p == producer_.end()) continue;
      Edge edge{p->second, static_cast<int>(i), false, ""};
      if (const auto it = iterative_of_.find(r.read->name);
          it != iterative_of_.end() && !r.in_init &&
          carried_read(r.read->indices[it->second.dim], it->second)) {
        edge.carried = true;
        edge.variable = it->second.variable;
      }
      out.push_back(edge);
    }
  }
  return out;
}

void Validator::check_cycles() {
  const int n = static_cast<int>(c_.einsums.size());
  const std::vector<Edge> all = edges();
  std::vector<std::vector<int>> next(n);
  for (const Edge& e : all)
    if (!e.carried) next[e.from].push_back(e.to);
  for (auto& list : next) {
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
  }
  // Cycles that no iterative rank carries.
  std::vector<int> state(n, 0);
  std::vector<int> stack;
  std::function<void(int)> visit = [&](int u) {
    state[u] = 1;
    stack.push_back(u);
    for (int v : next[u]) {
      if (state[v] == 1) {
        std::vector<int> cycle(std::find(stack.begin(), stack.end(), v), stack.end());
        std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
        std::vector<std::string> names;
        for (int k : cycle) names.push_back(c_.einsums[k].output);
        names.push_back(names.front());
        throw Error(c_.einsums[cycle.front()].loc,
                    "dependency cycle between Einsums that no iterative rank carries: " +
                        join(names, " -> ") +
                        " (only reads of an iterative tensor at its iterative variable, "
                        "like RD[m1, p] for RD[m1+1, p], may close a cycle)");
      }
      if (state[v] == 0) visit(v);
    }
    stack.pop_back();
    state[u] = 2;
  };
  for (int u = 0; u < n; ++u)
    if (state[u] == 0) visit(u);

  // Cycles through carried reads: one variable carries them, and every Einsum on them
  // iterates over it.
  std::vector<std::vector<int>> full(n);
  for (const Edge& e : all) full[e.from].push_back(e.to);
  const std::vector<int> component = components(full);
  std::map<int, std::vector<const Edge*>> carried_in;
  for (const Edge& e : all)
    if (e.carried && component[e.from] == component[e.to])
      carried_in[component[e.from]].push_back(&e);
  for (const auto& [comp, list] : carried_in) {
    const std::string variable = list.front()->variable;
    for (const Edge* e : list)
      if (e->variable != variable)
        throw Error(c_.einsums[e->to].loc,
                    "a dependency cycle is carried by two iterative variables (" + variable +
                        " and " + e->variable + ")");
    for (int k = 0; k < n; ++k) {
      if (component[k] != comp) continue;
      const auto& outs = output_variables_[k];
      if (std::find(outs.begin(), outs.end(), variable) == outs.end())
        throw Error(c_.einsums[k].loc,
                    c_.einsums[k].output + " is on a dependency cycle carried by " + variable +
                        " but " + variable +
                        " is not one of its output indices (the cycle is evaluated one " +
                        variable + " slice at a time)");
    }
  }
}

// Strongly connected components (Tarjan); component id per node.
std::vector<int> Validator::components(const std::vector<std::vector<int>>& next) {
  const int n = static_cast<int>(next.size());
  std::vector<int> index(n, -1), low(n, 0), component(n, -1), stack;
  std::vector<bool> on_stack(n, false);
  int counter = 0, count = 0;
  std::function<void(int)> connect = [&](int u) {
    index[u] = low[u] = counter++;
    stack.push_back(u);
    on_stack[u] = true;
    for (int v : next[u]) {
      if (index[v] < 0) {
        connect(v);
        low[u] = std::min(low[u], low[v]);
      } else if (on_stack[v]) {
        low[u] = std::min(low[u], index[v]);
      }
    }
    if (low[u] == index[u]) {
      while (true) {
        const int v = stack.back();
        stack.pop_back();
        on_stack[v] = false;
        component[v] = count;
        if (v == u) break;
      }
      ++count;
    }
  };
  for (int u = 0; u < n; ++u)
    if (index[u] < 0) connect(u);
  return component;
}

}  // namespace cascade::detail
