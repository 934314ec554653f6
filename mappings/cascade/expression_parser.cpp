// The Einsum / expression grammar: a recursive-descent parser over the tokens of lexer.h
// (the grammar is in mappings/README.md). cascade_file.cpp reads the YAML around it.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "mappings/cascade/lexer.h"
#include "mappings/cascade/parser.h"
#include "mappings/cascade/parser_detail.h"

namespace cascade {

using detail::Tok;
using detail::Token;

namespace {

// ---------------------------------------------------------------------------------------
// Recursive-descent parser for Einsums, value and index expressions and conditions.

class Parser {
 public:
  Parser(const std::string& text, const SourceLocation& where)
      : base_(where), tokens_(detail::lex(text, where)) {}

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
        if (t.text == "concat") return concat(e, open);
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

  // concat(j: part, part, ...) after 'concat('; `e` holds the location of 'concat'.
  Expr concat(Expr e, const Token& open) {
    const Token& v = peek();
    if (v.kind != Tok::Lower)
      throw Error(at(v), "concat is written concat(var: part, part, ...), var the variable of "
                         "a concatenated rank, got " + describe(v));
    if (peek(1).kind == Tok::Comma)
      throw Error(at(peek(1)), "concat takes one variable (the concatenated rank's), got a ','");
    if (peek(1).kind != Tok::Colon)
      throw Error(at(peek(1)), "expected ':' after the concat variable '" + v.text + "', got " +
                                   describe(peek(1)));
    e.op = ExprOp::Concat;
    IndexExpr var;
    var.op = IndexOp::Variable;
    var.name = next().text;
    var.loc = at(v);
    e.indices.push_back(std::move(var));
    next();  // ':'
    while (true) {
      e.args.push_back(expr());
      if (peek().kind != Tok::Comma) break;
      next();
    }
    close(Tok::RParen, open);
    return e;
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

}  // namespace

// ---------------------------------------------------------------------------------------

void detail::parse_check(const std::string& text, const SourceLocation& where,
                         ShapeRequirement& requirement) {
  Parser parser(text, where);
  if (parser.names_a_parameter())
    requirement.value_condition = parser.whole_value_condition();
  else
    requirement.condition = parser.whole_condition();
}

std::pair<std::string, std::vector<std::string>> detail::parse_function_head(
    const std::string& text, const SourceLocation& where, SourceLocation* name_loc) {
  return Parser(text, where).function_head(name_loc);
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
