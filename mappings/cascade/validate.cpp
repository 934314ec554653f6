// validate(): names, ranks, shapes, indices and the dependency structure of a cascade.
// Fills Cascade::tensors and Cascade::warnings. Rules (mappings/README.md, "Validation"):
//
//   - the shapes (= ranks) of a cascade are the ranks of its inputs, the partitioned ranks
//     and their parts, and the names under `shapes`; every variable must be the lower-case
//     name of one of them, every upper-case symbol in an index expression must be one;
//   - an Einsum's output indices are `v` or `v + c` (c > 0, the iterative index, at most
//     one per Einsum, which then needs an `init`);
//   - Einsums may form a dependency cycle only through reads of an iterative tensor at
//     its iterative variable (RD[m1] read while RD[m1+1] is produced); every Einsum on
//     such a cycle iterates over that variable as an output index.
#include <algorithm>
#include <cctype>
#include <functional>
#include <set>

#include "arch/support/names.h"
#include "mappings/cascade/parser.h"
#include "mappings/cascade/parser_detail.h"

namespace cascade {

using detail::is_lower_name;
using detail::is_name_char;
using detail::is_upper_name;

namespace {

const std::vector<std::string>& storage_formats() {
  static const std::vector<std::string> formats = {"fp64", "fp32", "bf16", "fp16"};
  return formats;
}

// Words the expression grammar reserves; no parameter or function may take them.
// A cycle of the "uses" graph reachable from `roots` (visited in order), as names from the
// first repeated name back to it; empty when there is none.
std::vector<std::string> find_cycle(const std::vector<std::string>& roots,
                                    const std::map<std::string, std::set<std::string>>& uses) {
  std::map<std::string, int> state;  // 0 new, 1 on the stack, 2 done
  std::vector<std::string> stack, cycle;
  std::function<bool(const std::string&)> visit = [&](const std::string& name) {
    state[name] = 1;
    stack.push_back(name);
    if (auto it = uses.find(name); it != uses.end())
      for (const std::string& next : it->second) {
        if (state[next] == 1) {
          cycle.assign(std::find(stack.begin(), stack.end(), next), stack.end());
          cycle.push_back(next);
          return true;
        }
        if (state[next] == 0 && visit(next)) return true;
      }
    stack.pop_back();
    state[name] = 2;
    return false;
  };
  for (const std::string& root : roots)
    if (state[root] == 0 && visit(root)) break;
  return cycle;
}

bool is_reserved(const std::string& name) {
  return name == "where" || name == "and" || name == "init" || name == "inf" || name == "index";
}

bool is_binary(IndexOp op) {
  return op == IndexOp::Add || op == IndexOp::Sub || op == IndexOp::Mul || op == IndexOp::Div ||
         op == IndexOp::Mod;
}

bool is_binary(ExprOp op) {
  return op == ExprOp::Add || op == ExprOp::Sub || op == ExprOp::Mul || op == ExprOp::Div;
}

// Where an expression's text begins (binary nodes are located at their operator).
SourceLocation start_of(const IndexExpr& e) {
  if (is_binary(e.op) && !e.args.empty()) return start_of(e.args[0]);
  return e.loc;
}

SourceLocation start_of(const Expr& e) {
  if (is_binary(e.op) && !e.args.empty()) return start_of(e.args[0]);
  return e.loc;
}

// How to point at `loc` from a message about `from`: "column 11" on the same line,
// "line 8" in the same file, else the full location.
std::string position_of(const SourceLocation& loc, const SourceLocation& from) {
  if (!loc.known()) return "an unknown position";
  if (loc.file == from.file && loc.line == from.line) return "column " + std::to_string(loc.column);
  if (loc.file == from.file) return "line " + std::to_string(loc.line);
  return loc.str();
}

struct VariableUse {
  std::string name;
  SourceLocation loc;
};

void collect(const IndexExpr& e, std::vector<VariableUse>& out) {
  if (e.op == IndexOp::Variable) out.push_back({e.name, e.loc});
  for (const IndexExpr& a : e.args) collect(a, out);
}

// Every variable used anywhere in a value expression (reductions included).
void collect(const Expr& e, std::set<std::string>& out) {
  std::vector<VariableUse> uses;
  for (const IndexExpr& i : e.indices) collect(i, uses);
  for (const VariableUse& u : uses) out.insert(u.name);
  for (const Expr& a : e.args) collect(a, out);
}

// A read of a tensor by an Einsum.
struct TensorRead {
  const Expr* read;
  bool in_init;
};

void collect_reads(const Expr& e, bool in_init, std::vector<TensorRead>& out) {
  if (e.op == ExprOp::Read) out.push_back({&e, in_init});
  for (const Expr& a : e.args) collect_reads(a, in_init, out);
}

// The iterative dimension of a produced tensor: OUT[..., v + extra, ...].
struct Iterative {
  int dim = -1;
  std::string variable;
  int64_t extra = 0;
};

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

class Validator {
 public:
  Validator(Cascade& cascade, const std::map<std::string, SourceLocation>& locations)
      : c_(cascade), locations_(locations) {}

