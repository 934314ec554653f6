// The one YAML reader of cascade (yaml-cpp 0.7): marks to file:line:col, duplicate-key
// detection and strict scalar conversion. Every file format (cascades, architectures,
// workloads, mappings, sweeps) reads its YAML through it.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "arch/support/error.h"

namespace cascade {

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

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

}  // namespace cascade
