// The Einsum / expression grammar's recursive-descent parser over the tokens of lexer.h
// (the grammar is in mappings/README.md): expression_parser.cpp parses values, Einsums and
// the public entry points, index_grammar.cpp index expressions and conditions. Internal to
// mappings/cascade.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "mappings/cascade/lexer.h"
#include "mappings/cascade/parser.h"
#include "mappings/cascade/parser_detail.h"

namespace cascade::detail {

// Recursive-descent parser for Einsums, value and index expressions and conditions.
class Parser {
 public:
  Parser(const std::string& text, const SourceLocation& where)
      : base_(where), tokens_(detail::lex(text, where)) {}

  Einsum einsum();

  Expr whole_expr();

  IndexExpr whole_index();

  Condition whole_condition();

  // Does the text name a parameter (a lower-case name that is not a function call)? A
  // requirement's check that does compares real values (whole_value_condition).
  bool names_a_parameter() const {
    for (size_t i = 0; i + 1 < tokens_.size(); ++i)
      if (tokens_[i].kind == Tok::Lower && tokens_[i + 1].kind != Tok::LParen) return true;
    return false;
  }

  // expr ('<' | '<=' | ...) expr: a comparison of real values.
  ValueCondition whole_value_condition();

  // `start(p, q)`: the head of an index function definition.
  std::pair<std::string, std::vector<std::string>> function_head(SourceLocation* name_loc);

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
  std::vector<IndexExpr> bracket_indices(const std::string& tensor);

  // ---- index expressions ----
  IndexExpr index();

  IndexExpr index_term();

  IndexExpr index_unary();

  IndexExpr integer(const Token& t, bool negative);

  IndexExpr index_primary();

  Condition condition();

  // The comparison operator of a condition (consumed).
  CompareOp comparison();

  // ---- value expressions ----
  Expr expr();

  Expr term();

  Expr unary();

  Expr number(const Token& t);

  // Is the token after '(' the start of `var {, var} :` (an explicit reduction)?
  bool reduction_ahead() const;

  Expr primary();

  // concat(j: part, part, ...) after 'concat('; `e` holds the location of 'concat'.
  Expr concat(Expr e, const Token& open);

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

}  // namespace cascade::detail