  void run() {
    c_.tensors.clear();
    c_.warnings.clear();
    if (c_.name.empty()) throw Error(location("name"), "the cascade has no name");
    check_inputs();
    check_partitions();
    check_shapes();
    check_index_functions();
    check_parameters();
    check_shape_defaults();
    check_requirements();
    check_einsum_outputs();
    check_tensor_names();
    for (size_t i = 0; i < c_.einsums.size(); ++i) check_einsum(static_cast<int>(i));
    check_cycles();
    check_outputs();
    check_formats();
    fill_tensors();
    add_warnings();
  }

 private:
  // ---- helpers ----
  SourceLocation location(const std::string& key) const {
    const auto it = locations_.find(key);
    if (it != locations_.end()) return it->second;
    return SourceLocation{c_.file, 0, 0};
  }

  void add_rank(const std::string& rank) {
    if (ranks_.insert(rank).second) rank_order_.push_back(rank);
  }

  std::string rank_list() const { return join(rank_order_, ", "); }

  bool is_rank_variable(const std::string& var) const {
    return is_lower_name(var) && ranks_.count(rank_of_variable(var)) > 0;
  }

  std::string family(const std::string& rank) const {
    const auto it = part_owner_.find(rank);
    return it == part_owner_.end() ? rank : it->second->rank;
  }

  static std::string suggestion(const std::string& name, const std::vector<std::string>& names) {
    const std::string close = closest_name(name, names);
    return close.empty() ? std::string() : " (did you mean '" + close + "'?)";
  }

  std::vector<std::string> tensor_names() const {
    std::vector<std::string> names;
    for (const TensorDecl& t : c_.inputs) names.push_back(t.name);
    for (const Einsum& e : c_.einsums) names.push_back(e.output);
    return names;
  }

  bool is_tensor(const std::string& name) const {
    return inputs_.count(name) > 0 || producer_.count(name) > 0;
  }

  // ---- declarations ----
  void check_inputs() {
    for (const TensorDecl& t : c_.inputs) {
      if (!is_upper_name(t.name))
        throw Error(t.loc, "input tensor name '" + t.name + "' must be upper-case");
      if (inputs_.count(t.name)) throw Error(t.loc, "input " + t.name + " is declared twice");
      inputs_[t.name] = &t;
      std::set<std::string> seen;
      for (const std::string& r : t.ranks) {
        if (!is_upper_name(r))
          throw Error(t.loc, "rank '" + r + "' of input " + t.name + " must be upper-case");
        if (!seen.insert(r).second)
          throw Error(t.loc, "input " + t.name + " lists rank " + r + " twice");
        input_rank_owner_.emplace(r, t.name);
        add_rank(r);
      }
    }
  }

  void check_partitions() {
    for (const Partition& p : c_.partitions) {
      if (!is_upper_name(p.rank))
        throw Error(p.loc, "partitioned rank '" + p.rank + "' must be upper-case");
      if (p.parts.size() != 2)
        throw Error(p.loc,
                    "the partition of " + p.rank + " must have exactly two parts [outer, inner]");
      if (const auto it = partitions_.find(p.rank); it != partitions_.end())
        throw Error(p.loc, "rank " + p.rank + " is partitioned twice (first at " +
                               position_of(it->second->loc, p.loc) + ")");
      partitions_[p.rank] = &p;
      if (p.parts[0] == p.parts[1])
        throw Error(p.loc, "the partition of " + p.rank + " names " + p.parts[0] + " twice");
      for (const std::string& part : p.parts) {
        if (!is_upper_name(part))
          throw Error(p.loc, "partition part '" + part + "' must be upper-case");
        if (part == p.rank)
          throw Error(p.loc, "rank " + p.rank + " cannot be a part of its own partition");
        if (const auto it = part_owner_.find(part); it != part_owner_.end())
          throw Error(p.loc, part + " is a part of the partitions of both " + it->second->rank +
                                 " and " + p.rank);
        if (const auto it = input_rank_owner_.find(part); it != input_rank_owner_.end())
          throw Error(p.loc, part + " is a part of the partition of " + p.rank +
                                 " and also a rank of input " + it->second +
                                 ": declare inputs with the whole rank " + p.rank);
        part_owner_[part] = &p;
      }
    }
    for (const Partition& p : c_.partitions) {
      if (const auto it = part_owner_.find(p.rank); it != part_owner_.end())
        throw Error(p.loc, "rank " + p.rank + " is a part of the partition of " + it->second->rank +
                               " and is partitioned again: nested "
                               "partitions are not supported");
      add_rank(p.rank);
      for (const std::string& part : p.parts) add_rank(part);
    }
  }

