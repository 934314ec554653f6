// Helpers for reading YAML files with file:line:col errors (yaml-cpp 0.7): marks to
// SourceLocation, duplicate-key detection, closest-name suggestions for unknown keys and
// strict scalar conversion. Used by arch/arch_spec.cpp; any library that reads YAML may
// use them (they depend only on arch/error.h and yaml-cpp).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "arch/error.h"

namespace cascade::yaml_support {

// The closest candidate by edit distance (transpositions count once), or "" when none is
// close enough to be a plausible typo.
std::string closest_name(const std::string& name, const std::vector<std::string>& candidates);
std::string join(const std::vector<std::string>& items, const std::string& separator);

// "unknown key 'x' in <where> (did you mean 'y'?)", or "(known keys: a, b, ...)".
std::string unknown_key_message(const std::string& key, const std::string& where,
                                const std::vector<std::string>& known);

// True for [A-Za-z_][A-Za-z0-9_]*.
bool is_identifier(const std::string& text);

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  SourceLocation start() const { return SourceLocation{file_, 1, 1}; }
  SourceLocation at(const YAML::Mark& mark) const;
  // Where a value is; a null value (`key:` with nothing after it) has no useful mark of
  // its own, so the key's location is used for it.
  SourceLocation at_value(const YAML::Node& value, const SourceLocation& key_loc) const;

  // Parses the text; a syntax error becomes an Error at its mark.
  YAML::Node load(const std::string& text) const;

  // The pairs of a map in document order, each key a plain scalar and given once.
  struct Entry {
    std::string key;
    SourceLocation key_loc;
    YAML::Node value;
    SourceLocation value_loc;  // at_value(value, key_loc)
  };
  std::vector<Entry> entries(const YAML::Node& map, const std::string& what) const;

  // Strict scalars. `what` names the value in messages, e.g. "'cols'".
  std::string text(const YAML::Node& value, const SourceLocation& loc,
                   const std::string& what) const;
  double number(const YAML::Node& value, const SourceLocation& loc, const std::string& what) const;
  double positive_number(const YAML::Node& value, const SourceLocation& loc,
                         const std::string& what) const;
  double non_negative_number(const YAML::Node& value, const SourceLocation& loc,
                             const std::string& what) const;
  int64_t positive_integer(const YAML::Node& value, const SourceLocation& loc,
                           const std::string& what) const;
  bool boolean(const YAML::Node& value, const SourceLocation& loc, const std::string& what) const;
  // A string or a list of strings.
  std::vector<std::string> string_list(const YAML::Node& value, const SourceLocation& loc,
                                       const std::string& what) const;

 private:
  std::string file_;
};

}  // namespace cascade::yaml_support
