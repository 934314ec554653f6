// validate(), concatenation: the `concat:` declarations (J: [D, D], J = D + D derived) and
// concat(j: part, ...) values (validator.h). Rules: mappings/README.md, "Concatenation".
#include <algorithm>

#include "arch/support/names.h"
#include "mappings/cascade/parser.h"
#include "mappings/cascade/validator.h"

namespace cascade::detail {

namespace {

// Where an expression's text begins (binary nodes are located at their operator).
SourceLocation start_of(const Expr& e) {
  const bool binary = e.op == ExprOp::Add || e.op == ExprOp::Sub || e.op == ExprOp::Mul ||
                      e.op == ExprOp::Div;
  if (binary && !e.args.empty()) return start_of(e.args[0]);
  return e.loc;
}

}  // namespace

// After check_shapes: the parts must be known ranks, so that J's shape is their sum.
void Validator::check_concatenations() {
  for (const Concatenation& cat : c_.concatenations) {
    if (const auto it = concat_of_.find(cat.rank); it != concat_of_.end())
      throw Error(cat.loc, "rank " + cat.rank + " is concatenated twice (first at " +
                               position_of(it->second->loc, cat.loc) + ")");
    concat_of_[cat.rank] = &cat;
  }
  for (const Concatenation& cat : c_.concatenations) {
    const std::string sum = cat.rank + " = " + join(cat.parts, " + ");
    if (partitions_.count(cat.rank) || part_owner_.count(cat.rank))
      throw Error(cat.loc, "concatenated rank " + cat.rank +
                               " is also partitioned or a part of a partition; that is not "
                               "supported");
    if (const auto d = defaults_.find(cat.rank); d != defaults_.end())
      throw Error(d->second->loc, "shape " + cat.rank + " is a concatenation and is derived (" +
                                      sum + "): give its parts defaults instead");
    if (cat.parts.size() < 2)
      throw Error(cat.loc, "the concatenation " + cat.rank + " needs at least two parts");
    for (const std::string& part : cat.parts) {
      if (part == cat.rank)
        throw Error(cat.loc, "rank " + cat.rank + " cannot be a part of its own concatenation");
      if (concat_of_.count(part))
        throw Error(cat.loc, "part " + part + " of " + cat.rank +
                                 " is itself a concatenation: nested concatenations are not "
                                 "supported (list the innermost parts instead)");
      if (part_owner_.count(part))
        throw Error(cat.loc, "part " + part + " of " + cat.rank + " is a part of the partition of " +
                                 part_owner_.at(part)->rank +
                                 "; a concatenation's parts must be whole ranks");
      if (!ranks_.count(part))
        throw Error(cat.loc, "part " + part + " of the concatenation " + cat.rank +
                                 " is not a known rank (ranks: " + rank_list() + ")" +
                                 suggestion(part, rank_order_));
    }
    add_rank(cat.rank);
  }
}

// concat(j: part_0, part_1, ...): j must be an output index (each output element takes its
// value from the one part j falls in); part k binds the variable of the k-th part rank.
void Validator::check_concat_value(const Expr& e, ValueScope& scope) {
  const Einsum& einsum = c_.einsums[scope.einsum];
  const std::vector<std::string>& outs = output_variables_[scope.einsum];
  if (e.indices.size() != 1 || e.indices[0].op != IndexOp::Variable || e.args.empty())
    throw Error(e.loc, "malformed concat");
  const IndexExpr& var = e.indices[0];
  const std::string rank = rank_of_variable(var.name);
  const auto it = concat_of_.find(rank);
  if (it == concat_of_.end()) {
    std::vector<std::string> names;
    for (const Concatenation& cat : c_.concatenations) names.push_back(cat.rank);
    throw Error(var.loc, "concat(" + var.name + ": ...): '" + var.name +
                             "' is not the variable of a concatenated rank " +
                             (names.empty() ? "(none is declared: add e.g. 'concat: {" + rank +
                                                  ": [D, D]}')"
                                            : "(concatenated ranks: " + join(names, ", ") + ")"));
  }
  const Concatenation& cat = *it->second;
  const std::string declared = cat.rank + ": [" + join(cat.parts, ", ") + "]";
  if (e.args.size() != cat.parts.size())
    throw Error(e.args.size() > cat.parts.size() ? start_of(e.args[cat.parts.size()]) : e.loc,
                "concat over " + cat.rank + " takes " + std::to_string(cat.parts.size()) +
                    " parts, one per part of '" + declared + "', got " +
                    std::to_string(e.args.size()));
  if (e.reduce_vars.size() != cat.parts.size())
    throw Error(e.loc, "malformed concat: the variables of its parts are not set");
  if (std::find(outs.begin(), outs.end(), var.name) == outs.end())
    throw Error(var.loc, "the concatenated variable " + var.name + " must be an output index of " +
                             einsum.output + " (concat gives the value at each " + var.name +
                             "), e.g. " + einsum.output + "[" + var.name + ", ...]");
  note_variables(var, scope);
  scope.concatenated.insert(var.name);
  for (size_t k = 0; k < e.args.size(); ++k) {
    const std::string& v = e.reduce_vars[k];
    const std::string what = "part " + std::to_string(k + 1) + " of the concat over " + cat.rank +
                             " ('" + declared + "') binds " + v + " (the position in " +
                             cat.parts[k] + ")";
    if (std::find(outs.begin(), outs.end(), v) != outs.end())
      throw Error(start_of(e.args[k]), what + ", which is also an output index of " +
                                           einsum.output);
    if (std::find(scope.bound.begin(), scope.bound.end(), v) != scope.bound.end())
      throw Error(start_of(e.args[k]), what + ", which an enclosing reduction or concat binds");
    scope.part_of.emplace(v, e.loc);
    scope.bound.push_back(v);
    check_value(e.args[k], scope);
    scope.bound.pop_back();
  }
}

// After the body is checked: a part's variable is local to its part, and a `where` condition
// may not test a concatenated variable (its parts are evaluated, and counted, per part).
void Validator::check_concat_scope(const Einsum& e, const ValueScope& scope) {
  for (const auto& [v, loc] : scope.part_of)
    if (scope.free.count(v))
      throw Error(scope.free_at.at(v), "variable " + v + " is bound by the concat at " +
                                           position_of(loc, scope.free_at.at(v)) +
                                           " (a position within a part) and also used outside it");
  for (const Condition& cond : e.where) {
    std::vector<std::string> vars;
    index_variables(cond.lhs, vars);
    index_variables(cond.rhs, vars);
    for (const std::string& v : vars)
      if (scope.concatenated.count(v))
        throw Error(cond.loc, "the condition '" + print_condition(cond) +
                                  "' tests the concatenated variable " + v +
                                  ": conditions on a concatenated rank are not supported "
                                  "(mask the part's own tensor instead)");
  }
}

}  // namespace cascade::detail