  void check_shapes() {
    std::set<std::string> seen;
    for (const ShapeDefault& s : c_.shapes) {
      if (!is_upper_name(s.name))
        throw Error(s.loc, "shape name '" + s.name + "' must be upper-case");
      if (!seen.insert(s.name).second) throw Error(s.loc, "shape " + s.name + " is declared twice");
      if (const auto it = part_owner_.find(s.name);
          it != part_owner_.end() && it->second->parts[0] == s.name) {
        const Partition& p = *it->second;
        throw Error(s.loc, "shape " + s.name + " is the outer part of the partition of " + p.rank +
                               " and is derived (" + s.name + " = ceil(" + p.rank + " / " +
                               p.parts[1] + ")): give " + p.parts[1] + " a default instead");
      }
      defaults_[s.name] = &s;
    }
    for (const Partition& p : c_.partitions)
      if (!input_rank_owner_.count(p.rank) && !defaults_.count(p.rank))
        throw Error(p.loc, "partition of unknown rank " + p.rank +
                               ": it is neither a rank of an input nor a declared shape");
    for (const ShapeDefault& s : c_.shapes) add_rank(s.name);
  }

  void check_tensor_names() {
    for (const TensorDecl& t : c_.inputs)
      if (ranks_.count(t.name)) {
        const auto d = defaults_.find(t.name);
        throw Error(d != defaults_.end() ? d->second->loc : t.loc,
                    "shape " + t.name + " has the name of a tensor (input " + t.name + ")");
      }
    for (const Einsum& e : c_.einsums)
      if (ranks_.count(e.output)) {
        const auto d = defaults_.find(e.output);
        const SourceLocation where = d != defaults_.end() ? d->second->loc : e.loc;
        throw Error(where, "shape " + e.output +
                               " has the name of a tensor (produced by the "
                               "Einsum at " +
                               position_of(e.loc, where) + ")");
      }
  }

  // ---- index expressions ----
  enum class Scope { Einsum, Shapes, Function };
  struct IndexScope {
    Scope kind = Scope::Einsum;
    const IndexFunction* function = nullptr;  // Function: the function being defined
    size_t function_index = 0;                // Function: may call only earlier ones
    std::string what;                         // Shapes: "the default of shape W"
  };

  void check_index(const IndexExpr& e, const IndexScope& scope) {
    switch (e.op) {
      case IndexOp::Constant:
        return;
      case IndexOp::Variable:
        check_index_variable(e, scope);
        return;
      case IndexOp::Symbol:
        if (!ranks_.count(e.name)) {
          std::string hint = suggestion(e.name, rank_order_);
          if (is_tensor(e.name))
            hint = " (" + e.name + " is a tensor; index expressions cannot read tensors)";
          throw Error(e.loc,
                      "unknown shape symbol '" + e.name + "' (shapes: " + rank_list() + ")" + hint);
        }
        return;
      case IndexOp::Add:
      case IndexOp::Sub:
      case IndexOp::Mul:
      case IndexOp::Div:
      case IndexOp::Mod:
      case IndexOp::Neg: {
        const size_t want = e.op == IndexOp::Neg ? 1 : 2;
        if (e.args.size() != want) throw Error(e.loc, "malformed index expression");
        for (const IndexExpr& a : e.args) check_index(a, scope);
        return;
      }
      case IndexOp::Call:
        check_index_call(e, scope);
        for (const IndexExpr& a : e.args) check_index(a, scope);
        return;
    }
    throw Error(e.loc, "malformed index expression");
  }

  void check_index_variable(const IndexExpr& e, const IndexScope& scope) {
    switch (scope.kind) {
      case Scope::Einsum:
        if (!is_rank_variable(e.name)) {
          std::string hint;
          if (c_.find_parameter(e.name) != nullptr)
            hint = " (" + e.name +
                   " is a parameter: parameters are real values and cannot "
                   "be used in index expressions)";
          throw Error(e.loc, "variable '" + e.name + "' does not name a known rank (ranks: " +
                                 rank_list() + ")" + hint);
        }
        return;
      case Scope::Shapes:
        throw Error(e.loc, "'" + e.name + "' in " + scope.what +
                               ": only shapes, integers and index functions may appear here");
      case Scope::Function: {
        const auto& params = scope.function->params;
        if (std::find(params.begin(), params.end(), e.name) == params.end())
          throw Error(e.loc, "'" + e.name + "' in the body of index function " +
                                 scope.function->name + " is not one of its parameters (" +
                                 join(params, ", ") + ")");
        return;
      }
    }
  }

  void check_index_call(const IndexExpr& e, const IndexScope& scope) {
    size_t arity = 0;
    if (e.name == "min" || e.name == "max") {
      arity = 2;
    } else if (e.name == "clamp") {
      arity = 3;
    } else {
      size_t position = c_.index_functions.size();
      for (size_t i = 0; i < c_.index_functions.size(); ++i)
        if (c_.index_functions[i].name == e.name) position = i;
      if (position == c_.index_functions.size()) {
        std::vector<std::string> names = {"min", "max", "clamp"};
        for (const IndexFunction& f : c_.index_functions) names.push_back(f.name);
        std::string hint = suggestion(e.name, names);
        if (find_value_function(e.name) != nullptr)
          hint = " (" + e.name + " is a value function; index expressions take " +
                 join(names, ", ") + ")";
        throw Error(e.loc, "unknown index function '" + e.name + "'" + hint);
      }
      if (scope.kind == Scope::Function && position >= scope.function_index)
        throw Error(e.loc, position == scope.function_index
                               ? "index function " + e.name + " calls itself"
                               : "index function " + scope.function->name + " calls " + e.name +
                                     ", which is defined after it");
      arity = c_.index_functions[position].params.size();
    }
    if (e.args.size() != arity)
      throw Error(e.loc, "index function " + e.name + " takes " + std::to_string(arity) +
                             " argument" + (arity == 1 ? "" : "s") + ", got " +
                             std::to_string(e.args.size()));
  }

