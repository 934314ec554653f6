#include "mappings/mapping.h"

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <numeric>
#include <set>
#include <sstream>

#include "arch/yaml_support.h"
#include "mappings/analysis.h"

namespace cascade {

namespace {

constexpr int kBatchSlot = 0;
constexpr int kHeadSlot = 1;
constexpr const char* kBatchRank = "batch";
constexpr const char* kHeadRank = "head";

bool contains(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  return yaml_support::join(items, sep);
}

std::string format_bytes(double bytes) {
  if (bytes >= 1024.0 * 1024.0) return fmt::format("{:.2f} MiB", bytes / (1024.0 * 1024.0));
  if (bytes >= 1024.0) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{:.0f} B", bytes);
}

// ---------------------------------------------------------------------------------------
// Index extents.

class IndexCompiler {
 public:
  IndexCompiler(const Cascade& cascade, const Bindings& bindings,
                const std::vector<ProblemVariable>& variables)
      : cascade_(cascade), bindings_(bindings), variables_(variables) {}

  std::vector<IndexExtentNode> compile(const IndexExpr& e) {
    std::vector<IndexExtentNode> nodes;
    std::map<std::string, int> no_params;
    emit(e, nodes, no_params, 0);
    return nodes;
  }

 private:
  int push(std::vector<IndexExtentNode>& nodes, IndexExtentNode n) {
    nodes.push_back(n);
    return static_cast<int>(nodes.size()) - 1;
  }

  int emit(const IndexExpr& e, std::vector<IndexExtentNode>& nodes,
           const std::map<std::string, int>& params, int depth) {
    if (depth > 32) return push(nodes, {IndexExtentNode::Constant, 0, -1, -1});
    switch (e.op) {
      case IndexOp::Constant:
        return push(nodes, {IndexExtentNode::Constant, e.value, -1, -1});
      case IndexOp::Symbol: {
        auto s = bindings_.shapes.find(e.name);
        return push(nodes, {IndexExtentNode::Constant, s == bindings_.shapes.end() ? 0 : s->second,
                            -1, -1});
      }
      case IndexOp::Variable: {
        if (auto p = params.find(e.name); p != params.end()) return p->second;
        for (size_t i = 0; i < variables_.size(); ++i)
          if (variables_[i].name == e.name)
            return push(nodes, {IndexExtentNode::Variable, static_cast<int64_t>(i), -1, -1});
        return push(nodes, {IndexExtentNode::Constant, 0, -1, -1});
      }
      case IndexOp::Neg:
        return emit(e.args[0], nodes, params, depth + 1);
      case IndexOp::Add:
      case IndexOp::Sub:
      case IndexOp::Mul:
      case IndexOp::Div:
      case IndexOp::Mod: {
        const int a = emit(e.args[0], nodes, params, depth + 1);
        const int b = emit(e.args[1], nodes, params, depth + 1);
        IndexExtentNode::Op op = e.op == IndexOp::Mul   ? IndexExtentNode::Mul
                                 : e.op == IndexOp::Div ? IndexExtentNode::Div
                                 : e.op == IndexOp::Mod ? IndexExtentNode::Mod
                                                        : IndexExtentNode::Add;
        return push(nodes, {op, e.op == IndexOp::Sub ? -1 : 1, a, b});
      }
      case IndexOp::Call: {
        std::vector<int> args;
        for (const IndexExpr& a : e.args) args.push_back(emit(a, nodes, params, depth + 1));
        if (const IndexFunction* f = cascade_.find_index_function(e.name)) {
          std::map<std::string, int> inner;
          for (size_t i = 0; i < f->params.size() && i < args.size(); ++i)
            inner[f->params[i]] = args[i];
          return emit(f->body, nodes, inner, depth + 1);
        }
        // min, max, clamp: spans at most the widest argument.
        int acc = args.empty() ? push(nodes, {IndexExtentNode::Constant, 0, -1, -1}) : args[0];
        for (size_t i = 1; i < args.size(); ++i)
          acc = push(nodes, {IndexExtentNode::MaxOf, 0, acc, args[i]});
        return acc;
      }
    }
    return push(nodes, {IndexExtentNode::Constant, 0, -1, -1});
  }

  const Cascade& cascade_;
  const Bindings& bindings_;
  const std::vector<ProblemVariable>& variables_;
};

struct Span {  // trivial: index_extent's stack stays uninitialised
  double length;
  bool constant;
  double value;
};

// The number of distinct values an index takes over a tile with the given extents per slot.
double index_extent(const std::vector<IndexExtentNode>& nodes, const double* extents) {
  Span small[96];
  std::vector<Span> large;
  if (nodes.size() > 96) large.resize(nodes.size());
  Span* stack = nodes.size() > 96 ? large.data() : small;
  const size_t n = nodes.size();
  for (size_t i = 0; i < n; ++i) {
    const IndexExtentNode& node = nodes[i];
    Span& s = stack[i];
    switch (node.op) {
      case IndexExtentNode::Constant:
        s = {1, true, static_cast<double>(node.value)};
        break;
      case IndexExtentNode::Variable:
        s = {extents[node.value], false, 0};
        break;
      case IndexExtentNode::Add: {
        const Span& a = stack[node.lhs];
        const Span& b = stack[node.rhs];
        if (a.constant && b.constant)
          s = {1, true, a.value + node.value * b.value};
        else
          s = {a.length + b.length - 1, false, 0};
        break;
      }
      case IndexExtentNode::Mul: {
        const Span& a = stack[node.lhs];
        const Span& b = stack[node.rhs];
        if (a.constant && b.constant)
          s = {1, true, a.value * b.value};
        else if (a.constant)
          s = {(b.length - 1) * std::fabs(a.value) + 1, false, 0};
        else if (b.constant)
          s = {(a.length - 1) * std::fabs(b.value) + 1, false, 0};
        else
          s = {a.length * b.length, false, 0};
        break;
      }
      case IndexExtentNode::Div: {
        const Span& a = stack[node.lhs];
        const Span& b = stack[node.rhs];
        if (a.constant && b.constant)
          s = {1, true, b.value != 0 ? std::floor(a.value / b.value) : 0};
        else if (b.constant && b.value > 0)
          s = {std::floor((a.length - 1) / b.value) + 1, false, 0};
        else
          s = {a.length, false, 0};
        break;
      }
      case IndexExtentNode::Mod: {
        const Span& a = stack[node.lhs];
        const Span& b = stack[node.rhs];
        if (a.constant && b.constant)
          s = {1, true, 0};
        else if (b.constant && b.value > 0)
          s = {std::min(a.length, b.value), false, 0};
        else
          s = {a.length, false, 0};
        break;
      }
      case IndexExtentNode::MaxOf: {
        const Span& a = stack[node.lhs];
        const Span& b = stack[node.rhs];
        if (a.constant && b.constant)
          s = {1, true, std::max(a.value, b.value)};
        else
          s = {std::max(a.constant ? 1.0 : a.length, b.constant ? 1.0 : b.length), false, 0};
        break;
      }
    }
  }
  return n == 0 ? 1 : stack[n - 1].length;
}

void index_variable_slots(const std::vector<IndexExtentNode>& nodes, uint64_t& mask) {
  for (const IndexExtentNode& n : nodes)
    if (n.op == IndexExtentNode::Variable && n.value < 64) mask |= uint64_t{1} << n.value;
}

// ---------------------------------------------------------------------------------------
// Operator counting per point, by name, with scopes.

class OperatorCounter {
 public:
  OperatorCounter(std::vector<ProblemVariable> variables, double density)
      : variables_(std::move(variables)), density_(density) {}

  std::map<std::string, double> ops;  // totals per (batch, head)
  double operand_reads = 0;
  double accumulator_accesses = 0;
  bool contraction = false;

  double scope_points(const std::set<std::string>& scope) const {
    double p = 1;
    for (const ProblemVariable& v : variables_)
      if (scope.count(v.name)) p *= static_cast<double>(v.extent);
    return p * density_;
  }

  void count(const Expr& e, const std::set<std::string>& scope) {
    const double points = scope_points(scope);
    switch (e.op) {
      case ExprOp::Number:
      case ExprOp::Parameter:
      case ExprOp::Index:
        return;
      case ExprOp::Read:
        operand_reads += points;
        return;
      case ExprOp::Reduce: {
        std::set<std::string> inner = scope;
        for (const std::string& v : e.reduce_vars) inner.insert(v);
        if (e.name == "sum")
          sum(e.args[0], scope, inner);
        else {
          ops[e.name == "min" ? "min" : "max"] += scope_points(inner);
          accumulator_accesses += scope_points(inner);
          count(e.args[0], inner);
        }
        return;
      }
      case ExprOp::Neg:
        ops["neg"] += points;
        break;
      case ExprOp::Add:
        ops["add"] += points;
        break;
      case ExprOp::Sub:
        ops["sub"] += points;
        break;
      case ExprOp::Mul:
        ops["mul"] += points;
        break;
      case ExprOp::Div:
        ops["div"] += points;
        break;
      case ExprOp::Call:
        ops[e.name] += points;
        break;
    }
    for (const Expr& a : e.args) count(a, scope);
  }

  // sum over (inner - outer) of `summand`: a product's factors that do not depend on the
  // summed variables are applied once per outer point; one multiply of the rest fuses
  // with the accumulation into a MAC.
  void sum(const Expr& summand, const std::set<std::string>& outer,
           const std::set<std::string>& inner) {
    const double inner_points = scope_points(inner);
    const double outer_points = scope_points(outer);
    std::set<std::string> summed;
    for (const std::string& v : inner)
      if (!outer.count(v)) summed.insert(v);
    accumulator_accesses += inner_points;
    if (summand.op != ExprOp::Mul) {
      ops["add"] += inner_points;
      count(summand, inner);
      return;
    }
    std::vector<const Expr*> factors;
    flatten_product(summand, factors);
    std::vector<const Expr*> dependent, independent;
    for (const Expr* f : factors) (depends_on(*f, summed) ? dependent : independent).push_back(f);
    if (dependent.size() >= 2) {
      contraction = true;
      ops["mac"] += inner_points;
      ops["mul"] += static_cast<double>(dependent.size() - 2) * inner_points;
    } else {
      ops["add"] += inner_points;
    }
    for (const Expr* f : dependent) count(*f, inner);
    if (!independent.empty()) {
      // c * sum(x): one multiply per factor per outer point (a lone dependent factor still
      // needs its own multiply with the constant when there are no dependent factors).
      ops["mul"] +=
          static_cast<double>(independent.size() - (dependent.empty() ? 1 : 0)) * outer_points;
      for (const Expr* f : independent) count(*f, outer);
    }
  }

 private:
  static void flatten_product(const Expr& e, std::vector<const Expr*>& out) {
    if (e.op == ExprOp::Mul) {
      for (const Expr& a : e.args) flatten_product(a, out);
      return;
    }
    out.push_back(&e);
  }

  static void index_uses(const IndexExpr& e, const std::set<std::string>& vars, bool& used) {
    if (e.op == IndexOp::Variable && vars.count(e.name)) used = true;
    for (const IndexExpr& a : e.args) index_uses(a, vars, used);
  }

  static bool depends_on(const Expr& e, const std::set<std::string>& vars) {
    bool used = false;
    for (const IndexExpr& i : e.indices) index_uses(i, vars, used);
    if (e.op == ExprOp::Parameter && vars.count(e.name)) used = true;  // a variable as a value
    for (const Expr& a : e.args) used = used || depends_on(a, vars);
    return used;
  }

