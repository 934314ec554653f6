// Helpers of the cascade IR: equality, name lookups, rank/variable naming, shape and
// parameter resolution; evaluate_index/evaluate_condition over IndexProgram.
#include "mappings/cascade/cascade.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <set>

#include "arch/support/checked.h"
#include "arch/support/names.h"
#include "mappings/cascade/index_program.h"
#include "mappings/cascade/parser.h"
#include "mappings/cascade/parser_detail.h"

namespace cascade {

// ---------------------------------------------------------------------------------------
// Shared internal helpers (declared again where they are used; not part of the API).
namespace detail {

bool is_name_char(char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; }

bool is_upper_name(const std::string& s) {
  if (s.empty() || !std::isupper(static_cast<unsigned char>(s[0]))) return false;
  for (char ch : s)
    if (!is_name_char(ch) || std::islower(static_cast<unsigned char>(ch))) return false;
  return true;
}

bool is_lower_name(const std::string& s) {
  if (s.empty() || !std::islower(static_cast<unsigned char>(s[0]))) return false;
  for (char ch : s)
    if (!is_name_char(ch) || std::isupper(static_cast<unsigned char>(ch))) return false;
  return true;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------
// Expressions and functions.

bool Expr::operator==(const Expr& o) const {
  const bool same_number =
      number == o.number || (std::isnan(number) && std::isnan(o.number));
  return op == o.op && same_number && name == o.name && indices == o.indices &&
         reduce_vars == o.reduce_vars && args == o.args;
}

const std::vector<ValueFunction>& value_functions() {
  static const std::vector<ValueFunction> functions = {
      {"exp", 1},  {"sqrt", 1}, {"max", 2}, {"min", 2}, {"pow", 2},
      {"elu1", 1}, {"relu", 1}, {"abs", 1}, {"log", 1}, {"sigmoid", 1}, {"tanh", 1},
      {"softplus", 1},
  };
  return functions;
}

const ValueFunction* find_value_function(const std::string& name) {
  for (const ValueFunction& f : value_functions())
    if (name == f.name) return &f;
  return nullptr;
}

const TensorInfo* Cascade::find_tensor(const std::string& tensor) const {
  for (const TensorInfo& t : tensors)
    if (t.name == tensor) return &t;
  return nullptr;
}

const Partition* Cascade::find_partition_of(const std::string& rank) const {
  for (const Partition& p : partitions)
    if (p.rank == rank) return &p;
  return nullptr;
}

const Concatenation* Cascade::find_concatenation(const std::string& rank) const {
  for (const Concatenation& c : concatenations)
    if (c.rank == rank) return &c;
  return nullptr;
}

const Parameter* Cascade::find_parameter(const std::string& parameter) const {
  for (const Parameter& p : parameters)
    if (p.name == parameter) return &p;
  return nullptr;
}

const IndexFunction* Cascade::find_index_function(const std::string& function) const {
  for (const IndexFunction& f : index_functions)
    if (f.name == function) return &f;
  return nullptr;
}

void index_variables(const IndexExpr& e, std::vector<std::string>& out) {
  if (e.op == IndexOp::Variable) push_unique(out, e.name);
  for (const IndexExpr& a : e.args) index_variables(a, out);
}

void collect_reads(const Expr& e, std::vector<const Expr*>& reads) {
  if (e.op == ExprOp::Read) reads.push_back(&e);
  for (const Expr& a : e.args) collect_reads(a, reads);
}

std::string variable_of_rank(const std::string& rank) {
  std::string out = rank;
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

std::string rank_of_variable(const std::string& var) {
  std::string out = var;
  for (char& ch : out) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

int64_t Bindings::shape(const std::string& name) const {
  const auto it = shapes.find(name);
  if (it == shapes.end()) throw Error("unknown shape '" + name + "'");
  return it->second;
}

// ---------------------------------------------------------------------------------------
// Index evaluation: compiled by IndexProgram (the one evaluator) and evaluated once.

namespace {

template <typename Number>
bool compare(Number a, CompareOp op, Number b) {
  switch (op) {
    case CompareOp::Less: return a < b;
    case CompareOp::LessEqual: return a <= b;
    case CompareOp::Greater: return a > b;
    case CompareOp::GreaterEqual: return a >= b;
    case CompareOp::Equal: return a == b;
    case CompareOp::NotEqual: return a != b;
  }
  return false;
}

}  // namespace

int64_t evaluate_index(const IndexExpr& expr, const Cascade& cascade, const Bindings& bindings,
                       const std::map<std::string, int64_t>& variables) {
  std::map<std::string, int> slots;
  std::vector<int64_t> values;
  for (const auto& [name, value] : variables) {
    slots[name] = static_cast<int>(values.size());
    values.push_back(value);
  }
  return IndexProgram(expr, cascade, bindings, slots).evaluate_checked(values.data());
}

bool evaluate_condition(const Condition& cond, const Cascade& cascade, const Bindings& bindings,
                        const std::map<std::string, int64_t>& variables) {
  const int64_t lhs = evaluate_index(cond.lhs, cascade, bindings, variables);
  const int64_t rhs = evaluate_index(cond.rhs, cascade, bindings, variables);
  return compare(lhs, cond.op, rhs);
}

// ---------------------------------------------------------------------------------------
// Binding resolution.

namespace {

bool is_upper_start(const std::string& s) {
  return !s.empty() && std::isupper(static_cast<unsigned char>(s[0]));
}
bool is_lower_start(const std::string& s) {
  return !s.empty() && std::islower(static_cast<unsigned char>(s[0]));
}

class Resolver {
 public:
  Resolver(const Cascade& cascade, const std::map<std::string, std::string>& given)
      : cascade_(cascade) {
    collect_names();
    read_given(given);
  }

  Bindings run() {
    for (const std::string& name : shape_order_) shape(name, SourceLocation{});
    for (const Parameter& p : cascade_.parameters) parameter(p.name, p.loc);
    for (const ShapeRequirement& r : cascade_.requirements) check(r);
    for (const Einsum& e : cascade_.einsums) {
      check_partial_tile_reads(e.value);
      if (e.init) check_partial_tile_reads(e.init->value);
    }
    return std::move(out_);
  }

 private:
  void add_shape(const std::string& name) {
    if (shape_set_.insert(name).second) shape_order_.push_back(name);
  }

  void collect_names() {
    for (const TensorDecl& t : cascade_.inputs)
      for (const std::string& r : t.ranks) add_shape(r);
    for (const Partition& p : cascade_.partitions) {
      add_shape(p.rank);
      for (const std::string& part : p.parts) add_shape(part);
    }
    for (const Concatenation& c : cascade_.concatenations) {
      add_shape(c.rank);
      for (const std::string& part : c.parts) add_shape(part);
    }
    for (const ShapeDefault& s : cascade_.shapes) add_shape(s.name);
    for (const Partition& p : cascade_.partitions)
      if (p.parts.size() == 2) outer_parts_[p.parts[0]] = &p;
    for (const Concatenation& c : cascade_.concatenations) concatenated_[c.rank] = &c;
  }

  std::string known_names() const {
    std::vector<std::string> names = shape_order_;
    for (const Parameter& p : cascade_.parameters) names.push_back(p.name);
    return join(names, ", ");
  }

  void read_given(const std::map<std::string, std::string>& given) {
    for (const auto& [name, text] : given) {
      if (is_upper_start(name) && shape_set_.count(name)) {
        if (outer_parts_.count(name)) {
          const Partition& p = *outer_parts_.at(name);
          throw Error("shape " + name + " is derived (" + name + " = ceil(" + p.rank + " / " +
                      p.parts[1] + ")): set " + p.rank + " or " + p.parts[1] + " instead");
        }
        if (const auto c = concatenated_.find(name); c != concatenated_.end())
          throw Error("shape " + name + " is derived (" + name + " = " +
                      join(c->second->parts, " + ") + ", its concatenated parts): set " +
                      join(c->second->parts, ", ") + " instead");
        given_shapes_[name] = parse_shape_value(name, text);
      } else if (is_lower_start(name) && cascade_.find_parameter(name) != nullptr) {
        given_parameters_[name] = parse_parameter_value(name, text);
      } else {
        throw Error("unknown shape or parameter '" + name + "' (known: " + known_names() + ")");
      }
    }
  }

  static int64_t parse_shape_value(const std::string& name, const std::string& text) {
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || end == nullptr || *end != '\0' || errno == ERANGE || v < 1 ||
        std::isspace(static_cast<unsigned char>(text[0])))
      throw Error("shape " + name + " must be an integer >= 1, got '" + text + "'");
    return static_cast<int64_t>(v);
  }

  static double parse_parameter_value(const std::string& name, const std::string& text) {
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end == nullptr || *end != '\0' || std::isnan(v) ||
        std::isspace(static_cast<unsigned char>(text[0])))
      throw Error("parameter " + name + " must be a real number, got '" + text + "'");
    return v;
  }

  int64_t shape(const std::string& name, const SourceLocation& use) {
    if (const auto it = out_.shapes.find(name); it != out_.shapes.end()) return it->second;
    if (!shape_set_.count(name)) throw Error(use, "unknown shape '" + name + "'");
    if (std::find(in_progress_.begin(), in_progress_.end(), name) != in_progress_.end()) {
      std::vector<std::string> cycle(
          std::find(in_progress_.begin(), in_progress_.end(), name), in_progress_.end());
      cycle.push_back(name);
      throw Error(use, "shape defaults depend on each other in a cycle: " +
                           join(cycle, " -> "));
    }
    in_progress_.push_back(name);
    int64_t value = 0;
    if (const auto g = given_shapes_.find(name); g != given_shapes_.end()) {
      value = g->second;
    } else if (const auto o = outer_parts_.find(name); o != outer_parts_.end()) {
      const Partition& p = *o->second;
      const int64_t whole = shape(p.rank, p.loc);
      const int64_t tile = shape(p.parts[1], p.loc);
      value = whole / tile + (whole % tile != 0);  // both >= 1; no overflow near 2^63
    } else if (const auto c = concatenated_.find(name); c != concatenated_.end()) {
      for (const std::string& part : c->second->parts)
        value = checked_add(value, shape(part, c->second->loc),
                            "shape " + name + " (the sum of its parts)", c->second->loc);
    } else {
      const ShapeDefault* d = nullptr;
      for (const ShapeDefault& s : cascade_.shapes)
        if (s.name == name) d = &s;
      if (d == nullptr) throw Error("shape " + name + " is not set: pass --set " + name + "=<n>");
      value = shape_value(d->value);
      if (value < 1)
        throw Error(d->loc, "shape " + name + " = " + std::to_string(value) +
                                " (from its default '" + print_index(d->value) +
                                "') must be >= 1");
    }
    in_progress_.pop_back();
    out_.shapes[name] = value;
    return value;
  }

  // An index expression over shapes only (a default, a requirement), shapes resolved on
  // demand: a default may name shapes that are not resolved yet.
  int64_t shape_value(const IndexExpr& e) {
    const ShapeLookup lookup = [this](const std::string& n, const SourceLocation& loc) {
      return shape(n, loc);
    };
    return IndexProgram(e, cascade_, lookup, {}).evaluate_checked(nullptr);
  }

  double parameter(const std::string& name, const SourceLocation& use) {
    if (const auto it = out_.parameters.find(name); it != out_.parameters.end())
      return it->second;
    const Parameter* p = cascade_.find_parameter(name);
    if (p == nullptr) throw Error(use, "unknown parameter '" + name + "'");
    if (std::find(in_progress_.begin(), in_progress_.end(), name) != in_progress_.end()) {
      std::vector<std::string> cycle(
          std::find(in_progress_.begin(), in_progress_.end(), name), in_progress_.end());
      cycle.push_back(name);
      throw Error(use, "parameter defaults depend on each other in a cycle: " +
                           join(cycle, " -> "));
    }
    in_progress_.push_back(name);
    double value = 0;
    if (const auto g = given_parameters_.find(name); g != given_parameters_.end())
      value = g->second;
    else
      value = real(p->default_value);
    in_progress_.pop_back();
    out_.parameters[name] = value;
    return value;
  }

  // A parameter default: numbers, parameters, shapes and value functions.
  double real(const Expr& e) {
    auto arg = [&](size_t i) {
      if (i >= e.args.size()) throw Error(e.loc, "malformed expression: operand missing");
      return real(e.args[i]);
    };
    switch (e.op) {
      case ExprOp::Number: return e.number;
      case ExprOp::Parameter: return parameter(e.name, e.loc);
      case ExprOp::Index: {
        if (e.indices.size() != 1) throw Error(e.loc, "malformed index value");
        return static_cast<double>(shape_value(e.indices[0]));
      }
      case ExprOp::Neg: return -arg(0);
      case ExprOp::Add: return arg(0) + arg(1);
      case ExprOp::Sub: return arg(0) - arg(1);
      case ExprOp::Mul: return arg(0) * arg(1);
      case ExprOp::Div: return arg(0) / arg(1);
      case ExprOp::Call: {
        const ValueFunction* f = find_value_function(e.name);
        if (f == nullptr || static_cast<size_t>(f->arity) != e.args.size())
          throw Error(e.loc, "unknown function '" + e.name + "' or wrong number of arguments");
        const double a = arg(0);
        if (e.name == "exp") return std::exp(a);
        if (e.name == "sqrt") return std::sqrt(a);
        if (e.name == "log") return std::log(a);
        if (e.name == "abs") return std::fabs(a);
        if (e.name == "relu") return a > 0 ? a : 0.0;
        if (e.name == "elu1") return a > 0 ? a + 1.0 : std::exp(a);
        if (e.name == "sigmoid") return 1.0 / (1.0 + std::exp(-a));
        if (e.name == "tanh") return std::tanh(a);
        if (e.name == "softplus") return (a > 0 ? a : 0.0) + std::log1p(std::exp(-std::fabs(a)));
        const double b = arg(1);
        if (e.name == "max") return std::max(a, b);
        if (e.name == "min") return std::min(a, b);
        if (e.name == "pow") return std::pow(a, b);
        throw Error(e.loc, "unknown function '" + e.name + "'");
      }
      case ExprOp::Read:
      case ExprOp::Reduce:
      case ExprOp::Concat:
        break;
    }
    throw Error(e.loc, "a parameter default may only use numbers, shapes, parameters and "
                       "functions");
  }

  // A recurrence over a partition's inner part (RM[m1, m0+1, p] over m0 of M: [M1, M0]) runs
  // only the steps m1*M0 + m0 < M, so in a partial last tile the slices past its length are
  // never computed. A read of such a slice at a constant index (the last step, RM[m1, M0, p])
  // would silently read what was never written: it is an error naming the tensor and rank.
  void check_partial_tile_reads(const Expr& value) {
    std::vector<const Expr*> reads;
    collect_reads(value, reads);
    for (const Expr* read : reads) {
      const TensorInfo* info = cascade_.find_tensor(read->name);
      if (info == nullptr) continue;
      for (size_t k = 0; k < info->ranks.size() && k < read->indices.size(); ++k) {
        if (info->extra[k] == 0) continue;
        const Partition* partition = nullptr;
        for (const Partition& p : cascade_.partitions)
          if (p.parts.size() == 2 && p.parts[1] == info->ranks[k]) partition = &p;
        if (partition == nullptr) continue;
        const IndexExpr& index = read->indices[k];
        std::vector<std::string> variables;
        index_variables(index, variables);
        if (!variables.empty()) continue;
        const std::string& inner = partition->parts[1];
        const int64_t whole = shape(partition->rank, index.loc);
        const int64_t step = shape(inner, index.loc);
        if (step <= 0 || whole % step == 0) continue;
        const int64_t tail = whole % step;
        const int64_t slice = shape_value(index);
        if (slice <= tail) continue;
        std::vector<std::string> printed;
        for (const IndexExpr& i : read->indices) printed.push_back(print_index(i));
        throw Error(index.loc,
                    read->name + "[" + join(printed, ", ") + "] reads slice " +
                        std::to_string(slice) + " of " + read->name + "'s recurrence over rank " +
                        inner + " in every tile of " + partition->parts[0] + ", but " +
                        partition->rank + " = " + std::to_string(whole) +
                        " is not a multiple of " + inner + " = " + std::to_string(step) +
                        ": the last tile has " + std::to_string(tail) + " step" +
                        (tail == 1 ? "" : "s") + ", so its slice " + std::to_string(slice) +
                        " is never computed. Choose " + partition->rank + " and " + inner +
                        " so that " + inner + " divides " + partition->rank +
                        ", or reduce over the tile explicitly (e.g. max(" +
                        variable_of_rank(inner) + ": ...))");
      }
    }
  }

  void check(const ShapeRequirement& r) {
    std::set<std::string> symbols, parameters;
    std::function<void(const IndexExpr&)> collect = [&](const IndexExpr& e) {
      if (e.op == IndexOp::Symbol) symbols.insert(e.name);
      for (const IndexExpr& a : e.args) collect(a);
    };
    bool holds = false;
    if (r.value_condition) {  // real values: parameters, shapes, numbers
      const ValueCondition& v = *r.value_condition;
      holds = compare(real(v.lhs), v.op, real(v.rhs));  // false when either is NaN
      std::function<void(const Expr&)> collect_value = [&](const Expr& e) {
        if (e.op == ExprOp::Parameter) parameters.insert(e.name);
        for (const IndexExpr& i : e.indices) collect(i);
        for (const Expr& a : e.args) collect_value(a);
      };
      collect_value(v.lhs);
      collect_value(v.rhs);
    } else {
      const int64_t lhs = shape_value(r.condition.lhs);
      const int64_t rhs = shape_value(r.condition.rhs);
      holds = compare(lhs, r.condition.op, rhs);
      collect(r.condition.lhs);
      collect(r.condition.rhs);
    }
    if (holds) return;
    std::vector<std::string> values;
    for (const std::string& s : symbols) values.push_back(s + " = " + std::to_string(shape(s, r.loc)));
    for (const std::string& p : parameters) {
      char text[32];
      std::snprintf(text, sizeof text, "%g", parameter(p, r.loc));
      values.push_back(p + " = " + text);
    }
    std::string detail_text = "requirement '" + print_check(r) + "' fails";
    if (!values.empty()) detail_text += " with " + join(values, ", ");
    const SourceLocation where = r.value_condition ? r.value_condition->loc : r.condition.loc;
    throw Error(r.loc.known() ? r.loc : where, r.message + " (" + detail_text + ")");
  }

  const Cascade& cascade_;
  std::vector<std::string> shape_order_;
  std::set<std::string> shape_set_;
  std::map<std::string, const Partition*> outer_parts_;
  std::map<std::string, const Concatenation*> concatenated_;  // by concatenated rank
  std::map<std::string, int64_t> given_shapes_;
  std::map<std::string, double> given_parameters_;
  std::vector<std::string> in_progress_;
  Bindings out_;
};

}  // namespace

Einsum init_einsum(const Einsum& einsum) {
  Einsum init;
  init.output = einsum.output;
  init.output_indices = einsum.init->indices;
  init.value = einsum.init->value;
  init.loc = einsum.init->loc;
  return init;
}

Bindings resolve_bindings(const Cascade& cascade,
                          const std::map<std::string, std::string>& given) {
  return Resolver(cascade, given).run();
}

}  // namespace cascade