  // ---- index functions, parameters, shape defaults, requirements ----
  void check_index_functions() {
    std::set<std::string> seen;
    for (size_t i = 0; i < c_.index_functions.size(); ++i) {
      const IndexFunction& f = c_.index_functions[i];
      if (!is_lower_name(f.name))
        throw Error(f.loc, "index function name '" + f.name + "' must be lower-case");
      if (f.name == "min" || f.name == "max" || f.name == "clamp" || is_reserved(f.name))
        throw Error(f.loc, "index function " + f.name + " has the name of a built-in");
      if (!seen.insert(f.name).second)
        throw Error(f.loc, "index function " + f.name + " is defined twice");
      std::set<std::string> params;
      for (const std::string& p : f.params) {
        if (!is_lower_name(p))
          throw Error(f.loc,
                      "parameter '" + p + "' of index function " + f.name + " must be lower-case");
        if (!params.insert(p).second)
          throw Error(f.loc, "index function " + f.name + " lists parameter " + p + " twice");
      }
      IndexScope scope;
      scope.kind = Scope::Function;
      scope.function = &f;
      scope.function_index = i;
      check_index(f.body, scope);
    }
  }

  void check_parameters() {
    std::set<std::string> seen;
    for (const Parameter& p : c_.parameters) {
      if (!is_lower_name(p.name))
        throw Error(p.loc, "parameter name '" + p.name + "' must be lower-case");
      if (is_reserved(p.name))
        throw Error(p.loc, "'" + p.name + "' is a reserved word and cannot name a parameter");
      if (!seen.insert(p.name).second)
        throw Error(p.loc, "parameter " + p.name + " is declared twice");
      if (ranks_.count(rank_of_variable(p.name)))
        throw Error(p.loc, "parameter '" + p.name + "' has the name of the variable of rank " +
                               rank_of_variable(p.name) + "; rename the parameter");
    }
    std::map<std::string, std::set<std::string>> uses;
    for (const Parameter& p : c_.parameters)
      check_constant_value("the default of parameter " + p.name, p.default_value, uses[p.name]);
    // Cycles between defaults.
    std::vector<std::string> order;
    for (const Parameter& p : c_.parameters) order.push_back(p.name);
    const std::vector<std::string> cycle = find_cycle(order, uses);
    if (!cycle.empty())
      throw Error(
          c_.find_parameter(cycle.front())->loc,
          "parameter defaults depend on each other in a cycle: " + join(cycle, " -> "));
  }

  // A value known before any Einsum runs (a parameter default, a side of a value
  // requirement): numbers, parameters (collected in `uses`), shapes and value functions.
  // An arithmetic node has one operand (negation) or two.
  static void check_arity(const Expr& e) {
    if (e.args.size() != (e.op == ExprOp::Neg ? 1u : 2u))
      throw Error(e.loc, "malformed expression");
  }

  void check_constant_value(const std::string& what, const Expr& e, std::set<std::string>& uses) {
    switch (e.op) {
      case ExprOp::Number:
        return;
      case ExprOp::Parameter:
        if (c_.find_parameter(e.name) == nullptr)
          throw Error(e.loc, "unknown parameter '" + e.name + "' in " + what);
        uses.insert(e.name);
        return;
      case ExprOp::Index: {
        if (e.indices.size() != 1) throw Error(e.loc, "malformed index value");
        const IndexExpr& i = e.indices[0];
        if (i.op == IndexOp::Variable)
          throw Error(i.loc, "'" + i.name + "' in " + what +
                                 " is neither a declared parameter nor a shape" +
                                 suggestion(i.name, parameter_names()));
        IndexScope scope;
        scope.kind = Scope::Shapes;
        scope.what = what;
        check_index(i, scope);
        return;
      }
      case ExprOp::Read:
        throw Error(e.loc, what + " cannot read tensors");
      case ExprOp::Reduce:
        throw Error(e.loc, what + " cannot contain a reduction");
      case ExprOp::Call:
        check_value_call(e);
        break;
      case ExprOp::Neg:
      case ExprOp::Add:
      case ExprOp::Sub:
      case ExprOp::Mul:
      case ExprOp::Div:
        check_arity(e);
        break;
    }
    for (const Expr& a : e.args) check_constant_value(what, a, uses);
  }

  std::vector<std::string> parameter_names() const {
    std::vector<std::string> names;
    for (const Parameter& p : c_.parameters) names.push_back(p.name);
    return names;
  }

