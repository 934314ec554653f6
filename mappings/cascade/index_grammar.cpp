// The index grammar of expression_grammar.h's Parser: tensor brackets, index expressions
// (affine terms, integer division and modulo, index functions) and conditions.
#include <cerrno>
#include <cstdlib>
#include <limits>

#include "mappings/cascade/expression_grammar.h"

namespace cascade::detail {

// NAME '[' [index {',' index}] ']'; the name is already consumed.
std::vector<IndexExpr> Parser::bracket_indices(const std::string& tensor) {
  const Token& open = peek();
  if (open.kind != Tok::LBracket)
    throw Error(at(open), "expected '[' after tensor " + tensor +
                              " (tensors are always "
                              "written with brackets), got " +
                              describe(open));
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
IndexExpr Parser::index() {
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

IndexExpr Parser::index_term() {
  IndexExpr left = index_unary();
  while (peek().kind == Tok::Star || peek().kind == Tok::Slash || peek().kind == Tok::Percent) {
    const Token& op = next();
    IndexExpr node;
    node.op = op.kind == Tok::Star    ? IndexOp::Mul
              : op.kind == Tok::Slash ? IndexOp::Div
                                      : IndexOp::Mod;
    node.loc = at(op);
    node.args.push_back(std::move(left));
    node.args.push_back(index_unary());
    left = std::move(node);
  }
  return left;
}

IndexExpr Parser::index_unary() {
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

IndexExpr Parser::integer(const Token& t, bool negative) {
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

IndexExpr Parser::index_primary() {
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
      throw Error(at(t),
                  "expected an index (integer, variable, shape, function call or "
                  "'('), got " +
                      describe(t));
  }
}

Condition Parser::condition() {
  Condition c;
  c.loc = at(peek());
  c.lhs = index();
  c.op = comparison();
  c.rhs = index();
  return c;
}

// The comparison operator of a condition (consumed).
CompareOp Parser::comparison() {
  const Token& op = peek();
  CompareOp out = CompareOp::Less;
  switch (op.kind) {
    case Tok::Lt:
      out = CompareOp::Less;
      break;
    case Tok::Le:
      out = CompareOp::LessEqual;
      break;
    case Tok::Gt:
      out = CompareOp::Greater;
      break;
    case Tok::Ge:
      out = CompareOp::GreaterEqual;
      break;
    case Tok::Eq:
      out = CompareOp::Equal;
      break;
    case Tok::Ne:
      out = CompareOp::NotEqual;
      break;
    case Tok::Assign:
      throw Error(at(op), "'=' in a condition: compare with '=='");
    default:
      throw Error(at(op), "expected a comparison (<, <=, >, >=, ==, !=), got " + describe(op));
  }
  next();
  return out;
}

}  // namespace cascade::detail
