// The Einsum / expression grammar: a recursive-descent parser over the tokens of lexer.h
// (the grammar is in mappings/README.md). cascade_file.cpp reads the YAML around it.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "mappings/cascade/expression_grammar.h"

namespace cascade {

namespace detail {

Einsum Parser::einsum() {
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

Expr Parser::whole_expr() {
  if (peek().kind == Tok::End) throw Error(at(peek()), "empty expression");
  Expr e = expr();
  finish("expression");
  return e;
}

IndexExpr Parser::whole_index() {
  if (peek().kind == Tok::End) throw Error(at(peek()), "empty index expression");
  IndexExpr e = index();
  finish("index expression");
  return e;
}

Condition Parser::whole_condition() {
  if (peek().kind == Tok::End) throw Error(at(peek()), "empty condition");
  Condition c = condition();
  finish("condition");
  return c;
}

// expr ('<' | '<=' | ...) expr: a comparison of real values.
ValueCondition Parser::whole_value_condition() {
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
std::pair<std::string, std::vector<std::string>> Parser::function_head(SourceLocation* name_loc) {
  const Token& name = peek();
  if (name.kind != Tok::Lower)
    throw Error(at(name),
                "an index function is written 'name(param, ...)' with a "
                "lower-case name, got " +
                    describe(name));
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

// ---- value expressions ----
Expr Parser::expr() {
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

Expr Parser::term() {
  Expr left = unary();
  while (peek().kind == Tok::Star || peek().kind == Tok::Slash || peek().kind == Tok::Percent) {
    const Token& op = next();
    if (op.kind == Tok::Percent) throw Error(at(op), "'%' is only allowed in index expressions");
    Expr node;
    node.op = op.kind == Tok::Star ? ExprOp::Mul : ExprOp::Div;
    node.loc = at(op);
    node.args.push_back(std::move(left));
    node.args.push_back(unary());
    left = std::move(node);
  }
  return left;
}

Expr Parser::unary() {
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

Expr Parser::number(const Token& t) {
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
bool Parser::reduction_ahead() const {
  size_t k = 0;
  while (true) {
    if (peek(k).kind != Tok::Lower) return false;
    ++k;
    if (peek(k).kind == Tok::Colon) return true;
    if (peek(k).kind != Tok::Comma) return false;
    ++k;
  }
}

Expr Parser::primary() {
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
      throw Error(at(t),
                  "expected a value (number, tensor read, name, function call or "
                  "'('), got " +
                      describe(t));
  }
}

// concat(j: part, part, ...) after 'concat('; `e` holds the location of 'concat'.
Expr Parser::concat(Expr e, const Token& open) {
  const Token& v = peek();
  if (v.kind != Tok::Lower)
    throw Error(at(v),
                "concat is written concat(var: part, part, ...), var the variable of "
                "a concatenated rank, got " +
                    describe(v));
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

}  // namespace detail

using detail::Parser;

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