  void check_shape_defaults() {
    std::map<std::string, std::set<std::string>> uses;
    std::function<void(const IndexExpr&, std::set<std::string>&)> symbols =
        [&](const IndexExpr& e, std::set<std::string>& out) {
          if (e.op == IndexOp::Symbol) out.insert(e.name);
          if (e.op == IndexOp::Call)
            if (const IndexFunction* f = c_.find_index_function(e.name)) symbols(f->body, out);
          for (const IndexExpr& a : e.args) symbols(a, out);
        };
    for (const ShapeDefault& s : c_.shapes) {
      IndexScope scope;
      scope.kind = Scope::Shapes;
      scope.what = "the default of shape " + s.name;
      check_index(s.value, scope);
      symbols(s.value, uses[s.name]);
    }
    for (const Partition& p : c_.partitions) uses[p.parts[0]] = {p.rank, p.parts[1]};
    const std::vector<std::string> cycle = find_cycle(rank_order_, uses);
    if (!cycle.empty()) {
      const auto d = defaults_.find(cycle.front());
      throw Error(d != defaults_.end() ? d->second->loc : SourceLocation{c_.file, 0, 0},
                  "shape defaults depend on each other in a cycle: " + join(cycle, " -> "));
    }
  }

  void check_requirements() {
    for (const ShapeRequirement& r : c_.requirements) {
      if (r.value_condition) {
        std::set<std::string> uses;
        check_constant_value("a requirement", r.value_condition->lhs, uses);
        check_constant_value("a requirement", r.value_condition->rhs, uses);
      } else {
        IndexScope scope;
        scope.kind = Scope::Shapes;
        scope.what = "a requirement";
        check_index(r.condition.lhs, scope);
        check_index(r.condition.rhs, scope);
      }
      if (r.message.empty())
        throw Error(r.loc, "requirement '" + print_check(r) + "' has no message");
    }
  }

  // ---- Einsums ----
  void check_einsum_outputs() {
    for (size_t i = 0; i < c_.einsums.size(); ++i) {
      const Einsum& e = c_.einsums[i];
      if (!is_upper_name(e.output))
        throw Error(e.loc, "output tensor name '" + e.output + "' must be upper-case");
      if (inputs_.count(e.output))
        throw Error(e.loc,
                    "tensor " + e.output + " is an input and cannot also be produced by an Einsum");
      if (const auto it = producer_.find(e.output); it != producer_.end())
        throw Error(e.loc, "tensor " + e.output + " is produced twice (first by the Einsum at " +
                               position_of(c_.einsums[it->second].loc, e.loc) + ")");
      producer_[e.output] = static_cast<int>(i);
      std::vector<std::string> ranks;
      std::vector<int64_t> extra;
      std::vector<std::string> variables;
      Iterative iterative;
      for (size_t k = 0; k < e.output_indices.size(); ++k) {
        const IndexExpr& index = e.output_indices[k];
        const IndexExpr* var = nullptr;
        int64_t c = 0;
        if (index.op == IndexOp::Variable) {
          var = &index;
        } else if (index.op == IndexOp::Add && index.args.size() == 2 &&
                   index.args[0].op == IndexOp::Variable && index.args[1].op == IndexOp::Constant) {
          var = &index.args[0];
          c = index.args[1].value;
          if (c <= 0)
            throw Error(index.loc, "iterative output index '" + print_index(index) + "' of " +
                                       e.output + " needs a positive constant (v + c, c > 0)");
          if (c > 1)  // one init slice: slices 1 .. c-1 would have no value
            throw Error(index.loc, "iterative output index '" + print_index(index) + "' of " +
                                       e.output + ": only steps of one ('" + index.args[0].name +
                                       " + 1') are supported, with the init giving slice 0");
        } else {
          throw Error(start_of(index), "output index '" + print_index(index) + "' of " + e.output +
                                           " must be a variable or 'variable + constant'");
        }
        if (!is_rank_variable(var->name))
          throw Error(var->loc, "variable '" + var->name +
                                    "' does not name a known rank "
                                    "(ranks: " +
                                    rank_list() + ")");
        if (std::find(variables.begin(), variables.end(), var->name) != variables.end())
          throw Error(var->loc,
                      "variable " + var->name + " appears twice in the output of " + e.output);
        variables.push_back(var->name);
        if (c > 0) {
          if (iterative.dim >= 0)
            throw Error(start_of(index), e.output + " has two iterative output indices (" +
                                             iterative.variable + " + " +
                                             std::to_string(iterative.extra) + " and " +
                                             print_index(index) + "); at most one is allowed");
          iterative.dim = static_cast<int>(k);
          iterative.variable = var->name;
          iterative.extra = c;
        }
        ranks.push_back(rank_of_variable(var->name));
        extra.push_back(c);
      }
      ranks_of_[e.output] = ranks;
      extra_of_[e.output] = extra;
      output_variables_.push_back(variables);
      iterative_.push_back(iterative);
      if (iterative.dim >= 0) iterative_of_[e.output] = iterative;
    }
  }

  const std::vector<std::string>& dims_of(const std::string& tensor) const {
    if (const auto it = inputs_.find(tensor); it != inputs_.end()) return it->second->ranks;
    return ranks_of_.at(tensor);
  }

