// Printing cascades back to their text form. Every function here prints text that parses
// back to an equal IR: numbers round-trip exactly, and parentheses are kept wherever the
// parser would otherwise build a different tree.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mappings/cascade/parser.h"

namespace cascade {

namespace {

// Precedence levels: 1 = + -, 2 = * / %, 3 = unary minus (and negative literals), 4 = atom.
int level(const IndexExpr& e) {
  switch (e.op) {
    case IndexOp::Add:
    case IndexOp::Sub: return 1;
    case IndexOp::Mul:
    case IndexOp::Div:
    case IndexOp::Mod: return 2;
    case IndexOp::Neg: return 3;
    case IndexOp::Constant: return e.value < 0 ? 3 : 4;
    default: return 4;
  }
}

int level(const Expr& e) {
  switch (e.op) {
    case ExprOp::Add:
    case ExprOp::Sub: return 1;
    case ExprOp::Mul:
    case ExprOp::Div: return 2;
    case ExprOp::Neg: return 3;
    case ExprOp::Number: return std::signbit(e.number) ? 3 : 4;
    default: return 4;
  }
}

std::string parenthesized(const std::string& text, bool wrap) {
  return wrap ? "(" + text + ")" : text;
}

// Unary minus. A negated negation or negative literal is printed `- -x`, not `-(-x)`: the
// parser nests one level per minus but three per parenthesis, so deep chains that parse
// must print within the same nesting limit. A non-negative literal keeps its parentheses:
// `-3` would read back as the literal -3, not as a negation.
std::string negated(const std::string& operand, bool wrap) {
  if (wrap) return "-(" + operand + ")";
  return (!operand.empty() && operand[0] == '-' ? "- " : "-") + operand;
}

// The shortest decimal text that reads back as exactly `v`.
std::string format_number(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";  // not expressible in the grammar
  char buffer[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, v);
    if (std::strtod(buffer, nullptr) == v) break;
  }
  return buffer;
}

const char* compare_text(CompareOp op) {
  switch (op) {
    case CompareOp::Less: return "<";
    case CompareOp::LessEqual: return "<=";
    case CompareOp::Greater: return ">";
    case CompareOp::GreaterEqual: return ">=";
    case CompareOp::Equal: return "==";
    case CompareOp::NotEqual: return "!=";
  }
  return "?";
}

std::string index_list(const std::vector<IndexExpr>& indices) {
  std::string out = "[";
  for (size_t i = 0; i < indices.size(); ++i) {
    if (i > 0) out += ", ";
    out += print_index(indices[i]);
  }
  return out + "]";
}

std::string binary(const IndexExpr& e, const char* op) {
  if (e.args.size() != 2) return "?";
  const int mine = level(e);
  return parenthesized(print_index(e.args[0]), level(e.args[0]) < mine) + op +
         parenthesized(print_index(e.args[1]), level(e.args[1]) <= mine);
}

std::string binary(const Expr& e, const char* op) {
  if (e.args.size() != 2) return "?";
  const int mine = level(e);
  return parenthesized(print_expr(e.args[0]), level(e.args[0]) < mine) + op +
         parenthesized(print_expr(e.args[1]), level(e.args[1]) <= mine);
}

// A YAML scalar: plain when that is unambiguous, else double-quoted.
std::string yaml_scalar(const std::string& s) {
  bool plain = !s.empty() && (std::isalnum(static_cast<unsigned char>(s[0])) || s[0] == '_');
  for (char ch : s)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '-'))
      plain = false;
  static const char* const special[] = {"null", "Null", "NULL", "true", "True", "TRUE",
                                        "false", "False", "FALSE", "yes", "Yes", "YES",
                                        "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"};
  for (const char* word : special)
    if (s == word) plain = false;
  if (plain) return s;
  std::string out = "\"";
  for (char ch : s) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\x%02X", static_cast<unsigned char>(ch));
          out += buffer;
        } else {
          out.push_back(ch);
        }
    }
  }
  return out + "\"";
}

