// The `where:` expression language (sweep_expression.h): a recursive-descent parser into a
// tree, and its evaluation over a point's settings.
#include "sim/sweep/sweep_expression.h"

#include <fmt/core.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <vector>

#include "arch/support/names.h"

namespace cascade {

struct SweepExpression::Node {
  enum Kind { Number, String, Name, Unary, Binary, Call } kind;
  std::string op;  // operator, function or name; the literal for String
  double number = 0;
  size_t column = 0;  // 0-based offset in the text, for messages
  std::vector<std::shared_ptr<const Node>> args;
};

namespace {

using NodePtr = std::shared_ptr<const SweepExpression::Node>;
using Node = SweepExpression::Node;

struct Value {
  bool is_number = true;
  double number = 0;
  std::string text;
};

class Parser {
 public:
  Parser(const std::string& text, const SourceLocation& loc, const std::set<std::string>& names)
      : s_(text), loc_(loc), names_(names) {}

  NodePtr parse() {
    NodePtr n = parse_or();
    skip();
    if (pos_ < s_.size()) fail(pos_, "unexpected '" + s_.substr(pos_, 1) + "'");
    return n;
  }

 private:
  [[noreturn]] void fail(size_t at, const std::string& what) const {
    SourceLocation l = loc_;
    l.column += static_cast<int>(at);
    throw Error(l, "in 'where: " + s_ + "': " + what);
  }
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool eat(const std::string& token) {
    skip();
    if (s_.compare(pos_, token.size(), token) != 0) return false;
    // A word operator must end at a word boundary ("order" is not "or").
    const bool word = std::isalpha(static_cast<unsigned char>(token[0]));
    const size_t end = pos_ + token.size();
    if (word && end < s_.size() &&
        (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_' || s_[end] == '.'))
      return false;
    pos_ = end;
    return true;
  }
  NodePtr make(Node::Kind kind, const std::string& op, size_t at, std::vector<NodePtr> args) {
    auto n = std::make_shared<Node>();
    n->kind = kind;
    n->op = op;
    n->column = at;
    n->args = std::move(args);
    return n;
  }
  NodePtr parse_or() {
    NodePtr l = parse_and();
    for (size_t at; (skip(), at = pos_, eat("or"));) l = make(Node::Binary, "or", at, {l, parse_and()});
    return l;
  }
  NodePtr parse_and() {
    NodePtr l = parse_not();
    for (size_t at; (skip(), at = pos_, eat("and"));) l = make(Node::Binary, "and", at, {l, parse_not()});
    return l;
  }
  NodePtr parse_not() {
    skip();
    const size_t at = pos_;
    if (eat("not")) return make(Node::Unary, "not", at, {parse_not()});
    return parse_comparison();
  }
  NodePtr parse_comparison() {
    NodePtr l = parse_sum();
    skip();
    const size_t at = pos_;
    for (const char* op : {"<=", ">=", "==", "!=", "<", ">"})
      if (eat(op)) return make(Node::Binary, op, at, {l, parse_sum()});
    return l;
  }
  NodePtr parse_sum() {
    NodePtr l = parse_product();
    for (;;) {
      skip();
      const size_t at = pos_;
      if (eat("+")) l = make(Node::Binary, "+", at, {l, parse_product()});
      else if (eat("-")) l = make(Node::Binary, "-", at, {l, parse_product()});
      else return l;
    }
  }
  NodePtr parse_product() {
    NodePtr l = parse_unary();
    for (;;) {
      skip();
      const size_t at = pos_;
      if (eat("*")) l = make(Node::Binary, "*", at, {l, parse_unary()});
      else if (eat("/")) l = make(Node::Binary, "/", at, {l, parse_unary()});
      else if (eat("%")) l = make(Node::Binary, "%", at, {l, parse_unary()});
      else return l;
    }
  }
  NodePtr parse_unary() {
    skip();
    const size_t at = pos_;
    if (eat("-")) return make(Node::Unary, "-", at, {parse_unary()});
    return parse_primary();
  }
  NodePtr parse_primary() {
    skip();
    const size_t at = pos_;
    if (pos_ >= s_.size()) fail(at, "the expression ends where a value belongs");
    const char c = s_[pos_];
    if (eat("(")) {
      NodePtr n = parse_or();
      if (!eat(")")) fail(pos_, "expected ')'");
      return n;
    }
    if (c == '"' || c == '\'') {
      const size_t end = s_.find(c, pos_ + 1);
      if (end == std::string::npos) fail(at, "a string without its closing quote");
      NodePtr n = make(Node::String, s_.substr(pos_ + 1, end - pos_ - 1), at, {});
      pos_ = end + 1;
      return n;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      char* end = nullptr;
      const double v = std::strtod(s_.c_str() + pos_, &end);
      if (end == s_.c_str() + pos_) fail(at, "a bad number");
      pos_ = static_cast<size_t>(end - s_.c_str());
      auto n = std::make_shared<Node>();
      n->kind = Node::Number;
      n->number = v;
      n->column = at;
      return n;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t end = pos_;
      while (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) ||
                                 s_[end] == '_' || s_[end] == '.' || s_[end] == '-'))
        ++end;
      const std::string name = s_.substr(pos_, end - pos_);
      pos_ = end;
      if (name == "min" || name == "max") {
        if (!eat("(")) fail(pos_, "expected '(' after " + name);
        NodePtr a = parse_or();
        if (!eat(",")) fail(pos_, "expected ',' (" + name + " takes two values)");
        NodePtr b = parse_or();
        if (!eat(")")) fail(pos_, "expected ')'");
        return make(Node::Call, name, at, {a, b});
      }
      if (!names_.count(name)) {
        const std::string near = closest_name(name, std::vector<std::string>(names_.begin(), names_.end()));
        fail(at, "'" + name + "' is not a setting of this sweep" +
                     (near.empty() ? " (settings: " + join(std::vector<std::string>(names_.begin(), names_.end()), ", ") + ")"
                                   : " (did you mean '" + near + "'?)"));
      }
      return make(Node::Name, name, at, {});
    }
    fail(at, "unexpected '" + std::string(1, c) + "'");
  }

