// `where:` constraints of sweep files: a small expression language over a point's settings
// (`arch.arrays.array_2d.rows * arch.arrays.array_2d.cols <= 65536`, `seq >= 4096 or
// mapper == "fusemax"`). Numbers, quoted strings, setting names (dotted), + - * / %,
// comparisons (< <= > >= == !=), and / or / not, parentheses, min(a, b), max(a, b). Parsed
// when the sweep file is read (syntax errors and names the sweep does not set are Errors at
// file:line:col); evaluated per point. A setting whose value is not a number is a string
// (only == and != take strings).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "arch/support/error.h"

namespace cascade {

class SweepExpression {
 public:
  // `names`: the settings the sweep gives (base and axes); `loc`: where the text starts.
  SweepExpression(const std::string& text, const SourceLocation& loc,
                  const std::set<std::string>& names);
  // Whether the point satisfies it; an Error (at the expression) for a type mismatch.
  bool holds(const std::map<std::string, std::string>& settings) const;
  const std::string& text() const { return text_; }

  struct Node;

 private:
  std::string text_;
  SourceLocation loc_;
  std::shared_ptr<const Node> root_;
};

}  // namespace cascade
