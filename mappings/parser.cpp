// Cascade files: YAML structure (yaml-cpp) and the Einsum / expression grammar (a small
// hand-written lexer and recursive-descent parser). The grammar is in mappings/README.md.
#include "mappings/parser.h"
#include "mappings/parser_detail.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <tuple>

namespace cascade {

using detail::is_lower_name;
using detail::is_name_char;
using detail::is_upper_name;

namespace {

// ---------------------------------------------------------------------------------------
// Lexer.

enum class Tok {
  End,
  Upper,   // BQK, M0: tensors, ranks, shapes
  Lower,   // m1, scale, exp: variables, parameters, functions
  Number,  // 3, 1e-6, .5
  Where,
  And,
  Init,
  Inf,
  LBracket,
  RBracket,
  LParen,
  RParen,
  Comma,
  Colon,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  Assign,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
};

struct Token {
  Tok kind = Tok::End;
  std::string text;
  int offset = 0;  // 0-based offset in the parsed text
};


std::string describe_char(char ch) {
  const unsigned char u = static_cast<unsigned char>(ch);
  if (std::isprint(u)) return std::string("'") + ch + "'";
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "byte 0x%02X", u);
  return buffer;
}

class Lexer {
 public:
  Lexer(const std::string& text, SourceLocation base) : text_(text), base_(std::move(base)) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    size_t i = 0;
    size_t last_end = 0;  // just past the last token: where "end of line" is reported
    while (i < text_.size()) {
      const char ch = text_[i];
      if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
        ++i;
        continue;
      }
      if (ch == '#') break;  // comment to the end
      Token t;
      t.offset = static_cast<int>(i);
      if (std::isalpha(static_cast<unsigned char>(ch))) {
        size_t j = i;
        while (j < text_.size() && is_name_char(text_[j])) ++j;
        t.text = text_.substr(i, j - i);
        t.kind = classify_name(t.text, t.offset);
        i = j;
      } else if (std::isdigit(static_cast<unsigned char>(ch)) ||
                 (ch == '.' && i + 1 < text_.size() &&
                  std::isdigit(static_cast<unsigned char>(text_[i + 1])))) {
        size_t j = i;
        while (j < text_.size() && std::isdigit(static_cast<unsigned char>(text_[j]))) ++j;
        if (j < text_.size() && text_[j] == '.') {
          ++j;
          while (j < text_.size() && std::isdigit(static_cast<unsigned char>(text_[j]))) ++j;
        }
        if (j < text_.size() && (text_[j] == 'e' || text_[j] == 'E')) {
          size_t k = j + 1;
          if (k < text_.size() && (text_[k] == '+' || text_[k] == '-')) ++k;
          if (k < text_.size() && std::isdigit(static_cast<unsigned char>(text_[k]))) {
            while (k < text_.size() && std::isdigit(static_cast<unsigned char>(text_[k]))) ++k;
            j = k;
          }
        }
        if (j < text_.size() && (is_name_char(text_[j]) || text_[j] == '.')) {
          size_t k = j;
          while (k < text_.size() && (is_name_char(text_[k]) || text_[k] == '.')) ++k;
          throw Error(at(t.offset), "malformed number '" + text_.substr(i, k - i) + "'");
        }
        t.kind = Tok::Number;
        t.text = text_.substr(i, j - i);
        i = j;
      } else {
        const char next = i + 1 < text_.size() ? text_[i + 1] : '\0';
        auto two = [&](Tok kind, const char* s) {
          t.kind = kind;
          t.text = s;
          i += 2;
        };
        auto one = [&](Tok kind) {
          t.kind = kind;
          t.text = std::string(1, ch);
          i += 1;
        };
        switch (ch) {
          case '[': one(Tok::LBracket); break;
          case ']': one(Tok::RBracket); break;
          case '(': one(Tok::LParen); break;
          case ')': one(Tok::RParen); break;
          case ',': one(Tok::Comma); break;
          case ':': one(Tok::Colon); break;
          case '+': one(Tok::Plus); break;
          case '-': one(Tok::Minus); break;
          case '*': one(Tok::Star); break;
          case '/': one(Tok::Slash); break;
          case '%': one(Tok::Percent); break;
          case '=':
            if (next == '=') two(Tok::Eq, "==");
            else one(Tok::Assign);
            break;
          case '!':
            if (next == '=') two(Tok::Ne, "!=");
            else throw Error(at(t.offset), "unexpected character '!' (did you mean '!='?)");
            break;
          case '<':
            if (next == '=') two(Tok::Le, "<=");
            else one(Tok::Lt);
            break;
          case '>':
            if (next == '=') two(Tok::Ge, ">=");
            else one(Tok::Gt);
            break;
          default:
            throw Error(at(t.offset), "unexpected character " + describe_char(ch));
        }
      }
      last_end = i;
      out.push_back(std::move(t));
    }
    Token end;
    end.kind = Tok::End;
    end.offset = static_cast<int>(last_end);
    out.push_back(end);
    return out;
  }

 private:
  SourceLocation at(int offset) const {
    SourceLocation loc = base_;
    if (loc.known()) loc.column += offset;
    return loc;
  }

  Tok classify_name(const std::string& name, int offset) const {
    bool upper = false, lower = false;
    for (char ch : name) {
      if (std::isupper(static_cast<unsigned char>(ch))) upper = true;
      if (std::islower(static_cast<unsigned char>(ch))) lower = true;
    }
    if (upper && lower)
      throw Error(at(offset), "name '" + name +
                                  "' mixes upper- and lower-case letters (tensors, ranks and "
                                  "shapes are upper-case; variables, parameters and "
                                  "functions lower-case)");
    if (upper) return Tok::Upper;
    if (name == "where") return Tok::Where;
    if (name == "and") return Tok::And;
    if (name == "init") return Tok::Init;
    if (name == "inf") return Tok::Inf;
    return Tok::Lower;
  }

  const std::string& text_;
  SourceLocation base_;
};

