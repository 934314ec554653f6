// Internals shared by the parser, printer and validator (not part of the public API).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "mappings/cascade.h"

namespace cascade::detail {

// The candidate closest to `name` by edit distance, or "" when none is close.
std::string closest_name(const std::string& name, const std::vector<std::string>& candidates);
std::string join(const std::vector<std::string>& items, const std::string& separator);
// Name classes of the language: letters, digits and '_'; upper-case names (ranks, shapes,
// tensors) and lower-case names (variables, parameters).
bool is_name_char(char ch);
bool is_upper_name(const std::string& s);
bool is_lower_name(const std::string& s);
// validate() with the locations of entries the IR stores without one: keys
// "format:<tensor>" (the tensor name of a `formats` entry), "format-value:<tensor>",
// "output:<tensor>" (an `outputs` entry), "outputs" (the `outputs` key) and "name".
void validate_with_locations(Cascade& cascade,
                             const std::map<std::string, SourceLocation>& locations);

}  // namespace cascade::detail