std::string name_list(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += yaml_scalar(names[i]);
  }
  return out + "]";
}

std::string einsum_lhs(const Einsum& e) { return e.output + index_list(e.output_indices); }

std::string einsum_rhs(const Einsum& e) {
  std::string out = "= " + print_expr(e.value);
  for (size_t i = 0; i < e.where.size(); ++i)
    out += (i == 0 ? " where " : " and ") + print_condition(e.where[i]);
  if (e.init)
    out += " init " + e.output + index_list(e.init->indices) + " = " +
           print_expr(e.init->value);
  return out;
}

}  // namespace

std::string print_index(const IndexExpr& e) {
  switch (e.op) {
    case IndexOp::Constant: return std::to_string(e.value);
    case IndexOp::Variable:
    case IndexOp::Symbol: return e.name;
    case IndexOp::Add: return binary(e, " + ");
    case IndexOp::Sub: return binary(e, " - ");
    case IndexOp::Mul: return binary(e, "*");
    case IndexOp::Div: return binary(e, "/");
    case IndexOp::Mod: return binary(e, " % ");
    case IndexOp::Neg: {
      if (e.args.size() != 1) return "?";
      const IndexExpr& a = e.args[0];
      return negated(print_index(a),
                     level(a) < 3 || (a.op == IndexOp::Constant && a.value >= 0));
    }
    case IndexOp::Call: {
      std::string out = e.name + "(";
      for (size_t i = 0; i < e.args.size(); ++i) {
        if (i > 0) out += ", ";
        out += print_index(e.args[i]);
      }
      return out + ")";
    }
  }
  return "?";
}

std::string print_expr(const Expr& e) {
  switch (e.op) {
    case ExprOp::Number: return format_number(e.number);
    case ExprOp::Parameter: return e.name;
    case ExprOp::Index: {
      if (e.indices.size() != 1) return "index(?)";
      const IndexExpr& i = e.indices[0];
      if (i.op == IndexOp::Variable || i.op == IndexOp::Symbol) return i.name;
      return "index(" + print_index(i) + ")";
    }
    case ExprOp::Read: return e.name + index_list(e.indices);
    case ExprOp::Neg: {
      if (e.args.size() != 1) return "?";
      const Expr& a = e.args[0];
      return negated(print_expr(a),
                     level(a) < 3 || (a.op == ExprOp::Number && !std::signbit(a.number)));
    }
    case ExprOp::Add: return binary(e, " + ");
    case ExprOp::Sub: return binary(e, " - ");
    case ExprOp::Mul: return binary(e, " * ");
    case ExprOp::Div: return binary(e, " / ");
    case ExprOp::Call: {
      std::string out = e.name + "(";
      for (size_t i = 0; i < e.args.size(); ++i) {
        if (i > 0) out += ", ";
        out += print_expr(e.args[i]);
      }
      return out + ")";
    }
    case ExprOp::Reduce: {
      std::string out = e.name + "(";
      for (size_t i = 0; i < e.reduce_vars.size(); ++i) {
        if (i > 0) out += ", ";
        out += e.reduce_vars[i];
      }
      return out + ": " + (e.args.empty() ? std::string("?") : print_expr(e.args[0])) + ")";
    }
    case ExprOp::Concat: {
      std::string out = "concat(" + (e.indices.size() == 1 ? print_index(e.indices[0]) : "?") + ":";
      for (size_t i = 0; i < e.args.size(); ++i) out += (i > 0 ? ", " : " ") + print_expr(e.args[i]);
      return out + ")";
    }
  }
  return "?";
}

std::string print_condition(const Condition& c) {
  return print_index(c.lhs) + " " + compare_text(c.op) + " " + print_index(c.rhs);
}