  struct ValueScope {
    enum Mode { Einsum, Init } mode = Einsum;
    int einsum = -1;
    std::vector<std::string> bound;                 // reduction variables in scope
    std::set<std::string> free;                     // used outside explicit reductions
    std::map<std::string, SourceLocation> reduced;  // reduction variable -> its reduction
    std::map<std::string, SourceLocation> free_at;  // first use outside reductions
  };

  void note_variables(const IndexExpr& index, ValueScope& scope) {
    std::vector<VariableUse> uses;
    collect(index, uses);
    for (const VariableUse& u : uses) {
      if (std::find(scope.bound.begin(), scope.bound.end(), u.name) != scope.bound.end()) continue;
      scope.free.insert(u.name);
      scope.free_at.emplace(u.name, u.loc);
    }
  }

  void check_value_call(const Expr& e) {
    const ValueFunction* f = find_value_function(e.name);
    if (f == nullptr) {
      std::vector<std::string> names;
      for (const ValueFunction& v : value_functions()) names.push_back(v.name);
      std::string hint = suggestion(e.name, names);
      if (c_.find_index_function(e.name) != nullptr)
        hint = " (" + e.name + " is an index function: write index(" + e.name +
               "(...)) to use its value)";
      throw Error(e.loc, "unknown function '" + e.name +
                             "' (value functions: " + join(names, ", ") + ")" + hint);
    }
    if (static_cast<size_t>(f->arity) != e.args.size())
      throw Error(e.loc, "function " + e.name + " takes " + std::to_string(f->arity) + " argument" +
                             (f->arity == 1 ? "" : "s") + ", got " + std::to_string(e.args.size()));
  }

  void check_value(const Expr& e, ValueScope& scope) {
    const Einsum& einsum = c_.einsums[scope.einsum];
    const std::vector<std::string>& outs = output_variables_[scope.einsum];
    IndexScope index_scope;
    switch (e.op) {
      case ExprOp::Number:
        return;
      case ExprOp::Parameter:
        if (c_.find_parameter(e.name) == nullptr)
          throw Error(e.loc,
                      "unknown parameter '" + e.name + "'" + suggestion(e.name, parameter_names()));
        return;
      case ExprOp::Index: {
        if (e.indices.size() != 1) throw Error(e.loc, "malformed index value");
        const IndexExpr& i = e.indices[0];
        if (i.op == IndexOp::Variable && !is_rank_variable(i.name))
          throw Error(i.loc, "'" + i.name +
                                 "' is neither a declared parameter nor the "
                                 "variable of a known rank (ranks: " +
                                 rank_list() + ")" + suggestion(i.name, parameter_names()));
        check_index(i, index_scope);
        note_variables(i, scope);
        return;
      }
      case ExprOp::Read: {
        if (!is_tensor(e.name))
          throw Error(e.loc, "unknown tensor '" + e.name +
                                 "': it is neither an input nor produced by an Einsum" +
                                 suggestion(e.name, tensor_names()));
        const std::vector<std::string>& dims = dims_of(e.name);
        if (dims.size() != e.indices.size())
          throw Error(e.loc, "tensor " + e.name + " has " + std::to_string(dims.size()) + " rank" +
                                 (dims.size() == 1 ? "" : "s") + " [" + join(dims, ", ") +
                                 "] but is read with " + std::to_string(e.indices.size()) + " ind" +
                                 (e.indices.size() == 1 ? "ex" : "ices"));
        for (size_t k = 0; k < dims.size(); ++k) {
          const IndexExpr& i = e.indices[k];
          check_index(i, index_scope);
          if (i.op == IndexOp::Variable) {
            const std::string rank = rank_of_variable(i.name);
            if (rank != dims[k] && family(rank) != family(dims[k]))
              throw Error(i.loc, "tensor " + e.name + " has rank " + dims[k] + " at position " +
                                     std::to_string(k + 1) + " but is read there with variable " +
                                     i.name + " (rank " + rank + ")");
          }
          note_variables(i, scope);
        }
        consumers_[e.name].insert(scope.einsum);
        return;
      }
      case ExprOp::Call:
        check_value_call(e);
        break;
      case ExprOp::Reduce: {
        if (e.name != "sum" && e.name != "max" && e.name != "min")
          throw Error(e.loc, "unknown reduction '" + e.name + "' (sum, max, min)");
        if (e.args.size() != 1 || e.reduce_vars.empty()) throw Error(e.loc, "malformed reduction");
        std::set<std::string> inside;
        collect(e.args[0], inside);
        std::set<std::string> listed;
        for (const std::string& v : e.reduce_vars) {
          if (!is_rank_variable(v))
            throw Error(e.loc, "reduction variable '" + v +
                                   "' does not name a known rank "
                                   "(ranks: " +
                                   rank_list() + ")");
          if (!listed.insert(v).second)
            throw Error(e.loc, "reduction variable '" + v + "' is listed twice");
          if (std::find(outs.begin(), outs.end(), v) != outs.end())
            throw Error(e.loc, "reduction variable " + v + " also appears on the left side " +
                                   "(the output " + einsum.output +
                                   print_index_list(einsum.output_indices) +
                                   "): a variable is either kept or reduced");
          if (std::find(scope.bound.begin(), scope.bound.end(), v) != scope.bound.end())
            throw Error(e.loc, "variable " + v +
                                   " is already reduced by an enclosing "
                                   "reduction");
          if (!inside.count(v))
            throw Error(e.loc,
                        e.name + " reduces over " + v + ", but " + v + " is not used inside it");
          scope.reduced.emplace(v, e.loc);
        }
        for (const std::string& v : e.reduce_vars) scope.bound.push_back(v);
        check_value(e.args[0], scope);
        scope.bound.resize(scope.bound.size() - e.reduce_vars.size());
        return;
      }
      case ExprOp::Neg:
      case ExprOp::Add:
      case ExprOp::Sub:
      case ExprOp::Mul:
      case ExprOp::Div:
        check_arity(e);
        break;
    }
    for (const Expr& a : e.args) check_value(a, scope);
  }