// ---------------------------------------------------------------------------------------
// Recursive-descent parser for Einsums, value and index expressions and conditions.

class Parser {
 public:
  Parser(const std::string& text, const SourceLocation& where)
      : base_(where), tokens_(Lexer(text, where).run()) {}

  Einsum einsum() {
    Einsum e;
    const Token& head = peek();
    e.loc = at(head);
    if (head.kind == Tok::End) throw Error(at(head), "empty Einsum");
    if (head.kind != Tok::Upper)
      throw Error(at(head), "an Einsum starts with its output tensor (an upper-case name), got " +
                                describe(head));
    e.output = next().text;
    e.output_indices = bracket_indices(e.output);
    const Token& assign = peek();
    if (assign.kind != Tok::Assign)
      throw Error(at(assign), "expected '=' after " + e.output + "[...], got " + describe(assign));
    next();
    e.value = expr();
    if (peek().kind == Tok::Where) {
      next();
      e.where.push_back(condition());
      while (peek().kind == Tok::And) {
        next();
        e.where.push_back(condition());
      }
    }
    if (peek().kind == Tok::Init) {
      const Token& keyword = next();
      Init init;
      init.loc = at(keyword);
      const Token& name = peek();
      if (name.kind != Tok::Upper)
        throw Error(at(name), "expected the output tensor after 'init', got " + describe(name));
      if (name.text != e.output)
        throw Error(at(name), "init must give the initial value of " + e.output +
                                  " (the Einsum's output), not of " + name.text);
      next();
      init.indices = bracket_indices(name.text);
      const Token& eq = peek();
      if (eq.kind != Tok::Assign)
        throw Error(at(eq), "expected '=' after init " + name.text + "[...], got " + describe(eq));
      next();
      init.value = expr();
      e.init = std::move(init);
    }
    finish("Einsum");
    return e;
  }

  Expr whole_expr() {
    if (peek().kind == Tok::End) throw Error(at(peek()), "empty expression");
    Expr e = expr();
    finish("expression");
    return e;
  }

  IndexExpr whole_index() {
    if (peek().kind == Tok::End) throw Error(at(peek()), "empty index expression");
    IndexExpr e = index();
    finish("index expression");
    return e;
  }

  Condition whole_condition() {
    if (peek().kind == Tok::End) throw Error(at(peek()), "empty condition");
    Condition c = condition();
    finish("condition");
    return c;
  }

  // Does the text name a parameter (a lower-case name that is not a function call)? A
  // requirement's check that does compares real values (whole_value_condition).
  bool names_a_parameter() const {
    for (size_t i = 0; i + 1 < tokens_.size(); ++i)
      if (tokens_[i].kind == Tok::Lower && tokens_[i + 1].kind != Tok::LParen) return true;
    return false;
  }

  // expr ('<' | '<=' | ...) expr: a comparison of real values.
  ValueCondition whole_value_condition() {
    if (peek().kind == Tok::End) throw Error(at(peek()), "empty condition");
    ValueCondition c;
    c.loc = at(peek());
    c.lhs = expr();
    c.op = comparison();
    c.rhs = expr();
    finish("condition");
    return c;
  }

  // `start(p, q)`: the head of an index function definition.
  std::pair<std::string, std::vector<std::string>> function_head(SourceLocation* name_loc) {
    const Token& name = peek();
    if (name.kind != Tok::Lower)
      throw Error(at(name), "an index function is written 'name(param, ...)' with a "
                            "lower-case name, got " + describe(name));
    *name_loc = at(name);
    next();
    expect(Tok::LParen, "'(' after the function name");
    std::vector<std::string> params;
    if (peek().kind != Tok::RParen) {
      while (true) {
        const Token& p = peek();
        if (p.kind != Tok::Lower)
          throw Error(at(p), "expected a lower-case parameter name, got " + describe(p));
        for (const std::string& q : params)
          if (q == p.text) throw Error(at(p), "parameter '" + p.text + "' is listed twice");
        params.push_back(next().text);
        if (peek().kind != Tok::Comma) break;
        next();
      }
    }
    expect(Tok::RParen, "')' after the parameters");
    finish("function head");
    return {name.text, params};
  }