std::string print_value_condition(const ValueCondition& c) {
  return print_expr(c.lhs) + " " + compare_text(c.op) + " " + print_expr(c.rhs);
}

std::string print_check(const ShapeRequirement& r) {
  return r.value_condition ? print_value_condition(*r.value_condition)
                           : print_condition(r.condition);
}

std::string print_einsum(const Einsum& e) { return einsum_lhs(e) + " " + einsum_rhs(e); }

std::string print_cascade(const Cascade& c) {
  std::string out;
  out += "name: " + yaml_scalar(c.name) + "\n";
  if (!c.description.empty()) out += "description: " + yaml_scalar(c.description) + "\n";
  if (!c.citations.empty()) {
    out += "citations:\n";
    for (const std::string& citation : c.citations) out += "  - " + yaml_scalar(citation) + "\n";
  }
  if (!c.reference.empty()) {
    out += "reference:\n";
    for (const auto& [key, value] : c.reference)
      out += "  " + yaml_scalar(key) + ": " + yaml_scalar(value) + "\n";
  }
  if (!c.workload_ranks.empty()) {
    out += "workload_ranks:\n";
    for (const auto& [key, rank] : c.workload_ranks)
      out += "  " + yaml_scalar(key) + ": " + yaml_scalar(rank) + "\n";
  }
  if (!c.inputs.empty()) {
    out += "inputs:\n";
    for (const TensorDecl& t : c.inputs)
      out += "  " + yaml_scalar(t.name) + ": " + name_list(t.ranks) + "\n";
  }
  if (!c.partitions.empty()) {
    out += "partition:\n";
    for (const Partition& p : c.partitions)
      out += "  " + yaml_scalar(p.rank) + ": " + name_list(p.parts) + "\n";
  }
  if (!c.concatenations.empty()) {
    out += "concat:\n";
    for (const Concatenation& cat : c.concatenations)
      out += "  " + yaml_scalar(cat.rank) + ": " + name_list(cat.parts) + "\n";
  }
  if (!c.shapes.empty()) {
    out += "shapes:\n";
    for (const ShapeDefault& s : c.shapes)
      out += "  " + yaml_scalar(s.name) + ": " + yaml_scalar(print_index(s.value)) + "\n";
  }
  if (!c.requirements.empty()) {
    out += "requirements:\n";
    for (const ShapeRequirement& r : c.requirements) {
      out += "  - check: " + yaml_scalar(print_check(r)) + "\n";
      out += "    message: " + yaml_scalar(r.message) + "\n";
    }
  }
  if (!c.parameters.empty()) {
    out += "parameters:\n";
    for (const Parameter& p : c.parameters)
      out += "  " + yaml_scalar(p.name) + ": " + yaml_scalar(print_expr(p.default_value)) + "\n";
  }
  if (!c.index_functions.empty()) {
    out += "index_functions:\n";
    for (const IndexFunction& f : c.index_functions) {
      std::string head = f.name + "(";
      for (size_t i = 0; i < f.params.size(); ++i) head += (i > 0 ? ", " : "") + f.params[i];
      head += ")";
      out += "  " + yaml_scalar(head) + ": " + yaml_scalar(print_index(f.body)) + "\n";
    }
  }
  if (!c.formats.empty()) {
    out += "formats:\n";
    for (const auto& [tensor, format] : c.formats)
      out += "  " + yaml_scalar(tensor) + ": " + yaml_scalar(format) + "\n";
  }
  out += "einsums: |\n";
  size_t width = 0;
  for (const Einsum& e : c.einsums) width = std::max(width, einsum_lhs(e).size());
  for (const Einsum& e : c.einsums) {
    const std::string lhs = einsum_lhs(e);
    out += "  " + lhs + std::string(width - lhs.size() + 1, ' ') + einsum_rhs(e) + "\n";
  }
  out += "outputs: " + name_list(c.outputs) + "\n";
  return out;
}

}  // namespace cascade