  static std::string print_index_list(const std::vector<IndexExpr>& indices) {
    std::vector<std::string> parts;
    for (const IndexExpr& i : indices) parts.push_back(print_index(i));
    return "[" + join(parts, ", ") + "]";
  }

  void check_einsum(int i) {
    const Einsum& e = c_.einsums[i];
    const std::vector<std::string>& outs = output_variables_[i];
    const Iterative& iterative = iterative_[i];

    ValueScope scope;
    scope.einsum = i;
    check_value(e.value, scope);
    for (const auto& [v, loc] : scope.reduced)
      if (scope.free.count(v))
        throw Error(scope.free_at.at(v), "variable " + v + " is reduced by the reduction at " +
                                             position_of(loc, scope.free_at.at(v)) +
                                             " and also used outside it");

    std::set<std::string> space(outs.begin(), outs.end());
    space.insert(scope.free.begin(), scope.free.end());
    for (const auto& [v, loc] : scope.reduced) space.insert(v);
    for (const Condition& cond : e.where) {
      IndexScope index_scope;
      for (const IndexExpr* side : {&cond.lhs, &cond.rhs}) {
        check_index(*side, index_scope);
        std::vector<VariableUse> uses;
        collect(*side, uses);
        for (const VariableUse& u : uses)
          if (!space.count(u.name))
            throw Error(
                u.loc,
                "the condition '" + print_condition(cond) + "' uses " + u.name +
                    ", which is not a variable of this Einsum (" +
                    join(std::vector<std::string>(space.begin(), space.end()), ", ") + ")");
      }
    }

    if (iterative.dim < 0) {
      if (e.init)
        throw Error(e.init->loc, "init given for " + e.output +
                                     ", but none of its output indices is iterative "
                                     "('v + c', e.g. " +
                                     e.output + "[m1+1, ...])");
      return;
    }
    const IndexExpr& iterative_index = e.output_indices[iterative.dim];
    std::vector<std::string> init_example;
    for (size_t k = 0; k < outs.size(); ++k)
      init_example.push_back(static_cast<int>(k) == iterative.dim ? "0" : outs[k]);
    if (!e.init)
      throw Error(start_of(iterative_index), e.output + " is iterative over " + iterative.variable +
                                                 " (output index '" + print_index(iterative_index) +
                                                 "') but has no init: add 'init " + e.output + "[" +
                                                 join(init_example, ", ") + "] = <value>'");
    const Init& init = *e.init;
    if (init.indices.size() != outs.size())
      throw Error(init.loc, "init of " + e.output + " has " + std::to_string(init.indices.size()) +
                                " indices, the output has " + std::to_string(outs.size()));
    for (size_t k = 0; k < outs.size(); ++k) {
      const IndexExpr& index = init.indices[k];
      if (static_cast<int>(k) == iterative.dim) {
        if (index.op != IndexOp::Constant || index.value != 0)
          throw Error(start_of(index), "init of " + e.output +
                                           " must give the first slice: its index at the "
                                           "iterative position must be 0, got '" +
                                           print_index(index) + "'");
      } else if (index.op != IndexOp::Variable || index.name != outs[k]) {
        throw Error(start_of(index), "init index " + std::to_string(k + 1) + " of " + e.output +
                                         " must be '" + outs[k] + "' as in the output, got '" +
                                         print_index(index) + "'");
      }
    }
    ValueScope init_scope;
    init_scope.mode = ValueScope::Init;
    init_scope.einsum = i;
    check_value(init.value, init_scope);
    std::vector<std::string> allowed;
    for (size_t k = 0; k < outs.size(); ++k)
      if (static_cast<int>(k) != iterative.dim) allowed.push_back(outs[k]);
    for (const auto& [v, loc] : init_scope.free_at)
      if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
        throw Error(loc, "the init value of " + e.output + " uses variable " + v +
                             "; it may only use the output's other indices (" +
                             join(allowed, ", ") + ")");
    for (const auto& [v, loc] : init_scope.reduced)
      if (init_scope.free.count(v))
        throw Error(init_scope.free_at.at(v), "variable " + v + " is reduced by the reduction at " +
                                                  position_of(loc, init_scope.free_at.at(v)) +
                                                  " and also used outside it");
  }

