// Internals shared by the parser, printer and validator (not part of the public API).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "mappings/cascade/cascade.h"

namespace cascade::detail {

// Name classes of the language: letters, digits and '_'; upper-case names (ranks, shapes,
// tensors) and lower-case names (variables, parameters).
bool is_name_char(char ch);
bool is_upper_name(const std::string& s);
bool is_lower_name(const std::string& s);
// A requirement's `check:` text: an integer condition on shapes, or (when it names a
// parameter) a comparison of real values.
void parse_check(const std::string& text, const SourceLocation& where,
                 ShapeRequirement& requirement);
// The head of an index function, `start(p)`: its name and parameters.
std::pair<std::string, std::vector<std::string>> parse_function_head(const std::string& text,
                                                                     const SourceLocation& where,
                                                                     SourceLocation* name_loc);
// validate() with the locations of entries the IR stores without one: keys
// "format:<tensor>" (the tensor name of a `formats` entry), "format-value:<tensor>",
// "output:<tensor>" (an `outputs` entry), "outputs" (the `outputs` key) and "name".
void validate_with_locations(Cascade& cascade,
                             const std::map<std::string, SourceLocation>& locations);

}  // namespace cascade::detail
