// The tokens of the expression grammar (Einsums, value and index expressions, conditions)
// and the lexer that produces them; internal to the parser (expression_parser.cpp).
#pragma once

#include <string>
#include <vector>

#include "arch/support/error.h"

namespace cascade::detail {

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

// The tokens of `text`, then one Tok::End located just past the last token (where "end of
// line" is reported); `where` locates text[0]. A '#' starts a comment to the end. Throws
// Error at an unexpected character, a malformed number or a mixed-case name.
std::vector<Token> lex(const std::string& text, const SourceLocation& where);

}  // namespace cascade::detail