  // ---- dependency structure ----
  struct Edge {
    int from;  // producer
    int to;    // reader
    bool carried;
    std::string variable;  // carried: the iterative variable
  };

  std::vector<Edge> edges() const {
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

  void check_cycles() {
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
  static std::vector<int> components(const std::vector<std::vector<int>>& next) {
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

  // ---- outputs, formats, results ----
  void check_outputs() {
    if (c_.outputs.empty())
      throw Error(location("outputs"),
                  "the cascade has no outputs: list the tensors it "
                  "computes under 'outputs'");
    std::set<std::string> seen;
    for (const std::string& o : c_.outputs) {
      const SourceLocation loc = location("output:" + o);
      if (!seen.insert(o).second) throw Error(loc, "output " + o + " is listed twice");
      if (inputs_.count(o))
        throw Error(loc, "output " + o + " is an input: it is never produced by an Einsum");
      if (!producer_.count(o))
        throw Error(loc, "unknown output '" + o + "': no Einsum produces it" +
                             suggestion(o, tensor_names()));
    }
  }

  void check_formats() {
    for (const auto& [tensor, format] : c_.formats) {
      if (!is_tensor(tensor))
        throw Error(location("format:" + tensor), "'formats' names unknown tensor '" + tensor +
                                                      "'" + suggestion(tensor, tensor_names()));
      const auto& formats = storage_formats();
      if (std::find(formats.begin(), formats.end(), format) == formats.end())
        throw Error(location("format-value:" + tensor),
                    "unknown format '" + format + "' for " + tensor + " (formats: " +
                        join(formats, ", ") + ")" + suggestion(format, formats));
    }
  }

  void fill_tensors() {
    auto format_of = [&](const std::string& name) {
      const auto it = c_.formats.find(name);
      return it == c_.formats.end() ? std::string() : it->second;
    };
    auto consumers_of = [&](const std::string& name) {
      std::vector<int> out;
      if (const auto it = consumers_.find(name); it != consumers_.end())
        out.assign(it->second.begin(), it->second.end());
      return out;
    };
    for (const TensorDecl& t : c_.inputs) {
      TensorInfo info;
      info.name = t.name;
      info.ranks = t.ranks;
      info.extra.assign(t.ranks.size(), 0);
      info.consumers = consumers_of(t.name);
      info.format = format_of(t.name);
      info.loc = t.loc;
      c_.tensors.push_back(std::move(info));
    }
    for (size_t i = 0; i < c_.einsums.size(); ++i) {
      const Einsum& e = c_.einsums[i];
      TensorInfo info;
      info.name = e.output;
      info.ranks = ranks_of_.at(e.output);
      info.extra = extra_of_.at(e.output);
      info.producer = static_cast<int>(i);
      info.consumers = consumers_of(e.output);
      info.format = format_of(e.output);
      info.loc = e.loc;
      c_.tensors.push_back(std::move(info));
    }
  }

  void add_warnings() {
    auto warn = [&](const SourceLocation& loc, const std::string& message) {
      const std::string where = loc.str();
      c_.warnings.push_back((where.empty() ? std::string() : where + ": ") + "warning: " + message);
    };
    const std::set<std::string> outputs(c_.outputs.begin(), c_.outputs.end());
    for (const TensorDecl& t : c_.inputs)
      if (!consumers_.count(t.name)) warn(t.loc, "input " + t.name + " is never read");
    for (const Einsum& e : c_.einsums) {
      bool read_by_other = false;
      if (const auto it = consumers_.find(e.output); it != consumers_.end())
        for (int k : it->second)
          if (c_.einsums[k].output != e.output) read_by_other = true;
      if (!read_by_other && !outputs.count(e.output))
        warn(e.loc, "tensor " + e.output + " is produced but never read and is not an output");
    }
  }

  Cascade& c_;
  const std::map<std::string, SourceLocation>& locations_;

  std::set<std::string> ranks_;  // every rank / shape name
  std::vector<std::string> rank_order_;
  std::map<std::string, const TensorDecl*> inputs_;
  std::map<std::string, std::string> input_rank_owner_;  // rank -> first input using it
  std::map<std::string, const Partition*> partitions_;   // by partitioned rank
  std::map<std::string, const Partition*> part_owner_;   // part -> its partition
  std::map<std::string, const ShapeDefault*> defaults_;

  std::map<std::string, int> producer_;
  std::map<std::string, std::vector<std::string>> ranks_of_;
  std::map<std::string, std::vector<int64_t>> extra_of_;
  std::vector<std::vector<std::string>> output_variables_;
  std::vector<Iterative> iterative_;
  std::map<std::string, Iterative> iterative_of_;
  std::map<std::string, std::set<int>> consumers_;
};

}  // namespace

void detail::validate_with_locations(Cascade& cascade,
                                     const std::map<std::string, SourceLocation>& locations) {
  Validator(cascade, locations).run();
}

void validate(Cascade& cascade) {
  detail::validate_with_locations(cascade, {});
}

}  // namespace cascade