 private:
  const Token& peek(size_t ahead = 0) const {
    const size_t i = std::min(pos_ + ahead, tokens_.size() - 1);
    return tokens_[i];
  }
  const Token& next() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  SourceLocation at(const Token& t) const {
    SourceLocation loc = base_;
    if (loc.known()) loc.column += t.offset;
    return loc;
  }
  static std::string describe(const Token& t) {
    if (t.kind == Tok::End) return "end of line";
    return "'" + t.text + "'";
  }
  const Token& expect(Tok kind, const std::string& what) {
    const Token& t = peek();
    if (t.kind != kind) throw Error(at(t), "expected " + what + ", got " + describe(t));
    return next();
  }
  void close(Tok kind, const Token& open) {
    const Token& t = peek();
    if (t.kind == kind) {
      next();
      return;
    }
    const char* closer = kind == Tok::RParen ? "')'" : "']'";
    throw Error(at(t), std::string("expected ") + closer + " to close the '" + open.text +
                           "' at column " + std::to_string(at(open).column) + ", got " +
                           describe(t));
  }
  void finish(const std::string& what) {
    const Token& t = peek();
    if (t.kind == Tok::End) return;
    std::string hint;
    if (t.kind == Tok::RParen || t.kind == Tok::RBracket)
      hint = " (unbalanced '" + t.text + "')";
    else if (t.kind == Tok::Upper || t.kind == Tok::Lower || t.kind == Tok::Number ||
             t.kind == Tok::LParen || t.kind == Tok::Inf)
      hint = " (missing operator?)";
    throw Error(at(t), "unexpected " + describe(t) + " after the end of the " + what + hint);
  }

  // NAME '[' [index {',' index}] ']'; the name is already consumed.
  std::vector<IndexExpr> bracket_indices(const std::string& tensor) {
    const Token& open = peek();
    if (open.kind != Tok::LBracket)
      throw Error(at(open), "expected '[' after tensor " + tensor + " (tensors are always "
                            "written with brackets), got " + describe(open));
    next();
    std::vector<IndexExpr> out;
    if (peek().kind == Tok::RBracket) {
      next();
      return out;
    }
    while (true) {
      out.push_back(index());
      if (peek().kind != Tok::Comma) break;
      next();
    }
    close(Tok::RBracket, open);
    return out;
  }

  // ---- index expressions ----
  IndexExpr index() {
    const Nesting nesting = nest();
    IndexExpr left = index_term();
    while (peek().kind == Tok::Plus || peek().kind == Tok::Minus) {
      const Token& op = next();
      IndexExpr node;
      node.op = op.kind == Tok::Plus ? IndexOp::Add : IndexOp::Sub;
      node.loc = at(op);
      node.args.push_back(std::move(left));
      node.args.push_back(index_term());
      left = std::move(node);
    }
    return left;
  }

  IndexExpr index_term() {
    IndexExpr left = index_unary();
    while (peek().kind == Tok::Star || peek().kind == Tok::Slash ||
           peek().kind == Tok::Percent) {
      const Token& op = next();
      IndexExpr node;
      node.op = op.kind == Tok::Star  ? IndexOp::Mul
                : op.kind == Tok::Slash ? IndexOp::Div
                                        : IndexOp::Mod;
      node.loc = at(op);
      node.args.push_back(std::move(left));
      node.args.push_back(index_unary());
      left = std::move(node);
    }
    return left;
  }

  IndexExpr index_unary() {
    const Nesting nesting = nest();
    if (peek().kind != Tok::Minus) return index_primary();
    const Token& minus = next();
    if (peek().kind == Tok::Number) {  // -3 is the constant -3
      IndexExpr c = integer(next(), true);
      c.loc = at(minus);
      return c;
    }
    IndexExpr node;
    node.op = IndexOp::Neg;
    node.loc = at(minus);
    node.args.push_back(index_unary());
    return node;
  }

  IndexExpr integer(const Token& t, bool negative) {
    IndexExpr c;
    c.op = IndexOp::Constant;
    c.loc = at(t);
    for (char ch : t.text)
      if (!std::isdigit(static_cast<unsigned char>(ch)))
        throw Error(at(t), "index expressions take integers, got '" + t.text + "'");
    errno = 0;
    const std::string text = (negative ? "-" : "") + t.text;
    const long long v = std::strtoll(text.c_str(), nullptr, 10);
    if (errno == ERANGE) throw Error(at(t), "integer " + t.text + " is too large");
    c.value = static_cast<int64_t>(v);
    return c;
  }

