// validate(), part 2: index and value expressions, Einsum outputs and bodies, inits
// (validator.h).
#include <algorithm>
#include <set>

#include "arch/support/names.h"
#include "mappings/cascade/parser.h"
#include "mappings/cascade/parser_detail.h"
#include "mappings/cascade/validator.h"

namespace cascade::detail {

namespace {

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

// The variables an expression uses outside the reductions inside it.
void free_variables(const Expr& e, std::vector<std::string>& bound, std::set<std::string>& out) {
  std::vector<VariableUse> uses;
  for (const IndexExpr& i : e.indices) collect(i, uses);
  for (const VariableUse& u : uses)
    if (std::find(bound.begin(), bound.end(), u.name) == bound.end()) out.insert(u.name);
  if (e.op == ExprOp::Reduce) bound.insert(bound.end(), e.reduce_vars.begin(), e.reduce_vars.end());
  for (const Expr& a : e.args) free_variables(a, bound, out);
  if (e.op == ExprOp::Reduce) bound.resize(bound.size() - e.reduce_vars.size());
}

// The additive terms of a value: its operands through +, - and unary minus.
void additive_terms(const Expr& e, std::vector<const Expr*>& out) {
  if (e.op == ExprOp::Add || e.op == ExprOp::Sub || e.op == ExprOp::Neg) {
    for (const Expr& a : e.args) additive_terms(a, out);
    return;
  }
  out.push_back(&e);
}

}  // namespace

// ---- index expressions ----

void Validator::check_index(const IndexExpr& e, const IndexScope& scope) {
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

void Validator::check_index_variable(const IndexExpr& e, const IndexScope& scope) {
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

void Validator::check_index_call(const IndexExpr& e, const IndexScope& scope) {
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

// ---- values known before any Einsum runs (parameter defaults, requirements) ----

// A value known before any Einsum runs (a parameter default, a side of a value
// requirement): numbers, parameters (collected in `uses`), shapes and value functions.
// An arithmetic node has one operand (negation) or two.
void Validator::check_arity(const Expr& e) {
  if (e.args.size() != (e.op == ExprOp::Neg ? 1u : 2u))
    throw Error(e.loc, "malformed expression");
}

void Validator::check_constant_value(const std::string& what, const Expr& e,
                                     std::set<std::string>& uses) {
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
    case ExprOp::Concat:
      throw Error(e.loc, what + " cannot contain a concat");
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

// ---- Einsums ----

void Validator::check_einsum_outputs() {
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

const std::vector<std::string>& Validator::dims_of(const std::string& tensor) const {
  if (const auto it = inputs_.find(tensor); it != inputs_.end()) return it->second->ranks;
  return ranks_of_.at(tensor);
}

void Validator::note_variables(const IndexExpr& index, ValueScope& scope) {
  std::vector<VariableUse> uses;
  collect(index, uses);
  for (const VariableUse& u : uses) {
    if (std::find(scope.bound.begin(), scope.bound.end(), u.name) != scope.bound.end()) continue;
    scope.free.insert(u.name);
    scope.free_at.emplace(u.name, u.loc);
  }
}

void Validator::check_value_call(const Expr& e) {
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

void Validator::check_value(const Expr& e, ValueScope& scope) {
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
    case ExprOp::Concat:
      check_concat_value(e, scope);
      return;
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

// An implicit sum covers the whole right side, so a term that does not use a summed variable
// would be added once per value of it (`Q[e,p]*K[e,m]*scale - slope*(p-m)` adds the bias E
// times). Such a term is an error asking for an explicit sum (mappings/README.md).
void Validator::check_implicit_sum_terms(const Einsum& e, const std::vector<std::string>& outs,
                                         const std::set<std::string>& free) {
  std::vector<std::string> summed;
  for (const std::string& v : free)
    if (std::find(outs.begin(), outs.end(), v) == outs.end()) summed.push_back(v);
  if (summed.empty()) return;
  std::vector<const Expr*> terms;
  additive_terms(e.value, terms);
  if (terms.size() < 2) return;
  for (const Expr* term : terms) {
    std::set<std::string> uses;
    std::vector<std::string> bound;
    free_variables(*term, bound, uses);
    std::vector<std::string> missing;
    for (const std::string& v : summed)
      if (!uses.count(v)) missing.push_back(v);
    if (missing.empty()) continue;
    const std::string vars = join(summed, ", ");
    throw Error(start_of(*term),
                "the term '" + print_expr(*term) + "' does not use " + join(missing, ", ") +
                    ", which the Einsum for " + e.output + " sums over implicitly (on the right, not on the left: " + vars +
                    "); the implicit sum covers the whole right side, so this term would be added once per value of " +
                    join(missing, ", ") + ". Write the sum explicitly around the terms it is " +
                    "meant for, e.g. 'sum(" + vars + ": ...)'");
  }
}

std::string Validator::print_index_list(const std::vector<IndexExpr>& indices) {
  std::vector<std::string> parts;
  for (const IndexExpr& i : indices) parts.push_back(print_index(i));
  return "[" + join(parts, ", ") + "]";
}

void Validator::check_einsum(int i) {
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
  check_concat_scope(e, scope);

  check_implicit_sum_terms(e, outs, scope.free);

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
  check_concat_scope(Einsum{}, init_scope);
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

}  // namespace cascade::detail
