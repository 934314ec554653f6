#include "arch/support/yaml_reader.h"

#include "arch/support/names.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>

namespace cascade {

namespace {

std::string describe(const YAML::Node& value) {
  if (value.IsNull()) return "nothing";
  if (value.IsSequence()) return "a list";
  if (value.IsMap()) return "a map";
  return "'" + value.Scalar() + "'";
}

std::string format_number(double v) {
  std::string s = std::to_string(v);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return s;
}

}  // namespace

SourceLocation YamlReader::at(const YAML::Mark& mark) const {
  if (mark.line < 0) return SourceLocation{file_, 0, 0};
  return SourceLocation{file_, mark.line + 1, mark.column + 1};
}

SourceLocation YamlReader::at_value(const YAML::Node& value, const SourceLocation& key_loc) const {
  if (!value.IsDefined() || value.IsNull()) return key_loc;
  const SourceLocation loc = at(value.Mark());
  return loc.known() ? loc : key_loc;
}

YAML::Node YamlReader::load(const std::string& text) const {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(at(e.mark), "YAML syntax error: " + e.msg);
  }
}

std::vector<YamlReader::Entry> YamlReader::entries(const YAML::Node& map, const std::string& what) const {
  std::vector<Entry> out;
  std::map<std::string, SourceLocation> seen;
  for (const auto& kv : map) {
    const SourceLocation key_loc = at(kv.first.Mark());
    if (!kv.first.IsScalar())
      throw Error(key_loc, "a key of " + what + " must be a plain name, got " + describe(kv.first));
    const std::string key = kv.first.Scalar();
    if (const auto it = seen.find(key); it != seen.end())
      throw Error(key_loc, "duplicate key '" + key + "' in " + what + " (first at line " +
                               std::to_string(it->second.line) + ")");
    seen[key] = key_loc;
    out.push_back(Entry{key, key_loc, kv.second, at_value(kv.second, key_loc)});
  }
  return out;
}

std::string YamlReader::text(const YAML::Node& value, const SourceLocation& loc,
                         const std::string& what) const {
  if (!value.IsScalar())
    throw Error(loc, what + " must be a single value (a string), got " + describe(value));
  return value.Scalar();
}

double YamlReader::number(const YAML::Node& value, const SourceLocation& loc,
                      const std::string& what) const {
  if (!value.IsScalar()) throw Error(loc, what + " must be a number, got " + describe(value));
  const std::string& s = value.Scalar();
  const char* begin = s.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(begin, &end);
  const bool consumed = end != begin && *end == '\0';
  if (!consumed || s.empty() || std::isspace(static_cast<unsigned char>(s[0])))
    throw Error(loc, what + " must be a number, got '" + s + "'");
  if (errno == ERANGE || !std::isfinite(v))
    throw Error(loc, what + " must be a finite number, got '" + s + "'");
  return v;
}

double YamlReader::positive_number(const YAML::Node& value, const SourceLocation& loc,
                               const std::string& what) const {
  const double v = number(value, loc, what);
  if (!(v > 0)) throw Error(loc, what + " must be positive, got " + value.Scalar());
  return v;
}

double YamlReader::non_negative_number(const YAML::Node& value, const SourceLocation& loc,
                                   const std::string& what) const {
  const double v = number(value, loc, what);
  if (v < 0) throw Error(loc, what + " must not be negative, got " + value.Scalar());
  return v;
}

int64_t YamlReader::positive_integer(const YAML::Node& value, const SourceLocation& loc,
                                 const std::string& what) const {
  if (!value.IsScalar())
    throw Error(loc, what + " must be a positive integer, got " + describe(value));
  double v = 0;
  try {
    v = number(value, loc, what);
  } catch (const Error&) {
    throw Error(loc, what + " must be a positive integer, got '" + value.Scalar() + "'");
  }
  if (v != std::floor(v) || v > 9.0e15)
    throw Error(loc, what + " must be a positive integer, got " + value.Scalar());
  if (!(v > 0)) throw Error(loc, what + " must be a positive integer, got " + format_number(v));
  return static_cast<int64_t>(v);
}

bool YamlReader::boolean(const YAML::Node& value, const SourceLocation& loc,
                     const std::string& what) const {
  if (value.IsScalar()) {
    const std::string& s = value.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  throw Error(loc, what + " must be true or false, got " + describe(value));
}

std::vector<std::string> YamlReader::string_list(const YAML::Node& value, const SourceLocation& loc,
                                             const std::string& what) const {
  std::vector<std::string> out;
  if (value.IsNull()) return out;
  if (value.IsScalar()) return {value.Scalar()};
  if (!value.IsSequence())
    throw Error(loc, what + " must be a string or a list of strings, got " + describe(value));
  for (const YAML::Node& item : value)
    out.push_back(text(item, at_value(item, loc), "an item of " + what));
  return out;
}

}  // namespace cascade
