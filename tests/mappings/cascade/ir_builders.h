// Small builders of cascade IR for the language's tests.
#pragma once

#include <string>
#include <vector>

#include "mappings/cascade/cascade.h"

namespace cascade::ir_test {

// ---- IR builders ----
inline IndexExpr var(const std::string& name) {
  IndexExpr e;
  e.op = IndexOp::Variable;
  e.name = name;
  return e;
}
inline IndexExpr sym(const std::string& name) {
  IndexExpr e;
  e.op = IndexOp::Symbol;
  e.name = name;
  return e;
}
inline IndexExpr cst(int64_t v) {
  IndexExpr e;
  e.op = IndexOp::Constant;
  e.value = v;
  return e;
}
inline IndexExpr ibin(IndexOp op, IndexExpr a, IndexExpr b) {
  IndexExpr e;
  e.op = op;
  e.args = {std::move(a), std::move(b)};
  return e;
}
inline IndexExpr ineg(IndexExpr a) {
  IndexExpr e;
  e.op = IndexOp::Neg;
  e.args = {std::move(a)};
  return e;
}
inline IndexExpr icall(const std::string& name, std::vector<IndexExpr> args) {
  IndexExpr e;
  e.op = IndexOp::Call;
  e.name = name;
  e.args = std::move(args);
  return e;
}
inline Expr num(double v) {
  Expr e;
  e.op = ExprOp::Number;
  e.number = v;
  return e;
}
inline Expr param(const std::string& name) {
  Expr e;
  e.op = ExprOp::Parameter;
  e.name = name;
  return e;
}
inline Expr value_of(IndexExpr i) {
  Expr e;
  e.op = ExprOp::Index;
  e.indices = {std::move(i)};
  return e;
}
inline Expr rd(const std::string& tensor, std::vector<IndexExpr> indices) {
  Expr e;
  e.op = ExprOp::Read;
  e.name = tensor;
  e.indices = std::move(indices);
  return e;
}
inline Expr bin(ExprOp op, Expr a, Expr b) {
  Expr e;
  e.op = op;
  e.args = {std::move(a), std::move(b)};
  return e;
}
inline Expr neg(Expr a) {
  Expr e;
  e.op = ExprOp::Neg;
  e.args = {std::move(a)};
  return e;
}
inline Expr call(const std::string& name, std::vector<Expr> args) {
  Expr e;
  e.op = ExprOp::Call;
  e.name = name;
  e.args = std::move(args);
  return e;
}
inline Expr reduce(const std::string& kind, std::vector<std::string> vars, Expr body) {
  Expr e;
  e.op = ExprOp::Reduce;
  e.name = kind;
  e.reduce_vars = std::move(vars);
  e.args = {std::move(body)};
  return e;
}

Einsum einsum(const std::string& text) { return parse_einsum(text, SourceLocation{"t", 1, 1}); }


}  // namespace cascade::ir_test