  IndexExpr index_primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::Number:
        next();
        return integer(t, false);
      case Tok::Lower: {
        next();
        IndexExpr e;
        e.loc = at(t);
        e.name = t.text;
        if (peek().kind == Tok::LParen) {
          const Token& open = next();
          e.op = IndexOp::Call;
          if (peek().kind != Tok::RParen) {
            while (true) {
              e.args.push_back(index());
              if (peek().kind != Tok::Comma) break;
              next();
            }
          }
          close(Tok::RParen, open);
          return e;
        }
        if (peek().kind == Tok::LBracket)
          throw Error(at(t), "'" + t.text + "[' : tensor names are upper-case");
        e.op = IndexOp::Variable;
        return e;
      }
      case Tok::Upper: {
        next();
        if (peek().kind == Tok::LBracket)
          throw Error(at(t), "tensor " + t.text + " cannot be read inside an index expression");
        if (peek().kind == Tok::LParen)
          throw Error(at(t), "'" + t.text + "(' : function names are lower-case");
        IndexExpr e;
        e.op = IndexOp::Symbol;
        e.name = t.text;
        e.loc = at(t);
        return e;
      }
      case Tok::LParen: {
        const Token& open = next();
        IndexExpr e = index();
        close(Tok::RParen, open);
        return e;
      }
      case Tok::Inf:
        throw Error(at(t), "'inf' is not an integer: index expressions take integers");
      default:
        throw Error(at(t), "expected an index (integer, variable, shape, function call or "
                           "'('), got " + describe(t));
    }
  }

  Condition condition() {
    Condition c;
    c.loc = at(peek());
    c.lhs = index();
    c.op = comparison();
    c.rhs = index();
    return c;
  }

  // The comparison operator of a condition (consumed).
  CompareOp comparison() {
    const Token& op = peek();
    CompareOp out = CompareOp::Less;
    switch (op.kind) {
      case Tok::Lt: out = CompareOp::Less; break;
      case Tok::Le: out = CompareOp::LessEqual; break;
      case Tok::Gt: out = CompareOp::Greater; break;
      case Tok::Ge: out = CompareOp::GreaterEqual; break;
      case Tok::Eq: out = CompareOp::Equal; break;
      case Tok::Ne: out = CompareOp::NotEqual; break;
      case Tok::Assign:
        throw Error(at(op), "'=' in a condition: compare with '=='");
      default:
        throw Error(at(op), "expected a comparison (<, <=, >, >=, ==, !=), got " + describe(op));
    }
    next();
    return out;
  }

  // ---- value expressions ----
  Expr expr() {
    const Nesting nesting = nest();
    Expr left = term();
    while (peek().kind == Tok::Plus || peek().kind == Tok::Minus) {
      const Token& op = next();
      Expr node;
      node.op = op.kind == Tok::Plus ? ExprOp::Add : ExprOp::Sub;
      node.loc = at(op);
      node.args.push_back(std::move(left));
      node.args.push_back(term());
      left = std::move(node);
    }
    return left;
  }

  Expr term() {
    Expr left = unary();
    while (peek().kind == Tok::Star || peek().kind == Tok::Slash ||
           peek().kind == Tok::Percent) {
      const Token& op = next();
      if (op.kind == Tok::Percent)
        throw Error(at(op), "'%' is only allowed in index expressions");
      Expr node;
      node.op = op.kind == Tok::Star ? ExprOp::Mul : ExprOp::Div;
      node.loc = at(op);
      node.args.push_back(std::move(left));
      node.args.push_back(unary());
      left = std::move(node);
    }
    return left;
  }

  Expr unary() {
    const Nesting nesting = nest();
    if (peek().kind != Tok::Minus) return primary();
    const Token& minus = next();
    if (peek().kind == Tok::Number || peek().kind == Tok::Inf) {  // -3, -inf: literals
      Expr n = number(next());
      n.number = -n.number;
      n.loc = at(minus);
      return n;
    }
    Expr node;
    node.op = ExprOp::Neg;
    node.loc = at(minus);
    node.args.push_back(unary());
    return node;
  }

  Expr number(const Token& t) {
    Expr n;
    n.op = ExprOp::Number;
    n.loc = at(t);
    if (t.kind == Tok::Inf) {
      n.number = std::numeric_limits<double>::infinity();
      return n;
    }
    errno = 0;
    n.number = std::strtod(t.text.c_str(), nullptr);
    if (errno == ERANGE && std::isinf(n.number))
      throw Error(at(t), "number " + t.text + " is too large (write inf)");
    return n;
  }

  // Is the token after '(' the start of `var {, var} :` (an explicit reduction)?
  bool reduction_ahead() const {
    size_t k = 0;
    while (true) {
      if (peek(k).kind != Tok::Lower) return false;
      ++k;
      if (peek(k).kind == Tok::Colon) return true;
      if (peek(k).kind != Tok::Comma) return false;
      ++k;
    }
  }

  Expr primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::Number:
      case Tok::Inf:
        next();
        return number(t);
      case Tok::Upper: {
        next();
        Expr e;
        e.loc = at(t);
        e.name = t.text;
        if (peek().kind == Tok::LBracket) {
          e.op = ExprOp::Read;
          e.indices = bracket_indices(t.text);
          return e;
        }
        if (peek().kind == Tok::LParen)
          throw Error(at(t), "'" + t.text + "(' : function names are lower-case");
        e.op = ExprOp::Index;  // a shape used as a value
        e.name.clear();
        IndexExpr symbol;
        symbol.op = IndexOp::Symbol;
        symbol.name = t.text;
        symbol.loc = at(t);
        e.indices.push_back(std::move(symbol));
        return e;
      }
      case Tok::Lower: {
        next();
        Expr e;
        e.loc = at(t);
        if (peek().kind == Tok::LBracket)
          throw Error(at(t), "'" + t.text + "[' : tensor names are upper-case");
        if (peek().kind != Tok::LParen) {
          // A parameter or a rank variable used as a value; parse_cascade_text turns
          // declared parameters into ExprOp::Parameter.
          e.op = ExprOp::Index;
          IndexExpr var;
          var.op = IndexOp::Variable;
          var.name = t.text;
          var.loc = at(t);
          e.indices.push_back(std::move(var));
          return e;
        }
        const Token& open = next();
        if (t.text == "index") {  // index(<index expression>): an integer used as a value
          e.op = ExprOp::Index;
          e.indices.push_back(index());
          close(Tok::RParen, open);
          return e;
        }
        const bool reducer = t.text == "sum" || t.text == "max" || t.text == "min";
        if (reducer && reduction_ahead()) {
          e.op = ExprOp::Reduce;
          e.name = t.text;
          while (true) {
            const Token& v = next();
            for (const std::string& seen : e.reduce_vars)
              if (seen == v.text)
                throw Error(at(v), "reduction variable '" + v.text + "' is listed twice");
            e.reduce_vars.push_back(v.text);
            if (next().kind == Tok::Colon) break;  // else the comma
          }
          e.args.push_back(expr());
          close(Tok::RParen, open);
          return e;
        }
        if (t.text == "sum")
          throw Error(at(t), "sum is a reduction: write sum(var, ...: expression)");
        e.op = ExprOp::Call;
        e.name = t.text;
        if (peek().kind != Tok::RParen) {
          while (true) {
            e.args.push_back(expr());
            if (peek().kind != Tok::Comma) break;
            next();
          }
        }
        close(Tok::RParen, open);
        return e;
      }
      case Tok::LParen: {
        const Token& open = next();
        Expr e = expr();
        close(Tok::RParen, open);
        return e;
      }
      case Tok::Where:
      case Tok::And:
      case Tok::Init:
        throw Error(at(t), "expected a value, got the keyword '" + t.text + "'");
      default:
        throw Error(at(t), "expected a value (number, tensor read, name, function call or "
                           "'('), got " + describe(t));
    }
  }

  // Bounds the recursion on pathological input (thousands of nested parentheses).
  static constexpr int kMaxNesting = 200;
  struct Nesting {
    int& depth;
    ~Nesting() { --depth; }
  };
  Nesting nest() {
    if (++depth_ > kMaxNesting) {
      --depth_;
      throw Error(at(peek()), "expression nested too deeply (more than " +
                                  std::to_string(kMaxNesting) + " levels)");
    }
    return Nesting{depth_};
  }

  SourceLocation base_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

