// Reading and writing cascade files (configs/cascades/*.yaml). The grammar is documented
// in mappings/README.md.
#pragma once

#include <string>

#include "mappings/cascade/cascade.h"

namespace cascade {

// Parses and validates a cascade file. Throws Error with file:line:col.
Cascade parse_cascade_file(const std::string& path);
// Same, from text; `file` is only used in error locations.
Cascade parse_cascade_text(const std::string& yaml_text, const std::string& file);

// Parses one Einsum line (without validation); `where` locates its first character.
Einsum parse_einsum(const std::string& text, const SourceLocation& where);
Expr parse_value_expression(const std::string& text, const SourceLocation& where);
IndexExpr parse_index_expression(const std::string& text, const SourceLocation& where);

// Checks names, ranks, shapes and the dependency structure; fills cascade.tensors and
// cascade.warnings. Throws Error at the first problem. Called by the parse functions.
void validate(Cascade& cascade);

// Printing. print_cascade(c) parses back to a Cascade equal to c.
std::string print_cascade(const Cascade& cascade);
std::string print_einsum(const Einsum& einsum);
std::string print_expr(const Expr& expr);
std::string print_index(const IndexExpr& expr);
std::string print_condition(const Condition& condition);
std::string print_value_condition(const ValueCondition& condition);
// The `check:` text of a requirement (its integer or its value condition).
std::string print_check(const ShapeRequirement& requirement);

}  // namespace cascade
