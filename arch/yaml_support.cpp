#include "arch/yaml_support.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>

namespace cascade::yaml_support {

namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
// transpositions ("clcok" -> "clock") cost 1.
size_t edit_distance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1, 0));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

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

std::string closest_name(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const std::string& candidate : candidates) {
    const size_t d = edit_distance(name, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  if (best.empty() || best_distance == 0) return "";
  // A prefix that says which of several keys was meant ("clock" -> "clock_hz") counts.
  if (best_distance > 2 && best.rfind(name, 0) == 0 && name.size() >= 3) return best;
  const size_t limit = std::max<size_t>(1, std::min(name.size(), best.size()) / 3 + 1);
  return best_distance <= limit && best_distance < name.size() ? best : std::string();
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

std::string unknown_key_message(const std::string& key, const std::string& where,
                                const std::vector<std::string>& known) {
  const std::string close = closest_name(key, known);
  return "unknown key '" + key + "' in " + where +
         (close.empty() ? " (known keys: " + join(known, ", ") + ")"
                        : " (did you mean '" + close + "'?)");
}

bool is_identifier(const std::string& text) {
  if (text.empty()) return false;
  if (!(std::isalpha(static_cast<unsigned char>(text[0])) || text[0] == '_')) return false;
  return std::all_of(text.begin(), text.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
  });
}

SourceLocation Reader::at(const YAML::Mark& mark) const {
  if (mark.line < 0) return SourceLocation{file_, 0, 0};
  return SourceLocation{file_, mark.line + 1, mark.column + 1};
}

SourceLocation Reader::at_value(const YAML::Node& value, const SourceLocation& key_loc) const {
  if (!value.IsDefined() || value.IsNull()) return key_loc;
  const SourceLocation loc = at(value.Mark());
  return loc.known() ? loc : key_loc;
}

YAML::Node Reader::load(const std::string& text) const {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(at(e.mark), "YAML syntax error: " + e.msg);
  }
}

std::vector<Reader::Entry> Reader::entries(const YAML::Node& map, const std::string& what) const {
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

std::string Reader::text(const YAML::Node& value, const SourceLocation& loc,
                         const std::string& what) const {
  if (!value.IsScalar())
    throw Error(loc, what + " must be a single value (a string), got " + describe(value));
  return value.Scalar();
}

double Reader::number(const YAML::Node& value, const SourceLocation& loc,
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

double Reader::positive_number(const YAML::Node& value, const SourceLocation& loc,
                               const std::string& what) const {
  const double v = number(value, loc, what);
  if (!(v > 0)) throw Error(loc, what + " must be positive, got " + value.Scalar());
  return v;
}

double Reader::non_negative_number(const YAML::Node& value, const SourceLocation& loc,
                                   const std::string& what) const {
  const double v = number(value, loc, what);
  if (v < 0) throw Error(loc, what + " must not be negative, got " + value.Scalar());
  return v;
}

int64_t Reader::positive_integer(const YAML::Node& value, const SourceLocation& loc,
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

bool Reader::boolean(const YAML::Node& value, const SourceLocation& loc,
                     const std::string& what) const {
  if (value.IsScalar()) {
    const std::string& s = value.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  throw Error(loc, what + " must be true or false, got " + describe(value));
}

std::vector<std::string> Reader::string_list(const YAML::Node& value, const SourceLocation& loc,
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

}  // namespace cascade::yaml_support