// ---------------------------------------------------------------------------------------
// YAML structure.

const std::vector<std::string>& top_level_keys() {
  static const std::vector<std::string> keys = {
      "name",       "description",     "citations", "inputs",  "partition", "shapes",
      "requirements", "parameters", "index_functions", "formats", "einsums",  "outputs",
      "reference"};
  return keys;
}


class YamlReader {
 public:
  YamlReader(const std::string& text, const std::string& file) : text_(text), file_(file) {
    std::string line;
    for (char ch : text_) {
      if (ch == '\n') {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines_.push_back(line);
        line.clear();
      } else {
        line.push_back(ch);
      }
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines_.push_back(line);
  }

  Cascade read() {
    YAML::Node root;
    try {
      root = YAML::Load(text_);
    } catch (const YAML::Exception& e) {
      throw Error(at(e.mark), "YAML syntax error: " + e.msg);
    }
    try {
      return read_root(root);
    } catch (const YAML::Exception& e) {
      throw Error(at(e.mark), "YAML error: " + e.msg);
    }
  }

 private:
  SourceLocation start() const { return SourceLocation{file_, 1, 1}; }

  SourceLocation at(const YAML::Mark& mark) const {
    if (mark.line < 0) return SourceLocation{file_, 0, 0};
    return SourceLocation{file_, mark.line + 1, mark.column + 1};
  }

  // Where the text of a scalar begins (after an opening quote).
  SourceLocation content_at(const YAML::Node& node) const {
    SourceLocation loc = at(node.Mark());
    const int pos = node.Mark().pos;
    if (pos >= 0 && static_cast<size_t>(pos) < text_.size() &&
        (text_[pos] == '"' || text_[pos] == '\''))
      loc.column += 1;
    return loc;
  }

  std::string scalar(const YAML::Node& node, const std::string& what) const {
    if (!node.IsScalar())
      throw Error(at(node.Mark()), what + " must be a single value (a string)" +
                                       (node.IsNull() ? ", got nothing" : ""));
    return node.Scalar();
  }

  void require_map(const YAML::Node& node, const std::string& key, const std::string& example) {
    if (!node.IsMap())
      throw Error(at(node.Mark()), "'" + key + "' must be a map, e.g. " + example);
  }

  // Every map key once; returns the pairs in document order.
  std::vector<std::pair<YAML::Node, YAML::Node>> pairs(const YAML::Node& map,
                                                        const std::string& what) {
    std::vector<std::pair<YAML::Node, YAML::Node>> out;
    std::map<std::string, SourceLocation> seen;
    for (const auto& kv : map) {
      const std::string key = scalar(kv.first, "a key of " + what);
      if (const auto it = seen.find(key); it != seen.end())
        throw Error(at(kv.first.Mark()), "duplicate key '" + key + "' in " + what +
                                              " (first at line " +
                                              std::to_string(it->second.line) + ")");
      seen[key] = at(kv.first.Mark());
      out.emplace_back(kv.first, kv.second);
    }
    return out;
  }

  Cascade read_root(const YAML::Node& root) {
    if (root.IsNull() || !root.IsDefined())
      throw Error(start(), "empty cascade file: expected a YAML map with at least 'name', "
                           "'einsums' and 'outputs'");
    if (!root.IsMap())
      throw Error(at(root.Mark()), "a cascade file must be a YAML map with the keys " +
                                       detail::join(top_level_keys(), ", "));
    Cascade c;
    c.file = file_;
    bool has_name = false, has_einsums = false, has_outputs = false;
    for (const auto& [key_node, value] : pairs(root, "the cascade file")) {
      const std::string key = key_node.Scalar();
      const SourceLocation key_loc = at(key_node.Mark());
      if (key == "name") {
        has_name = true;
        c.name = scalar(value, "'name'");
        if (c.name.empty()) throw Error(at(value.Mark()), "'name' must not be empty");
        locations_["name"] = content_at(value);
      } else if (key == "description") {
        c.description = value.IsNull() ? "" : scalar(value, "'description'");
      } else if (key == "citations") {
        read_citations(value, c);
      } else if (key == "reference") {
        read_reference(value, c);
      } else if (key == "inputs") {
        read_inputs(value, c);
      } else if (key == "partition") {
        read_partitions(value, c);
      } else if (key == "shapes") {
        read_shapes(value, c);
      } else if (key == "requirements") {
        read_requirements(value, c);
      } else if (key == "parameters") {
        read_parameters(value, c);
      } else if (key == "index_functions") {
        read_index_functions(value, c);
      } else if (key == "formats") {
        read_formats(value, c);
      } else if (key == "einsums") {
        has_einsums = true;
        read_einsums(value, key_loc, c);
      } else if (key == "outputs") {
        has_outputs = true;
        locations_["outputs"] = key_loc;
        read_outputs(value, c);
      } else {
        const std::string close = detail::closest_name(key, top_level_keys());
        throw Error(key_loc, "unknown key '" + key + "'" +
                                 (close.empty() ? " (known keys: " +
                                                      detail::join(top_level_keys(), ", ") + ")"
                                                : " (did you mean '" + close + "'?)"));
      }
    }
    if (!has_name) throw Error(start(), "missing required key 'name'");
    if (!has_einsums) throw Error(start(), "missing required key 'einsums'");
    if (!has_outputs) throw Error(start(), "missing required key 'outputs'");
    resolve_parameters(c);
    detail::validate_with_locations(c, locations_);
    return c;
  }

  // reference: {function: softmax, causal: true} -- a flat map of strings.
  void read_reference(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    if (!value.IsMap())
      throw Error(at(value.Mark()), "'reference' must be a map such as {function: softmax}");
    for (const auto& [k, v] : pairs(value, "'reference'"))
      c.reference[scalar(k, "a reference option")] = scalar(v, "a reference option value");
  }

  void read_citations(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    if (!value.IsSequence())
      throw Error(at(value.Mark()), "'citations' must be a list of strings");
    for (const YAML::Node& item : value) c.citations.push_back(scalar(item, "a citation"));
  }

  std::string upper_name(const YAML::Node& node, const std::string& what) {
    const std::string name = scalar(node, what);
    if (!is_upper_name(name))
      throw Error(content_at(node), what + " '" + name +
                                        "' must be an upper-case name (letters, digits, '_')");
    return name;
  }

  std::string lower_name(const YAML::Node& node, const std::string& what) {
    const std::string name = scalar(node, what);
    if (!is_lower_name(name))
      throw Error(content_at(node), what + " '" + name +
                                        "' must be a lower-case name (letters, digits, '_')");
    return name;
  }

  void read_inputs(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    require_map(value, "inputs", "{Q: [E, P], K: [E, M]}");
    for (const auto& [k, v] : pairs(value, "'inputs'")) {
      TensorDecl t;
      t.name = upper_name(k, "input tensor");
      t.loc = content_at(k);
      if (!v.IsSequence() && !v.IsNull())
        throw Error(at(v.Mark()), "the ranks of input " + t.name +
                                      " must be a list, e.g. [E, P]");
      for (const YAML::Node& r : v) t.ranks.push_back(upper_name(r, "rank"));
      c.inputs.push_back(std::move(t));
    }
  }

  void read_partitions(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    require_map(value, "partition", "{M: [M1, M0]}");
    for (const auto& [k, v] : pairs(value, "'partition'")) {
      Partition p;
      p.rank = upper_name(k, "partitioned rank");
      p.loc = content_at(k);
      if (!v.IsSequence() || v.size() != 2)
        throw Error(at(v.Mark()), "the partition of " + p.rank +
                                      " must list exactly two parts [outer, inner], e.g. [" +
                                      p.rank + "1, " + p.rank + "0]");
      for (const YAML::Node& r : v) p.parts.push_back(upper_name(r, "partition part"));
      c.partitions.push_back(std::move(p));
    }
  }

  void read_shapes(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    require_map(value, "shapes", "{P: 256, M0: 64}");
    for (const auto& [k, v] : pairs(value, "'shapes'")) {
      ShapeDefault s;
      s.name = upper_name(k, "shape");
      s.loc = content_at(k);
      const std::string text = scalar(v, "the default of shape " + s.name);
      s.value = parse_index_expression(text, content_at(v));
      c.shapes.push_back(std::move(s));
    }
  }

  void read_requirements(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    if (!value.IsSequence())
      throw Error(at(value.Mark()),
                  "'requirements' must be a list of {check: \"...\", message: \"...\"}");
    for (const YAML::Node& item : value) {
      if (!item.IsMap())
        throw Error(at(item.Mark()), "a requirement must be a map {check: \"W % 2 == 1\", "
                                     "message: \"...\"}");
      ShapeRequirement r;
      r.loc = at(item.Mark());
      bool has_check = false, has_message = false;
      for (const auto& [k, v] : pairs(item, "a requirement")) {
        const std::string key = k.Scalar();
        if (key == "check") {
          has_check = true;
          const SourceLocation loc = content_at(v);
          Parser parser(scalar(v, "'check'"), loc);
          if (parser.names_a_parameter())
            r.value_condition = parser.whole_value_condition();
          else
            r.condition = parser.whole_condition();
          r.loc = loc;
        } else if (key == "message") {
          has_message = true;
          r.message = scalar(v, "'message'");
        } else {
          throw Error(at(k.Mark()), "unknown key '" + key +
                                        "' in a requirement (expected 'check' and 'message')");
        }
      }
      if (!has_check) throw Error(at(item.Mark()), "requirement without 'check'");
      if (!has_message || r.message.empty())
        throw Error(at(item.Mark()), "requirement without 'message' (what to tell the user)");
      c.requirements.push_back(std::move(r));
    }
  }

  void read_parameters(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    require_map(value, "parameters", "{scale: 1/sqrt(E)}");
    for (const auto& [k, v] : pairs(value, "'parameters'")) {
      Parameter p;
      p.name = lower_name(k, "parameter");
      p.loc = content_at(k);
      const std::string text = scalar(v, "the default of parameter " + p.name);
      p.default_value = parse_value_expression(text, content_at(v));
      c.parameters.push_back(std::move(p));
    }
  }

  void read_index_functions(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    require_map(value, "index_functions", "{\"start(p)\": \"clamp(p - W/2, 0, M - W)\"}");
    for (const auto& [k, v] : pairs(value, "'index_functions'")) {
      IndexFunction f;
      Parser head(scalar(k, "an index function"), content_at(k));
      std::tie(f.name, f.params) = head.function_head(&f.loc);
      const std::string text = scalar(v, "the body of index function " + f.name);
      f.body = parse_index_expression(text, content_at(v));
      c.index_functions.push_back(std::move(f));
    }
  }

  void read_formats(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    require_map(value, "formats", "{BQK: bf16}");
    for (const auto& [k, v] : pairs(value, "'formats'")) {
      const std::string tensor = scalar(k, "a formats entry");
      c.formats[tensor] = scalar(v, "the format of " + tensor);
      locations_["format:" + tensor] = content_at(k);
      locations_["format-value:" + tensor] = content_at(v);
    }
  }

  void read_outputs(const YAML::Node& value, Cascade& c) {
    if (value.IsScalar()) {  // `outputs: AV` is one output
      c.outputs.push_back(value.Scalar());
      locations_.emplace("output:" + value.Scalar(), content_at(value));
      return;
    }
    if (!value.IsSequence() || value.size() == 0)
      throw Error(at(value.Mark()), "'outputs' must list the output tensors, e.g. [AV]");
    for (const YAML::Node& item : value) {
      const std::string name = scalar(item, "an output");
      c.outputs.push_back(name);
      locations_.emplace("output:" + name, content_at(item));
    }
  }

  // One Einsum per line of a literal block scalar (or per item of a list of strings).
  void read_einsums(const YAML::Node& value, const SourceLocation& key_loc, Cascade& c) {
    if (value.IsNull())
      throw Error(key_loc, "empty 'einsums': a cascade needs at least one Einsum");
    if (value.IsSequence()) {
      for (const YAML::Node& item : value) {
        const std::string text = scalar(item, "an Einsum");
        if (text.find('\n') != std::string::npos)
          throw Error(at(item.Mark()), "an Einsum must fit on one line");
        add_einsum_line(text, content_at(item), c);
      }
    } else {
      const std::string text = scalar(value, "'einsums'");
      const int pos = value.Mark().pos;
      const char style = pos >= 0 && static_cast<size_t>(pos) < text_.size() ? text_[pos] : ' ';
      if (style == '>')
        throw Error(at(value.Mark()), "'einsums' must be a literal block ('|'), not a folded "
                                      "one ('>'): each line is one Einsum");
      if (style == '|') {
        // The content lines follow the indicator line one for one; measure each line's
        // indentation in the raw text.
        std::vector<std::string> content;
        std::stringstream stream(text);
        for (std::string line; std::getline(stream, line);) content.push_back(line);
        const int first_line = value.Mark().line + 1;  // 0-based line of the first content
        for (size_t i = 0; i < content.size(); ++i) {
          const std::string& t = content[i];
          if (t.find_first_not_of(" \t\r") == std::string::npos) continue;
          const size_t raw_index = static_cast<size_t>(first_line) + i;
          int indent = 0;
          if (raw_index < lines_.size()) {
            const std::string& raw = lines_[raw_index];
            if (raw.size() >= t.size() && raw.compare(raw.size() - t.size(), t.size(), t) == 0)
              indent = static_cast<int>(raw.size() - t.size());
            else if (const size_t found = raw.find(t); found != std::string::npos)
              indent = static_cast<int>(found);
          }
          add_einsum_line(t, SourceLocation{file_, static_cast<int>(raw_index) + 1, indent + 1},
                          c);
        }
      } else {
        if (text.find('\n') != std::string::npos)
          throw Error(at(value.Mark()), "'einsums' must be a literal block ('einsums: |'), "
                                        "one Einsum per line");
        add_einsum_line(text, content_at(value), c);
      }
    }
    if (c.einsums.empty())
      throw Error(at(value.Mark()), "empty 'einsums': a cascade needs at least one Einsum");
  }

  void add_einsum_line(const std::string& line, SourceLocation loc, Cascade& c) {
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') return;  // blank or comment
    loc.column += static_cast<int>(first);
    c.einsums.push_back(parse_einsum(line.substr(first), loc));
  }

  // Lower-case names that are declared parameters become ExprOp::Parameter.
  static void resolve_parameters(Cascade& c) {
    std::set<std::string> names;
    for (const Parameter& p : c.parameters) names.insert(p.name);
    std::function<void(Expr&)> visit = [&](Expr& e) {
      if (e.op == ExprOp::Index && e.indices.size() == 1 &&
          e.indices[0].op == IndexOp::Variable && names.count(e.indices[0].name)) {
        e.op = ExprOp::Parameter;
        e.name = e.indices[0].name;
        e.indices.clear();
      }
      for (Expr& a : e.args) visit(a);
    };
    for (Parameter& p : c.parameters) visit(p.default_value);
    for (ShapeRequirement& r : c.requirements)
      if (r.value_condition) {
        visit(r.value_condition->lhs);
        visit(r.value_condition->rhs);
      }
    for (Einsum& e : c.einsums) {
      visit(e.value);
      if (e.init) visit(e.init->value);
    }
  }

  const std::string& text_;
  std::string file_;
  std::vector<std::string> lines_;
  std::map<std::string, SourceLocation> locations_;
};

}  // namespace

// ---------------------------------------------------------------------------------------

Cascade parse_cascade_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(SourceLocation{path, 0, 0}, "cannot open cascade file: " +
                                                       std::string(std::strerror(errno)));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_cascade_text(buffer.str(), path);
}

Cascade parse_cascade_text(const std::string& yaml_text, const std::string& file) {
  return YamlReader(yaml_text, file).read();
}

Einsum parse_einsum(const std::string& text, const SourceLocation& where) {
  return Parser(text, where).einsum();
}

Expr parse_value_expression(const std::string& text, const SourceLocation& where) {
  return Parser(text, where).whole_expr();
}

IndexExpr parse_index_expression(const std::string& text, const SourceLocation& where) {
  return Parser(text, where).whole_index();
}

}  // namespace cascade