  std::vector<ProblemVariable> variables_;
  double density_;
};

void collect_reads(const Expr& e, std::vector<const Expr*>& out) {
  if (e.op == ExprOp::Read) out.push_back(&e);
  for (const Expr& a : e.args) collect_reads(a, out);
}

bool has_reduction(const Expr& e) {
  if (e.op == ExprOp::Reduce) return true;
  for (const Expr& a : e.args)
    if (has_reduction(a)) return true;
  return false;
}

bool plain_variable_indices(const std::vector<IndexExpr>& indices, std::vector<std::string>& vars) {
  for (const IndexExpr& i : indices) {
    if (i.op == IndexOp::Variable)
      vars.push_back(i.name);
    else if (i.op == IndexOp::Add && i.args.size() == 2 && i.args[0].op == IndexOp::Variable &&
             i.args[1].op == IndexOp::Constant)
      vars.push_back(i.args[0].name);  // RM[m1+1, p]
    else
      return false;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Problem

int ProblemEinsum::slot_of_rank(const std::string& rank) const {
  // Rank names are short and often one letter: compare the first letter before the rest.
  if (rank.empty()) return -1;
  for (size_t i = 0; i < variables.size(); ++i) {
    const std::string& r = variables[i].rank;
    if (r.size() == rank.size() && r[0] == rank[0] && r == rank) return static_cast<int>(i);
  }
  return -1;
}

int Problem::find_einsum(const std::string& name) const {
  const auto it = einsum_index.find(name);
  return it == einsum_index.end() ? -1 : it->second;
}

int Problem::find_tensor(const std::string& name) const {
  const auto it = tensor_index.find(name);
  return it == tensor_index.end() ? -1 : it->second;
}

Problem make_problem(const Cascade& cascade, const Bindings& bindings, int64_t batch, int64_t heads,
                     double word_bytes) {
  if (batch < 1) throw Error("batch must be at least 1, got " + std::to_string(batch));
  if (heads < 1) throw Error("heads must be at least 1, got " + std::to_string(heads));
  Problem problem;
  problem.cascade = cascade;
  problem.bindings = bindings;
  problem.batch = batch;
  problem.heads = heads;
  problem.word_bytes = word_bytes;

  for (const TensorInfo& t : cascade.tensors) {
    ProblemTensor pt;
    pt.name = t.name;
    pt.ranks = t.ranks;
    pt.producer = t.producer;
    pt.consumers = t.consumers;
    pt.input = t.producer < 0;
    pt.output = contains(cascade.outputs, t.name);
    pt.elements = 1;
    for (size_t d = 0; d < t.ranks.size(); ++d) {
      const int64_t extra = d < t.extra.size() ? t.extra[d] : 0;
      pt.sizes.push_back(bindings.shape(t.ranks[d]) + extra);
      pt.elements *= static_cast<double>(pt.sizes.back());
      if (extra > 0 && pt.iterative_dimension < 0) pt.iterative_dimension = static_cast<int>(d);
    }
    problem.tensor_index[pt.name] = static_cast<int>(problem.tensors.size());
    problem.tensors.push_back(std::move(pt));
  }

  // Iteration points: a closed form for an Einsum without `where` (the product of its
  // extents, with M1 x M0 replaced by M when it binds both parts of a partition, whose
  // last tile is partial); operator_counts' exact count otherwise.
  std::vector<double> where_points;
  bool any_where = false;
  for (const Einsum& einsum : cascade.einsums) any_where = any_where || !einsum.where.empty();
  if (any_where)
    for (const EinsumCost& c : operator_counts(cascade, bindings)) where_points.push_back(c.points);
  for (size_t i = 0; i < cascade.einsums.size(); ++i) {
    const Einsum& einsum = cascade.einsums[i];
    ProblemEinsum pe;
    pe.name = einsum.output;
    pe.variables.push_back({kBatchRank, kBatchRank, batch});
    pe.variables.push_back({kHeadRank, kHeadRank, heads});
    const EinsumVariables vars = einsum_variables(einsum);
    for (const std::string& v : vars.all()) {
      const std::string rank = rank_of_variable(v);
      pe.variables.push_back({v, rank, bindings.shape(rank), !contains(vars.output, v), false});
    }
    for (const IndexExpr& index : einsum.output_indices)
      if (index.op == IndexOp::Add && index.args.size() == 2 &&
          index.args[0].op == IndexOp::Variable)
        for (ProblemVariable& v : pe.variables)
          if (v.name == index.args[0].name) v.iterative = true;
    pe.box = 1;
    for (size_t s = 2; s < pe.variables.size(); ++s)
      pe.box *= static_cast<double>(pe.variables[s].extent);
    if (!einsum.where.empty()) {
      pe.points = where_points[i];
    } else {
      const std::vector<std::string> all = vars.all();
      pe.points = pe.box;
      for (const Partition& part : cascade.partitions) {
        if (part.parts.size() != 2) continue;
        const std::string outer = variable_of_rank(part.parts[0]);
        const std::string inner = variable_of_rank(part.parts[1]);
        if (contains(all, outer) && contains(all, inner))
          pe.points =
              pe.points /
              static_cast<double>(bindings.shape(part.parts[0]) * bindings.shape(part.parts[1])) *
              static_cast<double>(bindings.shape(part.rank));
      }
    }
    const double density = pe.box > 0 ? pe.points / pe.box : 0;

    // Operators.
    OperatorCounter counter(
        std::vector<ProblemVariable>(pe.variables.begin() + 2, pe.variables.end()), density);
    std::set<std::string> outer(vars.output.begin(), vars.output.end());
    if (!vars.implicit.empty()) {
      std::set<std::string> inner = outer;
      for (const std::string& v : vars.implicit) inner.insert(v);
      counter.sum(einsum.value, outer, inner);
    } else {
      counter.count(einsum.value, outer);
    }
    const double per = pe.points > 0 ? 1.0 / pe.points : 0;
    for (const auto& [op, total] : counter.ops)
      if (total > 0) pe.ops_per_point.emplace_back(op, total * per);
    pe.operand_reads_per_point = (counter.operand_reads + counter.accumulator_accesses) * per;
    pe.result_writes_per_point = counter.operand_reads * per + 1;
    pe.contraction = counter.contraction;

    // Accesses: one per distinct tensor read, then the write.
    IndexCompiler compiler(cascade, bindings, pe.variables);
    std::vector<const Expr*> reads;
    collect_reads(einsum.value, reads);
    std::vector<std::string> output_vars;
    const bool plain_output = plain_variable_indices(einsum.output_indices, output_vars);
    const bool elementwise = plain_output && !has_reduction(einsum.value) && vars.implicit.empty();
    for (const Expr* r : reads) {
      const int t = problem.find_tensor(r->name);
      if (t < 0) continue;
      std::vector<std::string> read_vars;
      const bool same = plain_variable_indices(r->indices, read_vars) && plain_output &&
                        read_vars == output_vars && r->indices == einsum.output_indices;
      auto existing = std::find_if(pe.accesses.begin(), pe.accesses.end(),
                                   [&](const ProblemAccess& a) { return a.tensor == t; });
      if (existing != pe.accesses.end()) {
        existing->output_indices = existing->output_indices && same;
        continue;
      }
      ProblemAccess access;
      access.output_indices = same;
      access.tensor = t;
      access.variables = (uint64_t{1} << kBatchSlot) | (uint64_t{1} << kHeadSlot);
      for (const IndexExpr& index : r->indices) {
        access.dims.push_back(compiler.compile(index));
        index_variable_slots(access.dims.back(), access.variables);
      }
      pe.accesses.push_back(std::move(access));
    }
    ProblemAccess write;
    write.tensor = problem.find_tensor(einsum.output);
    write.write = true;
    write.variables = (uint64_t{1} << kBatchSlot) | (uint64_t{1} << kHeadSlot);
    for (const IndexExpr& index : einsum.output_indices) {
      write.dims.push_back(compiler.compile(index));
      index_variable_slots(write.dims.back(), write.variables);
    }
    pe.accesses.push_back(std::move(write));
    pe.elementwise = elementwise;
    problem.einsum_index[pe.name] = static_cast<int>(problem.einsums.size());
    problem.einsums.push_back(std::move(pe));
  }

  for (const EinsumGroup& g : evaluation_order(cascade))
    for (int e : g.einsums) problem.order.push_back(e);
  problem.position.assign(problem.einsums.size(), 0);
  for (size_t i = 0; i < problem.order.size(); ++i)
    problem.position[problem.order[i]] = static_cast<int>(i);
  for (const ProblemEinsum& pe : problem.einsums)
    if (pe.accesses.size() > 64 || pe.variables.size() > 64)
      throw Error(pe.name + ": more than 64 tensor accesses or variables");
  return problem;
}

std::string to_string(TensorHome home) {
  switch (home) {
    case TensorHome::Dram:
      return "dram";
    case TensorHome::GlobalBuffer:
      return "global_buffer";
    case TensorHome::RegisterFile:
      return "register_file";
  }
  return "?";
}

std::string to_string(GroupSchedule schedule) {
  return schedule == GroupSchedule::Sequential ? "sequential" : "overlapped";
}

const TensorPlacement* Mapping::find_tensor(const std::string& name) const {
  for (const TensorPlacement& t : tensors)
    if (t.tensor == name) return &t;
  return nullptr;
}

// ---------------------------------------------------------------------------------------
// Mapping files

namespace {

using yaml_support::Reader;

const std::vector<std::string> kMappingKeys = {"name",     "mapper", "description", "shapes",
                                               "schedule", "notes",  "tensors",     "groups"};
const std::vector<std::string> kGroupKeys = {"name", "dram_loops", "units", "einsums"};
const std::vector<std::string> kEinsumKeys = {"einsum",  "unit",           "buffer_loops",
                                              "spatial", "register_loops", "bypass"};
const std::vector<std::string> kSpatialKeys = {"cols", "rows"};
const std::vector<std::string> kTensorKeys = {"home", "staged", "spill"};

std::string describe_node(const YAML::Node& n) {
  if (n.IsMap()) return "a map";
  if (n.IsSequence()) return "a list";
  if (n.IsNull()) return "nothing";
  return "'" + n.Scalar() + "'";
}

// A loop: `RANK: FACTOR` (a one-entry map) or the string "RANK=FACTOR".
std::vector<Loop> read_loops(const Reader& r, const YAML::Node& node, const SourceLocation& loc,
                             const std::string& what) {
  std::vector<Loop> loops;
  if (node.IsNull()) return loops;
  if (!node.IsSequence())
    throw Error(
        loc, what + " must be a list of loops such as [P: 4, E: 64], got " + describe_node(node));
  for (const YAML::Node& item : node) {
    const SourceLocation item_loc = r.at_value(item, loc);
    Loop loop;
    loop.loc = item_loc;
    if (item.IsMap()) {
      const auto entries = r.entries(item, "a loop of " + what);
      if (entries.size() != 1)
        throw Error(item_loc, "a loop of " + what + " is one 'RANK: FACTOR' pair, got " +
                                  std::to_string(entries.size()) + " entries");
      loop.rank = entries[0].key;
      loop.loc = entries[0].key_loc;
      loop.factor = r.positive_integer(entries[0].value, entries[0].value_loc,
                                       "the factor of loop '" + loop.rank + "'");
    } else if (item.IsScalar()) {
      const std::string& s = item.Scalar();
      const size_t eq = s.find('=');
      if (eq == std::string::npos || eq == 0)
        throw Error(item_loc,
                    "a loop of " + what + " is 'RANK: FACTOR' or 'RANK=FACTOR', got '" + s + "'");
      loop.rank = s.substr(0, eq);
      YAML::Node factor(s.substr(eq + 1));
      loop.factor = r.positive_integer(factor, item_loc, "the factor of loop '" + loop.rank + "'");
    } else {
      throw Error(item_loc, "a loop of " + what + " is 'RANK: FACTOR', got " + describe_node(item));
    }
    if (!yaml_support::is_identifier(loop.rank))
      throw Error(loop.loc, "'" + loop.rank + "' is not a rank name");
    loops.push_back(loop);
  }
  return loops;
}

void require_map(const YAML::Node& node, const SourceLocation& loc, const std::string& what) {
  if (!node.IsMap()) throw Error(loc, what + " must be a map, got " + describe_node(node));
}

void check_keys(const std::vector<Reader::Entry>& entries, const std::vector<std::string>& known,
                const std::string& where) {
  for (const auto& e : entries)
    if (!contains(known, e.key))
      throw Error(e.key_loc, yaml_support::unknown_key_message(e.key, where, known));
}

EinsumMapping read_einsum_mapping(const Reader& r, const YAML::Node& node,
                                  const SourceLocation& loc) {
  require_map(node, loc, "an Einsum mapping");
  EinsumMapping m;
  m.loc = loc;
  const auto entries = r.entries(node, "an Einsum mapping");
  check_keys(entries, kEinsumKeys, "an Einsum mapping");
  bool has_einsum = false, has_unit = false;
  for (const auto& e : entries) {
    if (e.key == "einsum") {
      m.einsum = r.text(e.value, e.value_loc, "'einsum'");
      m.loc = e.value_loc;
      has_einsum = true;
    } else if (e.key == "unit") {
      m.unit = r.text(e.value, e.value_loc, "'unit'");
      has_unit = true;
    } else if (e.key == "buffer_loops") {
      m.buffer_loops = read_loops(r, e.value, e.value_loc, "'buffer_loops'");
    } else if (e.key == "register_loops") {
      m.register_loops = read_loops(r, e.value, e.value_loc, "'register_loops'");
    } else if (e.key == "bypass") {
      m.bypass = r.string_list(e.value, e.value_loc, "'bypass'");
    } else if (e.key == "spatial") {
      if (e.value.IsNull()) continue;
      require_map(e.value, e.value_loc, "'spatial'");
      const auto axes = r.entries(e.value, "'spatial'");
      check_keys(axes, kSpatialKeys, "'spatial'");
      for (const auto& a : axes) {
        auto loops = read_loops(r, a.value, a.value_loc, "'spatial." + a.key + "'");
        (a.key == "cols" ? m.spatial_cols : m.spatial_rows) = std::move(loops);
      }
    }
  }
  if (!has_einsum) throw Error(loc, "an Einsum mapping needs 'einsum' (the output tensor)");
  if (!has_unit)
    throw Error(loc, "the mapping of einsum " + m.einsum + " needs 'unit' (array_2d or array_1d)");
  return m;
}

MappingGroup read_group(const Reader& r, const YAML::Node& node, const SourceLocation& loc) {
  require_map(node, loc, "a group");
  MappingGroup g;
  g.loc = loc;
  const auto entries = r.entries(node, "a group");
  check_keys(entries, kGroupKeys, "a group");
  for (const auto& e : entries) {
    if (e.key == "name") {
      g.name = r.text(e.value, e.value_loc, "'name'");
    } else if (e.key == "dram_loops") {
      g.dram_loops = read_loops(r, e.value, e.value_loc, "'dram_loops'");
    } else if (e.key == "units") {
      const std::string units = r.text(e.value, e.value_loc, "'units'");
      if (units != "concurrent" && units != "serialized")
        throw Error(e.value_loc, "'units' must be concurrent or serialized, got '" + units + "'");
      g.serialized_units = units == "serialized";
    } else if (e.key == "einsums") {
      if (!e.value.IsSequence())
        throw Error(e.value_loc,
                    "'einsums' must be a list of Einsum mappings, got " + describe_node(e.value));
      for (const YAML::Node& item : e.value)
        g.einsums.push_back(read_einsum_mapping(r, item, r.at_value(item, e.value_loc)));
    }
  }
  if (g.name.empty()) throw Error(loc, "a group needs a 'name'");
  if (g.einsums.empty()) throw Error(loc, "group " + g.name + " maps no Einsums");
  return g;
}

TensorHome parse_home(const std::string& text, const SourceLocation& loc) {
  if (text == "dram") return TensorHome::Dram;
  if (text == "global_buffer") return TensorHome::GlobalBuffer;
  if (text == "register_file") return TensorHome::RegisterFile;
  throw Error(loc, "'home' must be dram, global_buffer or register_file, got '" + text + "'");
}

std::string print_loops(const std::vector<Loop>& loops) {
  std::string out = "[";
  for (size_t i = 0; i < loops.size(); ++i)
    out += fmt::format("{}{}: {}", i ? ", " : "", loops[i].rank, loops[i].factor);
  return out + "]";
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

Mapping parse_mapping_text(const std::string& yaml_text, const std::string& file) {
  Reader r(file);
  const YAML::Node root = r.load(yaml_text);
  Mapping m;
  m.file = file;
  m.loc = r.start();
  if (!root.IsMap())
    throw Error(r.start(),
                "a mapping file must be a map with 'groups', got " + describe_node(root));
  const auto entries = r.entries(root, "the mapping");
  check_keys(entries, kMappingKeys, "the mapping");
  bool has_groups = false;
  for (const auto& e : entries) {
    if (e.key == "name") {
      m.name = r.text(e.value, e.value_loc, "'name'");
    } else if (e.key == "mapper") {
      m.mapper = r.text(e.value, e.value_loc, "'mapper'");
    } else if (e.key == "description") {
      m.description = r.text(e.value, e.value_loc, "'description'");
    } else if (e.key == "notes") {
      m.notes = r.string_list(e.value, e.value_loc, "'notes'");
    } else if (e.key == "schedule") {
      const std::string s = r.text(e.value, e.value_loc, "'schedule'");
      if (s == "sequential")
        m.schedule = GroupSchedule::Sequential;
      else if (s == "overlapped")
        m.schedule = GroupSchedule::Overlapped;
      else
        throw Error(e.value_loc, "'schedule' must be sequential or overlapped, got '" + s + "'");
    } else if (e.key == "shapes") {
      if (e.value.IsNull()) continue;
      require_map(e.value, e.value_loc, "'shapes'");
      for (const auto& s : r.entries(e.value, "'shapes'"))
        m.shapes[s.key] =
            std::to_string(r.positive_integer(s.value, s.value_loc, "shape '" + s.key + "'"));
    } else if (e.key == "tensors") {
      if (e.value.IsNull()) continue;
      require_map(e.value, e.value_loc, "'tensors'");
      for (const auto& t : r.entries(e.value, "'tensors'")) {
        TensorPlacement p;
        p.tensor = t.key;
        p.loc = t.key_loc;
        require_map(t.value, t.value_loc, "the placement of tensor " + t.key);
        const auto fields = r.entries(t.value, "the placement of tensor " + t.key);
        check_keys(fields, kTensorKeys, "the placement of tensor " + t.key);
        bool has_home = false;
        for (const auto& f : fields) {
          if (f.key == "home") {
            p.home = parse_home(r.text(f.value, f.value_loc, "'home'"), f.value_loc);
            has_home = true;
          } else if (f.key == "staged") {
            p.staged = r.boolean(f.value, f.value_loc, "'staged'");
          } else if (f.key == "spill") {
            p.spill = r.boolean(f.value, f.value_loc, "'spill'");
          }
        }
        if (!has_home) throw Error(t.key_loc, "the placement of tensor " + t.key + " needs 'home'");
        m.tensors.push_back(p);
      }
    } else if (e.key == "groups") {
      has_groups = true;
      if (!e.value.IsSequence())
        throw Error(e.value_loc,
                    "'groups' must be a list of groups, got " + describe_node(e.value));
      for (const YAML::Node& g : e.value)
        m.groups.push_back(read_group(r, g, r.at_value(g, e.value_loc)));
    }
  }
  if (!has_groups || m.groups.empty())
    throw Error(r.start(), "a mapping needs 'groups' (a list of groups of Einsums)");
  for (const MappingGroup& g : m.groups)
    if (g.serialized_units && m.schedule == GroupSchedule::Overlapped)
      throw Error(g.loc, "group " + g.name +
                             ": 'units: serialized' needs 'schedule: sequential' (overlapped "
                             "groups share their arrays' busy time)");
  return m;
}

Mapping load_mapping(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(SourceLocation{path, 0, 0}, "cannot open mapping file '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  return parse_mapping_text(text.str(), path);
}

std::string print_mapping(const Mapping& m) {
  std::string out;
  out += "name: " + quote(m.name) + "\n";
  if (!m.mapper.empty()) out += "mapper: " + quote(m.mapper) + "\n";
  if (!m.description.empty()) out += "description: " + quote(m.description) + "\n";
  if (!m.shapes.empty()) {
    out += "shapes: {";
    bool first = true;
    for (const auto& [k, v] : m.shapes) {
      out += fmt::format("{}{}: {}", first ? "" : ", ", k, v);
      first = false;
    }
    out += "}\n";
  }
  out += "schedule: " + to_string(m.schedule) + "\n";
  if (!m.notes.empty()) {
    out += "notes:\n";
    for (const std::string& n : m.notes) out += "  - " + quote(n) + "\n";
  }
  if (!m.tensors.empty()) {
    out += "tensors:\n";
    for (const TensorPlacement& t : m.tensors)
      out += fmt::format("  {}: {{home: {}, staged: {}, spill: {}}}\n", t.tensor, to_string(t.home),
                         t.staged ? "true" : "false", t.spill ? "true" : "false");
  }
  out += "groups:\n";
  for (const MappingGroup& g : m.groups) {
    out += "  - name: " + quote(g.name) + "\n";
    out += "    dram_loops: " + print_loops(g.dram_loops) + "\n";
    if (g.serialized_units) out += "    units: serialized\n";
    out += "    einsums:\n";
    for (const EinsumMapping& e : g.einsums) {
      out += "      - einsum: " + e.einsum + "\n";
      out += "        unit: " + e.unit + "\n";
      out += "        buffer_loops: " + print_loops(e.buffer_loops) + "\n";
      out += "        spatial: {cols: " + print_loops(e.spatial_cols) +
             ", rows: " + print_loops(e.spatial_rows) + "}\n";
      if (!e.register_loops.empty())
        out += "        register_loops: " + print_loops(e.register_loops) + "\n";
      if (!e.bypass.empty()) out += "        bypass: [" + join(e.bypass) + "]\n";
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Resolution and checks

std::string array_operation(const PeArray& array, const std::string& op) {
  static const std::map<std::string, std::vector<std::string>> kFallbacks = {
      {"mul", {"mul", "multiply", "mac"}},
      {"sub", {"sub", "subtract", "add"}},
      {"neg", {"neg", "sub", "add"}},
      {"div", {"div", "divide"}},
      {"min", {"min", "max"}},
      {"max", {"max"}},
      {"add", {"add"}},
      {"mac", {"mac"}},
      {"exp", {"exp"}},
  };
  auto f = kFallbacks.find(op);
  if (f == kFallbacks.end()) return array.supports(op) ? op : std::string();
  for (const std::string& name : f->second)
    if (array.supports(name)) return name;
  return "";
}

std::vector<std::pair<std::string, double>> lower_operation(const PeArray& array,
                                                            const std::string& op) {
  const std::string direct = array_operation(array, op);
  if (!direct.empty()) return {{direct, 1.0}};
  static const std::map<std::string, std::vector<std::string>> kLowerings = {
      {"elu1", {"exp", "add", "max"}},
      {"relu", {"max"}},
      {"abs", {"max", "sub"}},
      {"pow", {"exp", "mul"}},
  };
  auto l = kLowerings.find(op);
  if (l == kLowerings.end()) return {};
  std::vector<std::pair<std::string, double>> out;
  for (const std::string& part : l->second) {
    const std::string name = array_operation(array, part);
    if (name.empty()) return {};
    out.emplace_back(name, 1.0);
  }
  return out;
}

namespace {

enum Level { kDramLevel = 0, kBufferLevel = 1, kSpatialLevel = 2, kRegisterLevel = 3 };

// Extents per slot of the loops at `from` and below (a tile held at level `from`).
void tile_extents(const ProblemEinsum& pe, const ResolvedEinsum& re, int from, double* ext) {
  for (size_t s = 0; s < pe.variables.size(); ++s) ext[s] = 1;
  for (size_t i = re.level_begin(from); i < re.loops.size(); ++i) {
    const ResolvedLoop& loop = re.loops[i];
    if (loop.slot >= 0) ext[loop.slot] *= loop.effective;
  }
}

double access_elements(const Problem& problem, const ProblemAccess& a, const double* ext,
                       bool one_iterative_slice) {
  const ProblemTensor& t = problem.tensors[a.tensor];
  double elements = ext[kBatchSlot] * ext[kHeadSlot];
  for (size_t d = 0; d < a.dims.size() && d < t.sizes.size(); ++d) {
    double len = std::min(index_extent(a.dims[d], ext), static_cast<double>(t.sizes[d]));
    if (one_iterative_slice && static_cast<int>(d) == t.iterative_dimension) len = 1;
    elements *= len;
  }
  return elements;
}

// Times the tile below `boundary` is fetched (or written back): the loops above it, less
// the innermost ones whose ranks the access does not use. `distinct` gets the number of
// different tiles (relevant loops only).
double fetches(const ResolvedEinsum& re, const ProblemAccess& a, int boundary, double* distinct) {
  double n = 1, d = 1;
  bool reached = false;
  for (size_t i = re.level_end[boundary - 1]; i-- > 0;) {
    const ResolvedLoop& loop = re.loops[i];
    if (loop.slot < 0) continue;  // a group loop this Einsum does not iterate
    const bool relevant = (a.variables >> loop.slot) & 1;
    if (relevant) {
      reached = true;
      d *= loop.effective;
    }
    if (reached) n *= loop.effective;
  }
  if (distinct) *distinct = d;
  return n;
}

struct Transfer {
  double count = 0;          // elements moved across the boundary
  double partial_reads = 0;  // write accesses: partial sums read back
};

Transfer transfer(const Problem& problem, const ProblemEinsum& pe, const ResolvedEinsum& re,
                  const ProblemAccess& a, int boundary) {
  double ext[64];
  tile_extents(pe, re, boundary, ext);
  const double tile = access_elements(problem, a, ext, false);
  double distinct = 1;
  const double n = fetches(re, a, boundary, &distinct);
  Transfer t;
  t.count = tile * n;
  if (a.write) t.partial_reads = std::max(0.0, tile * (n - distinct));
  return t;
}

std::string ranks_of(const ProblemEinsum& pe) {
  std::vector<std::string> names;
  for (size_t s = 2; s < pe.variables.size(); ++s) names.push_back(pe.variables[s].rank);
  return join(names);
}

std::vector<std::string> einsum_names(const Problem& problem) {
  std::vector<std::string> names;
  for (const ProblemEinsum& e : problem.einsums) names.push_back(e.name);
  return names;
}

std::vector<std::string> array_names(const ArchSpec& arch) {
  std::vector<std::string> names;
  for (const PeArray& a : arch.arrays) names.push_back(a.name);
  return names;
}

std::vector<std::string> supported_ops(const PeArray& array) {
  std::vector<std::string> names;
  for (const auto& [op, actions] : array.ops) names.push_back(op);
  return names;
}

// The iteration-space slot a group's DRAM loop over `rank` tiles: the rank's own, or, for the
// outer part of a partition (T of P -> T, B), the whole rank's in an Einsum that iterates
// over it undivided (lightning's AV[f, p] = O[p / B, p % B, f]: a loop over blocks t
// also walks p in runs of whole blocks).
int dram_loop_slot(const Problem& problem, const ProblemEinsum& pe, const std::string& rank) {
  const int slot = pe.slot_of_rank(rank);
  if (slot >= 0) return slot;
  for (const Partition& part : problem.cascade.partitions)
    if (part.parts.front() == rank) return pe.slot_of_rank(part.rank);
  return -1;
}

void resolve_loops(const Problem& problem, const ProblemEinsum& pe, const std::vector<Loop>& loops,
                   std::vector<ResolvedLoop>& out, bool group_level, const char* what) {
  for (const Loop& loop : loops) {
    const int slot =
        group_level ? dram_loop_slot(problem, pe, loop.rank) : pe.slot_of_rank(loop.rank);
    if (slot < 0 && !group_level)
      throw Error(loop.loc, "einsum " + pe.name + ": " + std::string(what) + " loop over rank " +
                                loop.rank + ", which is not in its iteration space (batch, head, " +
                                ranks_of(pe) + ")");
    out.push_back({slot, loop.factor, static_cast<double>(loop.factor)});
  }
}

int group_of(const ResolvedMapping& rm, int einsum) {
  return rm.einsums[einsum].group;
}

}  // namespace

GroupBuffer group_buffer_usage(const Problem& problem, const ResolvedMapping& rm, int group) {
  GroupBuffer usage;
  const std::vector<int>& position = problem.position;
  std::vector<int> einsums = rm.groups[group].einsums;
  std::sort(einsums.begin(), einsums.end(),
            [&](int a, int b) { return position[a] < position[b]; });

  std::vector<double> footprint(problem.tensors.size(), -1);
  std::vector<int> first(problem.tensors.size(), -1);
  double ext[64];
  for (int e : einsums) {
    const ProblemEinsum& pe = problem.einsums[e];
    tile_extents(pe, rm.einsums[e], kBufferLevel, ext);
    for (const ProblemAccess& a : pe.accesses) {
      const ResolvedTensor& rt = rm.tensors[a.tensor];
      const bool kept =
          rt.home == TensorHome::GlobalBuffer ||
          (rt.home == TensorHome::Dram && rm.einsums[e].is_staged(&a - pe.accesses.data()));
      if (!kept) continue;
      const double elements = access_elements(problem, a, ext, true);
      if (first[a.tensor] < 0) first[a.tensor] = e;
      footprint[a.tensor] = std::max(footprint[a.tensor], elements);
    }
  }
  // In place: an elementwise Einsum's global-buffer output takes the space of a
  // global-buffer input that it reads last.
  std::vector<bool> aliased(problem.tensors.size(), false), donated(problem.tensors.size(), false);
  for (int e : einsums) {
    const ProblemEinsum& pe = problem.einsums[e];
    if (!pe.elementwise) continue;
    const int out = pe.accesses.back().tensor;
    if (rm.tensors[out].home != TensorHome::GlobalBuffer) continue;
    for (const ProblemAccess& a : pe.accesses) {
      if (a.write || !a.output_indices || donated[a.tensor]) continue;
      const ProblemTensor& in = problem.tensors[a.tensor];
      if (rm.tensors[a.tensor].home != TensorHome::GlobalBuffer) continue;
      if (rm.tensors[a.tensor].spill != rm.tensors[out].spill) continue;
      if (in.output || footprint[a.tensor] < footprint[out]) continue;
      bool last = true;
      for (int c : in.consumers)
        if (position[c] > position[e]) last = false;
      if (!last) continue;
      aliased[out] = true;
      donated[a.tensor] = true;
      break;
    }
  }
  for (size_t t = 0; t < problem.tensors.size(); ++t) {
    if (footprint[t] < 0) continue;
    BufferTile tile;
    tile.tensor = static_cast<int>(t);
    tile.bytes = aliased[t] ? 0 : footprint[t] * problem.word_bytes;
    tile.first_einsum = first[t];
    tile.spill = rm.tensors[t].home == TensorHome::GlobalBuffer && rm.tensors[t].spill;
    (tile.spill ? usage.spillable_bytes : usage.needed_bytes) += tile.bytes;
    usage.tiles.push_back(tile);
  }
  return usage;
}

namespace {

// Fills `rm`, reusing its storage (a model evaluating many mappings keeps one).
void resolve_into(const Problem& problem, const ArchSpec& arch, const Mapping& mapping,
                  bool check_capacity, bool check_operations, ResolvedMapping& rm) {
  rm.schedule = mapping.schedule;
  rm.einsums.resize(problem.einsums.size());
  for (ResolvedEinsum& re : rm.einsums) {
    re.einsum = re.group = re.array = -1;
    re.loops.clear();
  }
  rm.groups.clear();
  rm.buffers.clear();
  std::vector<const EinsumMapping*> einsum_mapping(problem.einsums.size(), nullptr);
  const SourceLocation& where = mapping.loc;

  for (size_t gi = 0; gi < mapping.groups.size(); ++gi) {
    const MappingGroup& g = mapping.groups[gi];
    ResolvedGroup rg;
    rg.name = g.name;
    rg.serialized_units = g.serialized_units;
    for (const Loop& loop : g.dram_loops) rg.dram_iterations *= static_cast<double>(loop.factor);
    std::vector<bool> dram_loop_used(g.dram_loops.size(), false);
    for (const EinsumMapping& em : g.einsums) {
      const int e = problem.find_einsum(em.einsum);
      if (e < 0)
        throw Error(em.loc, "group " + g.name + ": unknown einsum '" + em.einsum +
                                "' (einsums: " + join(einsum_names(problem)) + ")");
      ResolvedEinsum& re = rm.einsums[e];
      if (re.einsum >= 0)
        throw Error(em.loc, "einsum " + em.einsum + " is mapped twice (in group " +
                                rm.groups[re.group].name + " and in group " + g.name + ")");
      const ProblemEinsum& pe = problem.einsums[e];
      re.einsum = e;
      re.group = static_cast<int>(gi);
      einsum_mapping[e] = &em;
      const PeArray* array = arch.find_array(em.unit);
      if (array == nullptr)
        throw Error(em.loc, "einsum " + em.einsum + ": unknown unit '" + em.unit + "' (arrays of " +
                                arch.name + ": " + join(array_names(arch)) + ")");
      re.array = static_cast<int>(array - arch.arrays.data());
      if (check_operations)
        for (const auto& [op, rate] : pe.ops_per_point)
          if (lower_operation(*array, op).empty())
            throw Error(em.loc, "einsum " + em.einsum + ": operation '" + op +
                                    "' is not supported by " + array->name +
                                    " (it supports: " + join(supported_ops(*array)) + ")");
      re.loops.clear();
      re.loops.reserve(g.dram_loops.size() + em.buffer_loops.size() + em.spatial_cols.size() +
                       em.spatial_rows.size() + em.register_loops.size());
      resolve_loops(problem, pe, g.dram_loops, re.loops, true, "DRAM");
      re.level_end[0] = static_cast<uint32_t>(re.loops.size());
      for (size_t i = 0; i < g.dram_loops.size(); ++i)
        dram_loop_used[i] = dram_loop_used[i] || re.loops[i].slot >= 0;
      resolve_loops(problem, pe, em.buffer_loops, re.loops, false, "buffer");
      re.level_end[1] = static_cast<uint32_t>(re.loops.size());
      resolve_loops(problem, pe, em.spatial_cols, re.loops, false, "spatial");
      resolve_loops(problem, pe, em.spatial_rows, re.loops, false, "spatial");
      re.level_end[2] = static_cast<uint32_t>(re.loops.size());
      resolve_loops(problem, pe, em.register_loops, re.loops, false, "register");
      re.level_end[3] = static_cast<uint32_t>(re.loops.size());
      for (size_t i = re.level_end[1]; i < re.level_end[2]; ++i) {
        const ResolvedLoop& loop = re.loops[i];
        if (loop.slot >= 0 && loop.factor > 1 && pe.variables[loop.slot].iterative)
          throw Error(em.loc, "einsum " + em.einsum + ": rank " + pe.variables[loop.slot].rank +
                                  " is iterative (" + em.einsum + "[" +
                                  pe.variables[loop.slot].name + "+1] depends on " + em.einsum +
                                  "[" + pe.variables[loop.slot].name + "]) and cannot be spatial");
      }
      re.cols_used = 1;
      for (const Loop& l : em.spatial_cols) re.cols_used *= l.factor;
      re.rows_used = 1;
      for (const Loop& l : em.spatial_rows) re.rows_used *= l.factor;
      if (re.cols_used > array->cols)
        throw Error(em.loc,
                    fmt::format("einsum {}: spatial factor {} across the columns exceeds the "
                                "{} columns of {}",
                                em.einsum, re.cols_used, array->cols, array->name));
      if (re.rows_used > array->rows)
        throw Error(em.loc,
                    fmt::format("einsum {}: spatial factor {} across the rows exceeds the {} "
                                "row{} of {}",
                                em.einsum, re.rows_used, array->rows, array->rows == 1 ? "" : "s",
                                array->name));
      // Coverage, and the factors without padding (innermost level first).
      double covered[64];
      for (size_t v = 0; v < pe.variables.size(); ++v) covered[v] = 1.0;
      for (size_t i = re.loops.size(); i-- > 0;) {
        ResolvedLoop& loop = re.loops[i];
        if (loop.slot < 0) continue;
        const double extent = static_cast<double>(pe.variables[loop.slot].extent);
        const double remaining = std::max(1.0, extent / covered[loop.slot]);
        loop.effective = std::min(static_cast<double>(loop.factor), remaining);
        covered[loop.slot] *= static_cast<double>(loop.factor);
      }
      // The outermost loop over a rank may pad its last iteration, not run empty ones.
      double outermost[64];
      for (size_t v = 0; v < pe.variables.size(); ++v) outermost[v] = 0;
      for (size_t i = 0; i < re.loops.size(); ++i) {
        const ResolvedLoop& loop = re.loops[i];
        const bool spatial = i >= re.level_end[1] && i < re.level_end[2];  // may underuse the array
        if (loop.slot >= 0 && outermost[loop.slot] == 0)
          outermost[loop.slot] = spatial ? 1.0 : static_cast<double>(loop.factor);
      }
      for (size_t s = 0; s < pe.variables.size(); ++s)
        if (outermost[s] > 1 && (outermost[s] - 1) * (covered[s] / outermost[s]) >=
                                    static_cast<double>(pe.variables[s].extent))
          throw Error(em.loc,
                      fmt::format("einsum {}: the loops over rank {} multiply to {}, more than a "
                                  "whole tile above its size {} (its outermost factor {} is too "
                                  "large)",
                                  em.einsum, pe.variables[s].rank, covered[s],
                                  pe.variables[s].extent, outermost[s]));
      for (size_t s = 0; s < pe.variables.size(); ++s)
        if (covered[s] < static_cast<double>(pe.variables[s].extent))
          throw Error(em.loc, fmt::format("einsum {}: the loops over rank {} multiply to {}, less "
                                          "than its size {}",
                                          em.einsum, pe.variables[s].rank, covered[s],
                                          pe.variables[s].extent));
      re.temporal_iterations = 1;
      for (size_t i = 0; i < re.loops.size(); ++i)
        if (re.loops[i].slot >= 0 && (i < re.level_end[1] || i >= re.level_end[2]))
          re.temporal_iterations *= static_cast<double>(re.loops[i].factor);
      rg.einsums.push_back(e);
    }
    for (size_t i = 0; i < g.dram_loops.size(); ++i)
      if (!dram_loop_used[i])
        throw Error(g.dram_loops[i].loc, "group " + g.name + ": DRAM loop over rank " +
                                             g.dram_loops[i].rank +
                                             ", which none of its Einsums iterates");
    rm.groups.push_back(std::move(rg));
  }
  for (size_t e = 0; e < problem.einsums.size(); ++e)
    if (rm.einsums[e].einsum < 0)
      throw Error(where, "einsum " + problem.einsums[e].name +
                             " is not mapped (every Einsum belongs to exactly one group)");

  // Tensor placements.
  rm.tensors.resize(problem.tensors.size());
  for (size_t t = 0; t < problem.tensors.size(); ++t) {
    const ProblemTensor& pt = problem.tensors[t];
    rm.tensors[t] = ResolvedTensor{};  // storage may be reused: reset every field
    rm.tensors[t].home = pt.input || pt.output ? TensorHome::Dram : TensorHome::GlobalBuffer;
  }
  std::vector<const TensorPlacement*> placement(problem.tensors.size(), nullptr);
  for (const TensorPlacement& p : mapping.tensors) {
    const int t = problem.find_tensor(p.tensor);
    if (t < 0) {
      std::vector<std::string> names;
      for (const ProblemTensor& pt : problem.tensors) names.push_back(pt.name);
      throw Error(p.loc, "unknown tensor '" + p.tensor + "' (tensors: " + join(names) + ")");
    }
    rm.tensors[t] = {p.home, p.staged, p.spill};
    placement[t] = &p;
  }
  for (size_t t = 0; t < problem.tensors.size(); ++t) {
    const ProblemTensor& pt = problem.tensors[t];
    const ResolvedTensor& rt = rm.tensors[t];
    const TensorPlacement* p = placement[t];
    const SourceLocation& loc = p ? p->loc : where;
    if ((pt.input || pt.output) && rt.home != TensorHome::Dram)
      throw Error(loc, "tensor " + pt.name + " is a cascade " + (pt.input ? "input" : "output") +
                           ": it lives in dram, not in the " + to_string(rt.home));
    if (rt.spill && rt.home != TensorHome::GlobalBuffer)
      throw Error(loc, "tensor " + pt.name + ": only global_buffer tensors can spill");
    if (pt.producer >= 0 && rt.home != TensorHome::Dram) {
      const int g = group_of(rm, pt.producer);
      for (int c : pt.consumers)
        if (group_of(rm, c) != g)
          throw Error(loc, "tensor " + pt.name + " is produced in group " + rm.groups[g].name +
                               " and read in group " + rm.groups[group_of(rm, c)].name +
                               ": it must live in dram, not in the " + to_string(rt.home));
    }
  }

  // Per access: staged through the global buffer, unless the Einsum bypasses it.
  for (size_t e = 0; e < problem.einsums.size(); ++e) {
    const ProblemEinsum& pe = problem.einsums[e];
    const EinsumMapping& em = *einsum_mapping[e];
    ResolvedEinsum& re = rm.einsums[e];
    for (const std::string& b : em.bypass) {
      const int t = problem.find_tensor(b);
      const bool accessed = std::any_of(pe.accesses.begin(), pe.accesses.end(),
                                        [&](const ProblemAccess& a) { return a.tensor == t; });
      if (!accessed)
        throw Error(em.loc,
                    "einsum " + pe.name + ": bypass names " + b + ", which it does not access");
      if (rm.tensors[t].home != TensorHome::Dram)
        throw Error(em.loc, "einsum " + pe.name + ": bypass names " + b + ", which lives in the " +
                                to_string(rm.tensors[t].home) + " (only dram tensors are staged)");
    }
    re.staged = 0;
    for (size_t i = 0; i < pe.accesses.size(); ++i) {
      const ProblemAccess& a = pe.accesses[i];
      if (rm.tensors[a.tensor].home == TensorHome::Dram && rm.tensors[a.tensor].staged &&
          (em.bypass.empty() || !contains(em.bypass, problem.tensors[a.tensor].name)))
        re.staged |= uint64_t{1} << i;
    }
  }

  if (!check_capacity) return;
  // Capacities.
  const Component* buffer = arch.global_buffer();
  rm.buffers.clear();
  for (size_t g = 0; g < rm.groups.size(); ++g)
    rm.buffers.push_back(group_buffer_usage(problem, rm, static_cast<int>(g)));
  for (size_t g = 0; g < rm.groups.size(); ++g) {
    const GroupBuffer& usage = rm.buffers[g];
    if (usage.tiles.empty()) continue;
    const double capacity = buffer ? buffer->capacity_bytes : 0;
    if (usage.needed_bytes <= capacity) continue;
    // Name the Einsum at which the tiles stop fitting (evaluation order).
    const std::vector<int>& position = problem.position;
    std::vector<BufferTile> tiles = usage.tiles;
    std::sort(tiles.begin(), tiles.end(), [&](const BufferTile& a, const BufferTile& b) {
      return position[a.first_einsum] < position[b.first_einsum];
    });
    double sum = 0;
    int culprit = tiles.front().first_einsum;
    for (const BufferTile& tile : tiles) {
      if (tile.spill) continue;
      sum += tile.bytes;
      if (sum > capacity) {
        culprit = tile.first_einsum;
        break;
      }
    }
    std::sort(tiles.begin(), tiles.end(),
              [](const BufferTile& a, const BufferTile& b) { return a.bytes > b.bytes; });
    std::vector<std::string> parts;
    for (const BufferTile& tile : tiles)
      if (!tile.spill && tile.bytes > 0 && parts.size() < 6)
        parts.push_back(problem.tensors[tile.tensor].name + " " + format_bytes(tile.bytes));
    throw Error(einsum_mapping[culprit]->loc,
                fmt::format("einsum {} (group {}): its tiles do not fit the global buffer: "
                            "{} needed ({}), {} available{}",
                            problem.einsums[culprit].name, rm.groups[g].name,
                            format_bytes(usage.needed_bytes), join(parts), format_bytes(capacity),
                            buffer ? " in " + buffer->name : " (the architecture has none)"));
  }
  for (size_t e = 0; e < problem.einsums.size(); ++e) {
    const ResolvedEinsum& re = rm.einsums[e];
    const PeArray& array = arch.arrays[re.array];
    if (array.register_file_entries <= 0) continue;
    const ProblemEinsum& pe = problem.einsums[e];
    double ext[64];
    tile_extents(pe, re, kRegisterLevel, ext);
    double words = 0;
    for (const ProblemAccess& a : pe.accesses) words += access_elements(problem, a, ext, true);
    if (words > static_cast<double>(array.register_file_entries))
      throw Error(einsum_mapping[e]->loc,
                  fmt::format("einsum {}: its register tiles do not fit the register file of "
                              "{}: {} needed, {} available per PE",
                              pe.name, array.name, format_bytes(words * problem.word_bytes),
                              format_bytes(array.register_file_entries * problem.word_bytes)));
  }
}

ResolvedMapping resolve_impl(const Problem& problem, const ArchSpec& arch, const Mapping& mapping,
                             bool check_capacity, bool check_operations = true) {
  ResolvedMapping rm;
  resolve_into(problem, arch, mapping, check_capacity, check_operations, rm);
  return rm;
}

}  // namespace

ResolvedMapping resolve_mapping(const Problem& problem, const ArchSpec& arch,
                                const Mapping& mapping, const ResolveOptions& options) {
  return resolve_impl(problem, arch, mapping, true, options.check_operations);
}

void resolve_mapping(const Problem& problem, const ArchSpec& arch, const Mapping& mapping,
                     ResolvedMapping& into, const ResolveOptions& options) {
  resolve_into(problem, arch, mapping, true, options.check_operations, into);
}

DataMovement analyze_data_movement(const Problem& problem, const ArchSpec& arch,
                                   const ResolvedMapping& rm) {
  (void)arch;
  DataMovement dm;
  dm.tensors.resize(problem.tensors.size());
  dm.groups.resize(rm.groups.size());
  std::vector<double> fill(problem.tensors.size());
  for (size_t g = 0; g < rm.groups.size(); ++g) {
    GroupTraffic& gt = dm.groups[g];
    if (g < rm.buffers.size()) {  // the numbers, not the tiles (rm.buffers has those)
      gt.buffer.needed_bytes = rm.buffers[g].needed_bytes;
      gt.buffer.spillable_bytes = rm.buffers[g].spillable_bytes;
    } else {
      gt.buffer = group_buffer_usage(problem, rm, static_cast<int>(g));
    }
    const double capacity = arch.global_buffer() ? arch.global_buffer()->capacity_bytes : 0;
    if (gt.buffer.spillable_bytes > 0) {
      const double room = std::max(0.0, capacity - gt.buffer.needed_bytes);
      gt.buffer.spilled_fraction = std::max(0.0, 1.0 - room / gt.buffer.spillable_bytes);
    }
    const double spilled = gt.buffer.spilled_fraction;
    std::fill(fill.begin(), fill.end(), 0.0);
    for (int e : rm.groups[g].einsums) {
      const ProblemEinsum& pe = problem.einsums[e];
      const ResolvedEinsum& re = rm.einsums[e];
      for (const ProblemAccess& a : pe.accesses) {
        const ResolvedTensor& rt = rm.tensors[a.tensor];
        TensorTraffic& tt = dm.tensors[a.tensor];
        double dram_r = 0, dram_w = 0;
        if (rt.home == TensorHome::RegisterFile) continue;
        const Transfer inner = transfer(problem, pe, re, a, kSpatialLevel);
        if (rt.home == TensorHome::Dram && !re.is_staged(&a - pe.accesses.data())) {
          if (a.write) {
            dram_w += inner.count;
            dram_r += inner.partial_reads;
          } else {
            dram_r += inner.count;
          }
        } else {
          double buf_r = 0, buf_w = 0;
          if (a.write) {
            buf_w += inner.count;
            buf_r += inner.partial_reads;
          } else {
            buf_r += inner.count;
          }
          if (rt.home == TensorHome::Dram) {
            const Transfer outer = transfer(problem, pe, re, a, kBufferLevel);
            if (a.write) {
              dram_w += outer.count;
              dram_r += outer.partial_reads;
              buf_r += outer.count;
            } else {
              fill[a.tensor] = std::max(fill[a.tensor], outer.count);
            }
          } else if (rt.spill && spilled > 0) {
            dram_r += buf_r * spilled;
            dram_w += buf_w * spilled;
            buf_r *= 1 - spilled;
            buf_w *= 1 - spilled;
          }
          tt.buffer_reads += buf_r;
          tt.buffer_writes += buf_w;
        }
        tt.dram_reads += dram_r;
        tt.dram_writes += dram_w;
        gt.dram_reads += dram_r;
        gt.dram_writes += dram_w;
      }
    }
    for (size_t t = 0; t < fill.size(); ++t) {
      if (fill[t] <= 0) continue;
      dm.tensors[t].dram_reads += fill[t];
      dm.tensors[t].buffer_writes += fill[t];
      gt.dram_reads += fill[t];
    }
  }
  for (const TensorTraffic& t : dm.tensors) {
    dm.dram_reads += t.dram_reads;
    dm.dram_writes += t.dram_writes;
    dm.buffer_reads += t.buffer_reads;
    dm.buffer_writes += t.buffer_writes;
  }
  return dm;
}

// ---------------------------------------------------------------------------------------
// Mappers

namespace {

struct SpatialChoice {
  std::string rank;
  int64_t factor = 1;
};

int64_t ceil_div(int64_t a, int64_t b) {
  return b <= 0 ? a : (a + b - 1) / b;
}

const PeArray& array_2d(const ArchSpec& arch, const std::string& mapper) {
  if (const PeArray* a = arch.find_array("array_2d")) return *a;
  for (const PeArray& a : arch.arrays)
    if (a.rows > 1) return a;
  throw Error("the " + mapper + " mapper needs a 2D PE array (array_2d); architecture " +
              arch.name + " has: " + join(array_names(arch)));
}

const PeArray& array_1d(const ArchSpec& arch, const std::string& mapper) {
  if (const PeArray* a = arch.find_array("array_1d")) return *a;
  for (const PeArray& a : arch.arrays)
    if (a.rows == 1) return a;
  throw Error("the " + mapper + " mapper needs a 1D PE array (array_1d); architecture " +
              arch.name + " has: " + join(array_names(arch)));
}

void require_query_rank(const Problem& problem, const std::string& mapper) {
  if (!problem.bindings.shapes.count("P"))
    throw Error("the " + mapper + " mapper tiles the query rank P, and cascade " +
                problem.cascade.name + " has no rank P (use --mapper generic)");
}

// An Einsum's loop nest: spatial ranks as given, every other rank's remaining factor at the
// global-buffer level in the order batch, head, `first`, the other output ranks, the reduced
// ranks (innermost).
EinsumMapping build_einsum(const Problem& problem, const ProblemEinsum& pe, const std::string& unit,
                           const std::vector<Loop>& dram, const std::vector<SpatialChoice>& cols,
                           const std::vector<SpatialChoice>& rows,
                           const std::vector<std::string>& first) {
  EinsumMapping em;
  em.einsum = pe.name;
  em.unit = unit;
  std::vector<double> done(pe.variables.size(), 1.0);
  for (const Loop& l : dram) {
    const int s = dram_loop_slot(problem, pe, l.rank);
    if (s >= 0) done[s] *= static_cast<double>(l.factor);
  }
  auto add_spatial = [&](const std::vector<SpatialChoice>& choices, std::vector<Loop>& out) {
    for (const SpatialChoice& c : choices) {
      const int s = pe.slot_of_rank(c.rank);
      if (s < 0) continue;
      // No wider than what the DRAM loops leave of the rank.
      const auto left = static_cast<int64_t>(
          std::ceil(static_cast<double>(pe.variables[s].extent) / done[s] - 1e-9));
      const int64_t f = std::min<int64_t>(c.factor, left);
      if (f <= 1) continue;
      out.push_back({c.rank, f, {}});
      done[s] *= static_cast<double>(f);
    }
  };
  add_spatial(cols, em.spatial_cols);
  add_spatial(rows, em.spatial_rows);
  std::vector<int> order = {0, 1};
  for (const std::string& r : first) {
    const int s = pe.slot_of_rank(r);
    if (s >= 0 && std::find(order.begin(), order.end(), s) == order.end()) order.push_back(s);
  }
  for (int pass = 0; pass < 2; ++pass)
    for (size_t s = 2; s < pe.variables.size(); ++s)
      if (pe.variables[s].reduced == (pass == 1) &&
          std::find(order.begin(), order.end(), static_cast<int>(s)) == order.end())
        order.push_back(static_cast<int>(s));
  for (int s : order) {
    const auto remaining = static_cast<int64_t>(
        std::ceil(static_cast<double>(pe.variables[s].extent) / done[s] - 1e-9));
    if (remaining > 1) em.buffer_loops.push_back({pe.variables[s].rank, remaining, {}});
  }
  return em;
}

// The largest output (or, with `reduced`, reduced) rank of an Einsum other than `skip`;
// `tiled` split into `tiles` at the DRAM level counts with its extent per tile.
std::string largest_rank(const ProblemEinsum& pe, bool reduced,
                         const std::vector<std::string>& skip, const std::string& tiled = "",
                         int64_t tiles = 1) {
  std::string best;
  int64_t extent = 0;
  for (size_t s = 2; s < pe.variables.size(); ++s) {
    const ProblemVariable& v = pe.variables[s];
    if (v.reduced != reduced || v.iterative || contains(skip, v.rank)) continue;
    const int64_t e = v.rank == tiled ? ceil_div(v.extent, tiles) : v.extent;
    if (e > extent) {
      extent = e;
      best = v.rank;
    }
  }
  return best;
}

bool buffer_fits(const Problem& problem, const ArchSpec& arch, const Mapping& mapping,
                 double* needed = nullptr) {
  const ResolvedMapping rm = resolve_impl(problem, arch, mapping, false);
  const double capacity = arch.global_buffer() ? arch.global_buffer()->capacity_bytes : 0;
  bool fits = true;
  double most = 0;
  for (size_t g = 0; g < rm.groups.size(); ++g) {
    const GroupBuffer usage = group_buffer_usage(problem, rm, static_cast<int>(g));
    most = std::max(most, usage.needed_bytes);
    if (usage.needed_bytes > capacity) fits = false;
  }
  if (needed) *needed = most;
  return fits;
}

void place(Mapping& m, const Problem& problem, const std::string& tensor, TensorHome home,
           bool staged, bool spill) {
  (void)problem;
  for (TensorPlacement& p : m.tensors)
    if (p.tensor == tensor) {
      p.home = home;
      p.staged = staged;
      p.spill = spill;
      return;
    }
  TensorPlacement p;
  p.tensor = tensor;
  p.home = home;
  p.staged = staged;
  p.spill = spill;
  m.tensors.push_back(p);
}

std::vector<Loop> batch_head_loops(const Problem& problem) {
  return {{kBatchRank, problem.batch, {}}, {kHeadRank, problem.heads, {}}};
}

std::string gb_name(const ArchSpec& arch) {
  return arch.global_buffer() ? arch.global_buffer()->name : std::string("global buffer");
}

double gb_capacity(const ArchSpec& arch) {
  return arch.global_buffer() ? arch.global_buffer()->capacity_bytes : 0;
}

// Whether `array`'s PEs can run every operation of an Einsum.
bool supports_all(const PeArray& array, const ProblemEinsum& pe) {
  for (const auto& [op, rate] : pe.ops_per_point)
    if (rate > 0 && lower_operation(array, op).empty()) return false;
  return true;
}

// The array for an Einsum off the 2D array: the 1D array, or another array (not the 2D
// one) whose PEs run what the 1D array's cannot (a GPU's FP32 lanes next to its
// special-function units). The 1D array when none can: resolving then names the operation.
const PeArray& row_unit(const ArchSpec& arch, const PeArray& a2, const PeArray& a1,
                        const ProblemEinsum& pe) {
  if (supports_all(a1, pe)) return a1;
  for (const PeArray& other : arch.arrays)
    if (&other != &a2 && &other != &a1 && supports_all(other, pe)) return other;
  return a1;
}

// ---- fusemax

const Partition& key_partition(const Cascade& cascade) {
  if (const Partition* p = cascade.find_partition_of("M"))
    if (p->parts.size() == 2) {
      const PassReport passes = analyze_passes(cascade);
      const RankPasses* m = passes.find("M");
      if (m && m->passes > 1)
        throw Error("the fusemax mapper pipelines one pass over the key tiles M1, and cascade " +
                    cascade.name + " makes " + std::to_string(m->passes) +
                    " passes over M (use a 1-pass cascade such as softmax-1pass, or --mapper "
                    "flat, unfused or generic)");
      return *p;
    }
  throw Error(
      "the fusemax mapper needs a 1-pass cascade that partitions the key rank M into "
      "[M1, M0] (such as softmax-1pass); cascade " +
      cascade.name + " does not (use --mapper flat, unfused or generic)");
}

std::vector<Mapping> fusemax_mappings(const Problem& problem, const ArchSpec& arch) {
  const Partition& part = key_partition(problem.cascade);
  require_query_rank(problem, "fusemax");
  const std::string m1 = part.parts[0], m0 = part.parts[1];
  const PeArray& a2 = array_2d(arch, "fusemax");
  const PeArray& a1 = array_1d(arch, "fusemax");
  const int64_t P = problem.bindings.shape("P");
  const int64_t p0 = std::min<int64_t>(a2.cols, P);
  const int64_t tiles = ceil_div(P, p0);
  std::vector<int64_t> divisors;
  for (int64_t d = tiles; d >= 1; --d)
    if (tiles % d == 0) divisors.push_back(d);

  double smallest_need = 0;
  for (int64_t p1 : divisors) {
    Mapping m;
    m.mapper = "fusemax";
    m.name = fmt::format("fusemax P1={}", p1);
    m.description = "FuseMax (Nayak et al., MICRO'24): the 1-pass cascade pipelined over M1 tiles";
    m.shapes[m0] = std::to_string(problem.bindings.shape(m0));
    m.schedule = GroupSchedule::Sequential;
    MappingGroup g;
    g.name = "attention";
    g.dram_loops = batch_head_loops(problem);
    if (tiles / p1 > 1) g.dram_loops.push_back({"P", tiles / p1, {}});
    g.dram_loops.push_back({m1, problem.bindings.shape(m1), {}});
    std::vector<std::string> moved_to_1d;
    for (const ProblemEinsum& pe : problem.einsums) {
      // The M0 x P tile on the 2D array, unless its PEs cannot run the Einsum (FLAT's 2D
      // array has no max or exp: the cascade then runs as the artifact's "+Cascade" step).
      const bool tile = pe.slot_of_rank(m0) >= 0;
      const bool on_2d = tile && supports_all(a2, pe);
      if (tile && !on_2d) moved_to_1d.push_back(pe.name);
      if (on_2d)
        g.einsums.push_back(
            build_einsum(problem, pe, a2.name, g.dram_loops, {{"P", p0}}, {{m0, a2.rows}}, {"P"}));
      else {
        const PeArray& unit = row_unit(arch, a2, a1, pe);
        g.einsums.push_back(build_einsum(problem, pe, unit.name, g.dram_loops,
                                         {{"P", std::min<int64_t>(p0, unit.cols)}}, {}, {"P"}));
      }
    }
    m.groups.push_back(g);
    for (const ProblemTensor& t : problem.tensors) {
      if (t.input)
        place(m, problem, t.name, TensorHome::Dram, true, false);
      else if (t.output)
        place(m, problem, t.name, TensorHome::Dram, false, false);
      else if (t.iterative_dimension >= 0)
        place(m, problem, t.name, TensorHome::GlobalBuffer, true, false);
      else
        place(m, problem, t.name, TensorHome::RegisterFile, true, false);
    }
    double need = 0;
    if (buffer_fits(problem, arch, m, &need)) {
      m.notes.push_back(fmt::format("Einsums over the {} x P tile on {}, the running state on {}",
                                    m0, a2.name, a1.name));
      if (!moved_to_1d.empty())
        m.notes.push_back(fmt::format("{} on {} instead: {}'s PEs cannot run them",
                                      join(moved_to_1d), a1.name, a2.name));
      m.notes.push_back(fmt::format(
          "spatial P0 = {} (cols) x {} = {} (rows); DRAM loops batch, "
          "head, P2 = {}, {} = {}; pipelined over the {} tiles",
          p0, m0, problem.bindings.shape(m0), tiles / p1, m1, problem.bindings.shape(m1), m1));
      m.notes.push_back(fmt::format(
          "P1 = {}: the largest divisor of P / P0 = {} whose tiles fit the {} ({} of {})", p1,
          tiles, gb_name(arch), format_bytes(need), format_bytes(gb_capacity(arch))));
      m.notes.push_back(
          "Q, K, V staged through the global buffer; RM, RD, RNV in the global "
          "buffer; the other intermediates in the arrays' register files");
      return {m};
    }
    smallest_need = need;
  }
  throw Error(fmt::format("fusemax mapper: even P1 = 1 needs {} of global buffer, and {} has {}",
                          format_bytes(smallest_need), gb_name(arch),
                          format_bytes(gb_capacity(arch))));
}

// ---- flat, unfused

std::vector<std::vector<int>> kernels(const Problem& problem) {
  // Each contraction alone; each run of other Einsums (evaluation order) together.
  std::vector<std::vector<int>> out;
  for (int e : problem.order) {
    const bool c = problem.einsums[e].contraction;
    if (c || out.empty() || problem.einsums[out.back().front()].contraction)
      out.push_back({e});
    else
      out.back().push_back(e);
  }
  return out;
}

std::string kernel_name(const Problem& problem, const std::vector<int>& k) {
  std::string name;
  for (int e : k) name += (name.empty() ? "" : "-") + problem.einsums[e].name;
  return name;
}

// FLAT's 2D dataflows. Output stationary: P across the columns, the other output rank across
// the rows, the reduction streamed innermost. Weight stationary: the operand without P
// stays in the array (its output rank across the columns, the reduction across the rows)
// while the queries stream.
EinsumMapping contraction_nest(const Problem& problem, const ProblemEinsum& pe, const PeArray& a2,
                               const std::vector<Loop>& dram, int64_t p0, bool weight_stationary) {
  if (!weight_stationary) {
    const std::string other = largest_rank(pe, false, {"P"});
    return build_einsum(problem, pe, a2.name, dram, {{"P", p0}}, {{other, a2.rows}}, {"P", other});
  }
  const std::string out = largest_rank(pe, false, {"P"});
  const std::string red = largest_rank(pe, true, {});
  return build_einsum(problem, pe, a2.name, dram, {{out, a2.cols}}, {{red, a2.rows}},
                      {out, red, "P"});
}

EinsumMapping row_nest(const Problem& problem, const ProblemEinsum& pe, const PeArray& a1,
                       const std::vector<Loop>& dram) {
  std::string wide = largest_rank(pe, false, {"P"});
  const std::string red = largest_rank(pe, true, {});
  if (wide.empty() || (!red.empty() && pe.variables[pe.slot_of_rank(red)].extent >
                                           pe.variables[pe.slot_of_rank(wide)].extent))
    wide = red;
  if (wide.empty()) wide = "P";
  return build_einsum(problem, pe, a1.name, dram, {{wide, a1.cols}}, {}, {"P", wide});
}

// FLAT with intermediates in DRAM (weight stationary kernels), as the FuseMax artifact's
// configuration for 256K and longer (data/pregenerated/flat_validation.csv): the stationary
// operand (K, V) streams from DRAM; the queries' operand is staged when a query's row of it
// is no longer than the array is tall (Q: E values), else streamed (A: M values); an
// intermediate a contraction writes streams out; a row kernel stages the rows it reads
// and streams out what it writes for a later kernel; a cascade output stays staged (its
// partial sums accumulate on chip).
void set_materialized_bypass(Mapping& m, const Problem& problem, const PeArray& a2) {
  for (MappingGroup& g : m.groups)
    for (EinsumMapping& em : g.einsums) {
      const ProblemEinsum& pe = problem.einsums[problem.find_einsum(em.einsum)];
      em.bypass.clear();
      const int ps = pe.slot_of_rank("P");
      for (const ProblemAccess& a : pe.accesses) {
        const ProblemTensor& t = problem.tensors[a.tensor];
        const TensorPlacement* p = m.find_tensor(t.name);
        if (!p || p->home != TensorHome::Dram) continue;
        bool stream = false;
        if (!pe.contraction) {
          stream = a.write;
        } else if (a.write) {
          stream = !t.output;
        } else if (ps < 0 || !((a.variables >> ps) & 1)) {
          stream = true;  // K, V
        } else {
          double row = 1;
          for (size_t s = 2; s < pe.variables.size(); ++s)
            if (static_cast<int>(s) != ps && ((a.variables >> s) & 1))
              row *= static_cast<double>(pe.variables[s].extent);
          stream = row > static_cast<double>(a2.rows);
        }
        if (stream) em.bypass.push_back(t.name);
      }
    }
}

std::vector<Mapping> flat_mappings(const Problem& problem, const ArchSpec& arch) {
  require_query_rank(problem, "flat");
  const PeArray& a2 = array_2d(arch, "flat");
  const PeArray& a1 = array_1d(arch, "flat");
  const int64_t P = problem.bindings.shape("P");
  const int64_t p0 = std::min<int64_t>(a2.cols, P);
  std::vector<Mapping> out;

  // (a) Fused over row blocks of P1 queries, intermediates in the global buffer.
  std::vector<int64_t> blocks;
  for (int64_t p1 = p0; p1 < P; p1 *= 2) blocks.push_back(p1);
  blocks.push_back(P);
  for (int64_t p1 : blocks) {
    Mapping m;
    m.mapper = "flat";
    m.name = fmt::format("flat fused P1={}", p1);
    m.description = "FLAT: QK, softmax and AV fused over row blocks, intermediates on chip";
    m.schedule = GroupSchedule::Sequential;
    MappingGroup g;
    g.name = "attention";
    g.dram_loops = batch_head_loops(problem);
    if (ceil_div(P, p1) > 1) g.dram_loops.push_back({"P", ceil_div(P, p1), {}});
    for (int e : problem.order) {
      const ProblemEinsum& pe = problem.einsums[e];
      g.einsums.push_back(pe.contraction
                              ? contraction_nest(problem, pe, a2, g.dram_loops, p0, false)
                              : row_nest(problem, pe, a1, g.dram_loops));
    }
    m.groups.push_back(g);
    for (const ProblemTensor& t : problem.tensors) {
      if (t.input || t.output)
        place(m, problem, t.name, TensorHome::Dram, false, false);
      else
        place(m, problem, t.name, TensorHome::GlobalBuffer, true, true);
    }
    m.notes.push_back(
        fmt::format("fused: every Einsum in one group over batch, head and row "
                    "blocks of P1 = {} queries; contractions on {} (output "
                    "stationary), the rest on {}",
                    p1, a2.name, a1.name));
    m.notes.push_back(
        "Q, K, V streamed from DRAM (Q_loc = K_loc = V_loc = offchip, as the FuseMax "
        "artifact's data/pregenerated/flat_validation.csv); intermediates in the "
        "global buffer, the part that does not fit spills to DRAM");
    out.push_back(m);
  }

  // (b) Intermediates materialised in DRAM; QK, softmax and AV kernels overlapped.
  {
    Mapping m;
    m.mapper = "flat";
    m.name = "flat materialized";
    m.description = "FLAT with the intermediates in DRAM: kernels overlapped across heads";
    m.schedule = GroupSchedule::Overlapped;
    for (const std::vector<int>& k : kernels(problem)) {
      MappingGroup g;
      g.name = kernel_name(problem, k);
      g.dram_loops = batch_head_loops(problem);
      const bool contraction = problem.einsums[k.front()].contraction;
      if (!contraction) g.dram_loops.push_back({"P", P, {}});
      for (int e : k) {
        const ProblemEinsum& pe = problem.einsums[e];
        g.einsums.push_back(contraction ? contraction_nest(problem, pe, a2, g.dram_loops, p0, true)
                                        : row_nest(problem, pe, a1, g.dram_loops));
      }
      m.groups.push_back(g);
    }
    std::vector<int> group_of_einsum(problem.einsums.size(), 0);
    for (size_t g = 0; g < m.groups.size(); ++g)
      for (const EinsumMapping& em : m.groups[g].einsums)
        group_of_einsum[problem.find_einsum(em.einsum)] = static_cast<int>(g);
    for (const ProblemTensor& t : problem.tensors) {
      bool crosses = t.input || t.output;
      for (int c : t.consumers)
        if (t.producer >= 0 && group_of_einsum[c] != group_of_einsum[t.producer]) crosses = true;
      if (crosses)
        place(m, problem, t.name, TensorHome::Dram, true, false);
      else
        place(m, problem, t.name, TensorHome::GlobalBuffer, true, true);
    }
    set_materialized_bypass(m, problem, a2);
    m.notes.push_back("materialized: each contraction a kernel on " + a2.name +
                      " (weight stationary), each run of other Einsums a row-by-row kernel on " +
                      a1.name + "; kernels overlapped across batch and heads");
    m.notes.push_back(
        "intermediates between kernels in DRAM (as the FuseMax artifact's FLAT "
        "configuration for 256K and longer sequences)");
    // Row blocks of the queries held in the global buffer: as large as fits.
    int64_t p1 = P;
    while (true) {
      Mapping trial = m;
      for (MappingGroup& g : trial.groups) {
        if (!problem.einsums[problem.find_einsum(g.einsums.front().einsum)].contraction) continue;
        g.dram_loops = batch_head_loops(problem);
        if (ceil_div(P, p1) > 1) g.dram_loops.push_back({"P", ceil_div(P, p1), {}});
        for (EinsumMapping& em : g.einsums)
          em = contraction_nest(problem, problem.einsums[problem.find_einsum(em.einsum)], a2,
                                g.dram_loops, p0, true);
      }
      set_materialized_bypass(trial, problem, a2);
      if (buffer_fits(problem, arch, trial) || p1 <= p0) {
        trial.notes.push_back(
            fmt::format("contraction kernels over row blocks of P1 = {} queries", p1));
        out.push_back(trial);
        break;
      }
      p1 = std::max(p0, p1 / 2);
    }
  }
  return out;
}

std::vector<Mapping> unfused_mappings(const Problem& problem, const ArchSpec& arch) {
  require_query_rank(problem, "unfused");
  const PeArray& a2 = array_2d(arch, "unfused");
  const PeArray& a1 = array_1d(arch, "unfused");
  const int64_t P = problem.bindings.shape("P");
  const int64_t p0 = std::min<int64_t>(a2.cols, P);
  Mapping m;
  m.mapper = "unfused";
  m.name = "unfused";
  m.description = "Unfused: one kernel per contraction, one per run of other Einsums, in sequence";
  m.schedule = GroupSchedule::Sequential;
  const std::vector<std::vector<int>> ks = kernels(problem);
  std::vector<int> group_of_einsum(problem.einsums.size(), 0);
  for (size_t k = 0; k < ks.size(); ++k)
    for (int e : ks[k]) group_of_einsum[e] = static_cast<int>(k);
  for (const ProblemTensor& t : problem.tensors) {
    bool crosses = t.input || t.output;
    for (int c : t.consumers)
      if (t.producer >= 0 && group_of_einsum[c] != group_of_einsum[t.producer]) crosses = true;
    if (!crosses)
      place(m, problem, t.name, TensorHome::GlobalBuffer, true, false);
    else
      place(m, problem, t.name, TensorHome::Dram, true, false);
  }
  auto streamed_writes = [&](EinsumMapping& em) {
    const ProblemEinsum& pe = problem.einsums[problem.find_einsum(em.einsum)];
    const ProblemTensor& t = problem.tensors[pe.accesses.back().tensor];
    if (m.find_tensor(t.name)->home == TensorHome::Dram) em.bypass.push_back(t.name);
  };
  for (size_t k = 0; k < ks.size(); ++k) {
    MappingGroup g;
    g.name = kernel_name(problem, ks[k]);
    const ProblemEinsum& first = problem.einsums[ks[k].front()];
    if (!first.contraction) {
      g.dram_loops = batch_head_loops(problem);
      g.dram_loops.push_back({"P", P, {}});
      // What the row kernel writes for a later kernel streams out.
      for (int e : ks[k]) {
        g.einsums.push_back(row_nest(problem, problem.einsums[e], a1, g.dram_loops));
        streamed_writes(g.einsums.back());
      }
      m.groups.push_back(g);
      continue;
    }
    // A contraction: P across the columns, the widest other rank across the rows; the
    // operand and output tiles without both ranks staged in the global buffer, the one with
    // both (QK, A) streamed; blocks of P and of the row rank as large as fit.
    const ProblemEinsum& pe = first;
    std::string rows = largest_rank(pe, false, {"P"});
    const std::string red = largest_rank(pe, true, {});
    if (rows.empty() || (!red.empty() && pe.variables[pe.slot_of_rank(red)].extent >
                                             pe.variables[pe.slot_of_rank(rows)].extent))
      rows = red;
    const int ps = pe.slot_of_rank("P"), rs = pe.slot_of_rank(rows);
    std::vector<std::string> stream;
    for (const ProblemAccess& a : pe.accesses) {
      const bool both =
          ps >= 0 && rs >= 0 && ((a.variables >> ps) & 1) && ((a.variables >> rs) & 1);
      const ProblemTensor& t = problem.tensors[a.tensor];
      if (both && m.find_tensor(t.name)->home == TensorHome::Dram) stream.push_back(t.name);
    }
    const int64_t row_extent = rs >= 0 ? pe.variables[rs].extent : 1;
    const int64_t r0 = std::min<int64_t>(a2.rows, row_extent);
    int64_t p1 = P, rb = row_extent;
    for (int attempt = 0; attempt < 64; ++attempt) {
      g.dram_loops = batch_head_loops(problem);
      if (ceil_div(P, p1) > 1) g.dram_loops.push_back({"P", ceil_div(P, p1), {}});
      if (rs >= 0 && ceil_div(row_extent, rb) > 1)
        g.dram_loops.push_back({rows, ceil_div(row_extent, rb), {}});
      g.einsums = {build_einsum(problem, pe, a2.name, g.dram_loops, {{"P", p0}}, {{rows, a2.rows}},
                                {"P", rows})};
      g.einsums.front().bypass = stream;
      Mapping trial = m;
      trial.groups.push_back(g);
      for (size_t later = k + 1; later < ks.size(); ++later) {
        // Resolving needs every Einsum mapped: kernels not sized yet get a plain row-by-row
        // nest. Only kernel k's buffer usage is read from this trial.
        MappingGroup pending;
        pending.name = "later" + std::to_string(later);
        pending.dram_loops = batch_head_loops(problem);
        for (int e : ks[later]) {
          pending.einsums.push_back(row_nest(problem, problem.einsums[e], a1, pending.dram_loops));
          pending.einsums.back().unit = problem.einsums[e].contraction ? a2.name : a1.name;
        }
        trial.groups.push_back(pending);
      }
      const ResolvedMapping rm = resolve_impl(problem, arch, trial, false);
      const GroupBuffer usage = group_buffer_usage(problem, rm, static_cast<int>(k));
      if (usage.needed_bytes <= gb_capacity(arch) || (p1 <= p0 && rb <= r0)) break;
      if ((p1 >= rb && p1 > p0) || rb <= r0)
        p1 = std::max(p0, p1 / 2);
      else
        rb = std::max(r0, rb / 2);
    }
    m.groups.push_back(g);
  }
  m.notes.push_back("kernels in sequence: each contraction on " + a2.name +
                    " (P across the "
                    "columns, the widest other rank across the rows), each run of other "
                    "Einsums row by row on " +
                    a1.name);
  m.notes.push_back(
      "every tensor between kernels goes through DRAM; operand blocks staged in "
      "the global buffer, as large as fit");
  return {m};
}

// ---- generic

// RowsOn1d: everything but the contractions on the 1D array. TilesOn2d: FuseMax's binding,
// the tile-shaped Einsums the 2D PEs support on the 2D array too.
enum class GenericBinding { RowsOn1d, TilesOn2d };

// Whether the FuseMax-style binding puts a non-contraction Einsum on the 2D array: it
// iterates over two ranks of more than one point (a tile, not a row: exp(BQK - RM) over
// m0 x p0) and the 2D PEs support all its operations.
bool tile_shaped_on_2d(const ProblemEinsum& pe, const PeArray& a2) {
  int wide = 0;
  for (size_t s = 2; s < pe.variables.size(); ++s)
    if (!pe.variables[s].iterative && pe.variables[s].extent > 1) ++wide;
  return wide >= 2 && supports_all(a2, pe);
}

// The Einsums a DRAM loop over `tiled` would not repeat and that need nothing it repeats:
// with the loop they would run once after the last tile, holding their whole inputs
// (linear attention's PHIK, KV, Z, which do not iterate over the queries P).
std::vector<int> untiled_prologue(const Problem& problem, const std::string& tiled) {
  std::vector<bool> in(problem.einsums.size(), false);
  std::vector<int> out;
  for (int e : problem.order) {
    const ProblemEinsum& pe = problem.einsums[e];
    if (dram_loop_slot(problem, pe, tiled) >= 0) continue;
    bool inputs_ready = true;
    for (const ProblemAccess& a : pe.accesses) {
      if (a.write) continue;
      const int producer = problem.tensors[a.tensor].producer;
      if (producer >= 0 && producer != e && !in[producer]) inputs_ready = false;
    }
    if (!inputs_ready) continue;
    in[e] = true;
    out.push_back(e);
  }
  return out;
}

Mapping generic_mapping(const Problem& problem, const ArchSpec& arch, const std::string& tiled,
                        int64_t tiles, GenericBinding binding, bool split) {
  const PeArray& a2 = array_2d(arch, "generic");
  const PeArray& a1 = array_1d(arch, "generic");
  const bool tiles_on_2d = binding == GenericBinding::TilesOn2d;
  Mapping m;
  m.mapper = "generic";
  m.name = std::string("generic") + (tiles_on_2d ? " tiles-2d" : "") + (split ? " split" : "") +
           (tiles > 1 ? fmt::format(" {}={}", tiled, tiles) : "");
  m.description = tiles_on_2d ? "Contractions and tile-shaped Einsums the 2D PEs support on the "
                                "2D array, row-shaped ones on the 1D array"
                              : "Contractions on the 2D array, everything else on the 1D array";
  m.schedule = GroupSchedule::Sequential;
  // One Einsum's nest: spatial ranks by their extent in one DRAM tile of `loops`.
  auto nest = [&](const ProblemEinsum& pe, const std::vector<Loop>& loops, const std::string& cut,
                  int64_t cuts) {
    auto tile_extent = [&](const std::string& rank) {
      const int64_t e = pe.variables[pe.slot_of_rank(rank)].extent;
      return rank == cut ? ceil_div(e, cuts) : e;
    };
    // Ranks narrower than the array share it with the next widest ones (lightning's
    // QK[t, b, j] with blocks of 64: t and part of b across the 256 columns).
    auto fill = [&](std::vector<SpatialChoice>& choices, int64_t dim, bool reduced_too,
                    std::vector<std::string>& used) {
      int64_t left = dim;
      for (const SpatialChoice& c : choices)
        if (!c.rank.empty()) left /= std::max<int64_t>(1, std::min(c.factor, tile_extent(c.rank)));
      for (int pass = 0; pass < (reduced_too ? 2 : 1) && left > 1; ++pass)
        while (left > 1) {
          const std::string next = largest_rank(pe, pass == 1, used, cut, cuts);
          if (next.empty() || tile_extent(next) <= 1) break;
          const int64_t f = std::min(left, tile_extent(next));
          choices.push_back({next, f});
          used.push_back(next);
          left /= f;
        }
    };
    const std::string first = largest_rank(pe, false, {}, cut, cuts);
    if ((pe.contraction && supports_all(a2, pe)) || (tiles_on_2d && tile_shaped_on_2d(pe, a2))) {
      // Rows: the second output rank, or the reduced rank where that is wider (linear
      // attention's KV[e, f] = sum over m: m across the rows, reduced spatially).
      std::string second = largest_rank(pe, false, {first}, cut, cuts);
      const std::string reduced = largest_rank(pe, true, {}, cut, cuts);
      if (second.empty() || (!reduced.empty() && tile_extent(reduced) > tile_extent(second)))
        second = reduced;
      std::vector<std::string> used = {first, second};
      std::vector<SpatialChoice> cols = {{first, a2.cols}}, rows = {{second, a2.rows}};
      fill(cols, a2.cols, false, used);  // more output ranks where the first is narrow
      fill(rows, a2.rows, true, used);   // then output or reduced ranks down the rows
      return build_einsum(problem, pe, a2.name, loops, cols, rows, {first, second});
    }
    const std::string wide = first.empty() ? largest_rank(pe, true, {}, cut, cuts) : first;
    const PeArray* unit = &row_unit(arch, a2, a1, pe);
    std::vector<std::string> used = {wide};
    std::vector<SpatialChoice> cols = {{wide, unit->cols}};
    fill(cols, unit->cols, false, used);
    return build_einsum(problem, pe, unit->name, loops, cols, {}, {wide});
  };
  // With `split`, the Einsums the tiling would not repeat run first, in a group of their
  // own tiled over their widest reduced rank (as finely as their tiles need to fit); what
  // they hand to the main group goes through DRAM.
  std::vector<int> prologue = split ? untiled_prologue(problem, tiled) : std::vector<int>{};
  if (split && (prologue.empty() || prologue.size() == problem.einsums.size() || tiles <= 1))
    throw Error("generic mapping: nothing to split off ahead of the " + tiled + " tiles");
  std::vector<bool> in_prologue(problem.einsums.size(), false);
  for (int e : prologue) in_prologue[static_cast<size_t>(e)] = true;
  std::string cut;  // the prologue's tiled rank
  int64_t cut_extent = 1;
  for (int e : prologue)
    for (size_t v = 2; v < problem.einsums[e].variables.size(); ++v) {
      const ProblemVariable& var = problem.einsums[e].variables[v];
      if (var.reduced && !var.iterative && var.extent > cut_extent) {
        cut = var.rank;
        cut_extent = var.extent;
      }
    }
  for (const ProblemTensor& t : problem.tensors) {
    if (t.input || t.output) {
      place(m, problem, t.name, TensorHome::Dram, true, false);
      continue;
    }
    bool crosses = false;
    if (t.producer >= 0 && in_prologue[static_cast<size_t>(t.producer)])
      for (int c : t.consumers) crosses = crosses || !in_prologue[static_cast<size_t>(c)];
    place(m, problem, t.name, crosses ? TensorHome::Dram : TensorHome::GlobalBuffer, true, false);
  }
  if (!prologue.empty()) {
    for (int64_t cuts = 1;; cuts = std::min(cut_extent, cuts * 2)) {
      MappingGroup pre;
      pre.name = "prologue";
      pre.dram_loops = batch_head_loops(problem);
      if (cuts > 1) pre.dram_loops.push_back({cut, cuts, {}});
      for (int e : prologue)
        pre.einsums.push_back(nest(problem.einsums[e], pre.dram_loops, cut, cuts));
      Mapping trial = m;
      trial.groups = {pre};
      MappingGroup rest;  // a plain stand-in so that the trial resolves
      rest.name = "cascade";
      rest.dram_loops = batch_head_loops(problem);
      for (int e : problem.order)
        if (!in_prologue[static_cast<size_t>(e)])
          rest.einsums.push_back(nest(problem.einsums[e], rest.dram_loops, "", 1));
      trial.groups.push_back(rest);
      const ResolvedMapping rm = resolve_impl(problem, arch, trial, false);
      if (group_buffer_usage(problem, rm, 0).needed_bytes <= gb_capacity(arch) ||
          cuts >= cut_extent) {
        m.groups.push_back(pre);
        break;
      }
    }
  }
  MappingGroup g;
  g.name = "cascade";
  g.dram_loops = batch_head_loops(problem);
  if (tiles > 1) g.dram_loops.push_back({tiled, tiles, {}});
  for (int e : problem.order)
    if (!in_prologue[static_cast<size_t>(e)])
      g.einsums.push_back(nest(problem.einsums[e], g.dram_loops, tiled, tiles));
  m.groups.push_back(g);
  const int main_group = static_cast<int>(m.groups.size()) - 1;
  // Everything else on chip (inputs and outputs staged through the buffer). While the main
  // group's tiles do not fit, one tile leaves per round: the one that frees enough space for
  // the least added DRAM traffic (or, if none frees enough, the most space per added byte);
  // an input or output then streams, an intermediate moves to DRAM.
  std::vector<std::string> moved;
  auto dram_words = [&](const Mapping& trial) {
    const ResolvedMapping rm = resolve_impl(problem, arch, trial, false);
    const DataMovement dm = analyze_data_movement(problem, arch, rm);
    return dm.dram_reads + dm.dram_writes;
  };
  for (size_t round = 0; round < problem.tensors.size(); ++round) {
    const ResolvedMapping rm = resolve_impl(problem, arch, m, false);
    const GroupBuffer usage = group_buffer_usage(problem, rm, main_group);
    const double excess = usage.needed_bytes - gb_capacity(arch);
    if (excess <= 0) break;
    const double base = dram_words(m);
    std::string best;
    double best_added = 0, best_ratio = 0;
    bool best_frees = false;
    for (const BufferTile& tile : usage.tiles) {
      if (tile.bytes <= 0) continue;
      Mapping trial = m;
      place(trial, problem, problem.tensors[tile.tensor].name, TensorHome::Dram, false, false);
      const double added = std::max(0.0, dram_words(trial) - base);
      const bool frees = tile.bytes >= excess;
      const double ratio = tile.bytes / (added + 1);
      const bool better = best.empty() || (frees && !best_frees) ||
                          (frees && best_frees && added < best_added) ||
                          (!frees && !best_frees && ratio > best_ratio);
      if (better) {
        best = problem.tensors[tile.tensor].name;
        best_added = added;
        best_ratio = ratio;
        best_frees = frees;
      }
    }
    if (best.empty()) break;
    place(m, problem, best, TensorHome::Dram, false, false);
    moved.push_back(best);
  }
  m.notes.push_back(
      std::string(prologue.empty() ? "one group, pipelined" : "two groups in turn, pipelined") +
      "; contractions" +
      std::string(tiles_on_2d ? " and the tile-shaped Einsums its PEs support" : "") + " on " +
      a2.name + " (the two largest ranks across columns and rows), " +
      (tiles_on_2d ? "the other Einsums" : "elementwise Einsums and reductions") + " on " +
      a1.name + " (the largest rank across it)");
  if (!prologue.empty()) {
    std::vector<std::string> names, handed;
    for (int e : prologue) names.push_back(problem.einsums[e].name);
    for (const TensorPlacement& t : m.tensors) {
      const ProblemTensor& pt = problem.tensors[problem.find_tensor(t.tensor)];
      if (!pt.input && !pt.output && t.home == TensorHome::Dram && pt.producer >= 0 &&
          in_prologue[static_cast<size_t>(pt.producer)])
        handed.push_back(t.tensor);
    }
    const MappingGroup& pre = m.groups.front();
    m.notes.push_back("first " + join(names) + " (they do not iterate over " + tiled + ")" +
                      (pre.dram_loops.size() > 2
                           ? fmt::format(", DRAM loops batch, head, {} in {} tiles",
                                         pre.dram_loops.back().rank, pre.dram_loops.back().factor)
                           : std::string(", DRAM loops batch, head")) +
                      "; " + join(handed) + " handed on through DRAM");
  }
  m.notes.push_back(tiles > 1
                        ? fmt::format("DRAM loops batch, head, {} in {} tiles (the fastest of "
                                      "the tilings tried)",
                                      tiled, tiles)
                        : std::string("DRAM loops batch, head"));
  m.notes.push_back(moved.empty()
                        ? "inputs and outputs staged through the global buffer, intermediates in it"
                        : "inputs and outputs staged through the global buffer, intermediates in "
                          "it, except (too large, streamed from/to DRAM): " +
                              join(moved));
  return m;
}

// Candidates: no tiling, and each rank that no Einsum reduces (the queries P, a block rank
// T; reducing over a tiled rank inside one group would need another pass) split into 2, 4,
// 8, ... tiles at the DRAM level. The caller keeps the fastest.
std::vector<Mapping> generic_mappings(const Problem& problem, const ArchSpec& arch) {
  const std::vector<GenericBinding> bindings = {GenericBinding::RowsOn1d,
                                                GenericBinding::TilesOn2d};
  std::vector<Mapping> out;
  for (GenericBinding b : bindings) out.push_back(generic_mapping(problem, arch, "", 1, b, false));
  std::map<std::string, int> uses;
  std::set<std::string> reduced;
  for (const ProblemEinsum& pe : problem.einsums)
    for (size_t s = 2; s < pe.variables.size(); ++s) {
      ++uses[pe.variables[s].rank];
      if (pe.variables[s].reduced) reduced.insert(pe.variables[s].rank);
    }
  std::vector<std::pair<int, std::string>> ranks;
  for (const auto& [rank, n] : uses)
    if (n >= 2 && !reduced.count(rank) && problem.bindings.shape(rank) > 1)
      ranks.emplace_back(n, rank);
  std::sort(ranks.rbegin(), ranks.rend());
  if (ranks.size() > 3) ranks.resize(3);
  for (const auto& [n, rank] : ranks) {
    const int64_t extent = problem.bindings.shape(rank);
    for (int64_t tiles = 2; tiles < extent * 2; tiles *= 2) {
      const int64_t t = std::min(tiles, extent);
      bool mapped = false;
      for (GenericBinding b : bindings) {
        try {
          out.push_back(generic_mapping(problem, arch, rank, t, b, false));
          mapped = true;
        } catch (const Error&) {
          // tiles smaller than an Einsum's spatial extent: finer splits fail too
        }
      }
      if (!mapped) break;
      if (!untiled_prologue(problem, rank).empty()) try {
          out.push_back(generic_mapping(problem, arch, rank, t, GenericBinding::TilesOn2d, true));
        } catch (const Error&) {
          // everything or nothing would go first: no split for this rank
        }
      if (t == extent) break;
    }
  }
  return out;
}

}  // namespace

const std::vector<std::string>& mapper_names() {
  static const std::vector<std::string> names = {"fusemax", "flat", "unfused", "generic"};
  return names;
}

std::string default_mapper(const Cascade& cascade) {
  try {
    key_partition(cascade);
    return "fusemax";
  } catch (const Error&) {
    return "generic";
  }
}

std::map<std::string, std::string> mapper_shape_settings(const std::string& mapper,
                                                         const Cascade& cascade,
                                                         const ArchSpec& arch) {
  if (!contains(mapper_names(), mapper))
    throw Error("unknown mapper '" + mapper + "' (mappers: " + join(mapper_names()) +
                ", or a mapping file)");
  if (mapper != "fusemax") return {};
  const Partition& part = key_partition(cascade);
  return {{part.parts[1], std::to_string(array_2d(arch, mapper).rows)}};
}

std::vector<Mapping> generate_mappings(const std::string& mapper, const Problem& problem,
                                       const ArchSpec& arch) {
  if (mapper == "fusemax") return fusemax_mappings(problem, arch);
  if (mapper == "flat") return flat_mappings(problem, arch);
  if (mapper == "unfused") return unfused_mappings(problem, arch);
  if (mapper == "generic") return generic_mappings(problem, arch);
  throw Error("unknown mapper '" + mapper + "' (mappers: " + join(mapper_names()) +
              ", or a mapping file)");
}

}  // namespace cascade