  const std::string& s_;
  SourceLocation loc_;
  const std::set<std::string>& names_;
  size_t pos_ = 0;
};

}  // namespace

SweepExpression::SweepExpression(const std::string& text, const SourceLocation& loc,
                                 const std::set<std::string>& names)
    : text_(text), loc_(loc), root_(Parser(text_, loc, names).parse()) {}

bool SweepExpression::holds(const std::map<std::string, std::string>& settings) const {
  auto fail = [&](const Node& n, const std::string& what) {
    SourceLocation l = loc_;
    l.column += static_cast<int>(n.column);
    throw Error(l, "in 'where: " + text_ + "': " + what);
  };
  std::function<Value(const Node&)> eval = [&](const Node& n) -> Value {
    auto num = [&](const Node& a) {
      const Value v = eval(a);
      if (!v.is_number) fail(a, "'" + v.text + "' is not a number");
      return v.number;
    };
    switch (n.kind) {
      case Node::Number: return {true, n.number, {}};
      case Node::String: return {false, 0, n.op};
      case Node::Name: {
        const std::string& text = settings.at(n.op);
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (!text.empty() && *end == '\0') return {true, v, {}};
        return {false, 0, text};
      }
      case Node::Unary:
        if (n.op == "-") return {true, -num(*n.args[0]), {}};
        return {true, num(*n.args[0]) != 0 ? 0.0 : 1.0, {}};
      case Node::Call: {
        const double a = num(*n.args[0]), b = num(*n.args[1]);
        return {true, n.op == "min" ? std::min(a, b) : std::max(a, b), {}};
      }
      case Node::Binary: break;
    }
    const std::string& op = n.op;
    if (op == "and") return {true, num(*n.args[0]) != 0 && num(*n.args[1]) != 0 ? 1.0 : 0.0, {}};
    if (op == "or") return {true, num(*n.args[0]) != 0 || num(*n.args[1]) != 0 ? 1.0 : 0.0, {}};
    if (op == "==" || op == "!=") {
      const Value a = eval(*n.args[0]), b = eval(*n.args[1]);
      bool equal;
      if (a.is_number && b.is_number) equal = a.number == b.number;
      else if (!a.is_number && !b.is_number) equal = a.text == b.text;
      else fail(n, "compares a number with a string");
      return {true, (equal == (op == "==")) ? 1.0 : 0.0, {}};
    }
    const double a = num(*n.args[0]), b = num(*n.args[1]);
    double r = 0;
    if (op == "+") r = a + b;
    else if (op == "-") r = a - b;
    else if (op == "*") r = a * b;
    else if (op == "/" || op == "%") {
      if (b == 0) fail(n, "division by zero");
      r = op == "/" ? a / b : std::fmod(a, b);
    } else if (op == "<") r = a < b;
    else if (op == "<=") r = a <= b;
    else if (op == ">") r = a > b;
    else if (op == ">=") r = a >= b;
    return {true, r, {}};
  };
  const Value v = eval(*root_);
  if (!v.is_number) fail(*root_, "is the string '" + v.text + "', not a condition");
  return v.number != 0;
}

}  // namespace cascade
