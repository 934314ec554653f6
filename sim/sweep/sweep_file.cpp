// Sweep files (configs/sweeps/*.yaml; format in configs/sweeps/README.md) and the points of
// their cartesian product.
#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "arch/support/checked.h"
#include "arch/support/files.h"
#include "arch/support/names.h"
#include "arch/support/yaml_reader.h"
#include "sim/sweep/sweep.h"
#include "sim/sweep/sweep_detail.h"

namespace cascade {

using sweep_detail::starts_with;

namespace {

using Entry = YamlReader::Entry;

// Settings a point can give besides set.NAME and arch.PATH.
const std::vector<std::string>& plain_keys() {
  static const std::vector<std::string> keys = {
      "arch", "workload", "cascade", "mapper", "seq", "batch", "heads", "register_file_energy",
      "fidelity"};
  return keys;
}



// A value as YAML text: scalars as written, collections in flow style.
std::string as_yaml_text(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int more = 0;
    uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      more = 1;
      code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      more = 2;
      code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      more = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<size_t>(more) >= s.size()) return false;  // cut short
    for (int k = 1; k <= more; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      code = (code << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    if ((more == 1 && code < 0x80) || (more == 2 && code < 0x800) || (more == 3 && code < 0x10000) ||
        (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF)
      return false;
    i += static_cast<size_t>(more) + 1;
  }
  return true;
}

// A setting's value, checked where it is written: names and plain settings are single
// values, seq, batch and heads positive integers, set.NAME a number or name; every value
// valid UTF-8 (it goes into the database, JSON and CSV). Returns the value as YAML text.
std::string setting_value(const YamlReader& r, const std::string& key, const YAML::Node& value,
                          const SourceLocation& loc) {
  const std::string text = as_yaml_text(value);
  if (!valid_utf8(text)) throw Error(loc, "the value of '" + key + "' is not valid UTF-8");
  if (starts_with(key, "arch.")) return text;  // any YAML: it replaces a value of the file
  if (!value.IsScalar())
    throw Error(loc, "the value of '" + key + "' must be a single value, got a " +
                         (value.IsSequence() ? std::string("list") : value.IsMap() ? "map" : "null"));
  if (key == "seq" || key == "batch" || key == "heads")
    r.positive_integer(value, loc, "'" + key + "'");
  if (key == "fidelity" && text != "analytical" && text != "cycle")
    throw Error(loc, "'fidelity' must be analytical or cycle, got '" + text + "'");
  if (key == "register_file_energy" && text != "all_instances" && text != "one_instance")
    throw Error(loc, "'register_file_energy' must be all_instances or one_instance, got '" + text +
                         "'");
  if (text.empty()) throw Error(loc, "the value of '" + key + "' is empty");
  return text;
}

// An axis given as a range, `{from: A, to: B, step: S}` (A, A+S, ...) or `{from: A, to: B,
// times: F}` (A, A*F, ...; F > 1), up to B inclusive; values print as integers when they
// are. A range of more than kMaxRangeValues values is refused.
constexpr size_t kMaxRangeValues = 1000000;
std::vector<std::string> range_values(const YamlReader& r, const YAML::Node& map,
                                      const SourceLocation& loc, const std::string& key) {
  double from = 0, to = 0, by = 0;
  bool has_from = false, has_to = false, geometric = false, has_by = false;
  for (const Entry& e : r.entries(map, "the range of '" + key + "'")) {
    if (e.key == "from") {
      from = r.number(e.value, e.value_loc, "'from'");
      has_from = true;
    } else if (e.key == "to") {
      to = r.number(e.value, e.value_loc, "'to'");
      has_to = true;
    } else if (e.key == "step" || e.key == "times") {
      if (has_by) throw Error(e.key_loc, "a range takes 'step' or 'times', not both");
      by = r.positive_number(e.value, e.value_loc, "'" + e.key + "'");
      geometric = e.key == "times";
      has_by = true;
      if (geometric && !(by > 1)) throw Error(e.value_loc, "'times' must be greater than 1");
    } else {
      throw Error(e.key_loc, unknown_key_message(e.key, "a range", {"from", "to", "step", "times"}));
    }
  }
  if (!has_from || !has_to || !has_by)
    throw Error(loc, "a range is {from: A, to: B, step: S} or {from: A, to: B, times: F}");
  if (to < from) throw Error(loc, fmt::format("a range from {} down to {}: 'to' must be >= 'from'", from, to));
  if (geometric && !(from > 0)) throw Error(loc, "a geometric range ('times') needs 'from' > 0");
  std::vector<std::string> out;
  // Values are computed as from * F^i (or from + i*S), never accumulated, so 16 * 2^5 is
  // exactly 512; the last value may exceed `to` by a rounding error only.
  for (size_t i = 0;; ++i) {
    const double v = geometric ? from * std::pow(by, static_cast<double>(i))
                               : from + by * static_cast<double>(i);
    if (v > to * (1 + 1e-12)) break;
    if (out.size() == kMaxRangeValues)
      throw Error(loc, fmt::format("the range of '{}' has more than {} values", key, kMaxRangeValues));
    out.push_back(v == std::floor(v) && std::fabs(v) < 9e15 ? fmt::format("{}", static_cast<int64_t>(v))
                                                             : fmt::format("{}", v));
  }
  return out;
}

void check_key(const std::string& key, const SourceLocation& loc) {
  if (std::find(plain_keys().begin(), plain_keys().end(), key) != plain_keys().end()) return;
  if (starts_with(key, "set.") && is_identifier(key.substr(4))) return;
  if (starts_with(key, "arch.") && key.size() > 5 && key.back() != '.' &&
      key.find("..") == std::string::npos)
    return;
  std::vector<std::string> known = plain_keys();
  known.push_back("set.NAME");
  known.push_back("arch.PATH");
  const std::string near = closest_name(key, plain_keys());
  throw Error(loc, "unknown setting '" + key + "'" +
                       (near.empty() ? " (settings: " + join(known, ", ") + ")"
                                     : " (did you mean '" + near + "'?)"));
}

}  // namespace

size_t SweepSpec::points() const {
  size_t n = 1;
  for (const SweepAxis& a : axes)
    n = checked_mul(n, a.values.size(), "the number of points of sweep " + name, a.loc);
  return n;
}

SweepSpec parse_sweep_text(const std::string& yaml_text, const std::string& file) {
  const YamlReader r(file);
  const YAML::Node root = r.load(yaml_text);
  if (!root || root.IsNull()) throw Error(r.start(), "empty sweep file");
  if (!root.IsMap()) throw Error(r.start(), "a sweep file must be a YAML map");
  SweepSpec spec;
  spec.file = file;
  bool has_base = false, has_axes = false;
  std::vector<std::pair<std::string, SourceLocation>> where;  // text, location
  for (const Entry& e : r.entries(root, "the sweep file")) {
    if (e.key == "name") {
      spec.name = r.text(e.value, e.value_loc, "'name'");
      if (!is_identifier([&] {
            std::string n = spec.name;
            std::replace(n.begin(), n.end(), '-', '_');
            return n;
          }()))
        throw Error(e.value_loc,
                    "'name' must be letters, digits, '_' or '-', got '" + spec.name + "'");
    } else if (e.key == "description") {
      spec.description = r.text(e.value, e.value_loc, "'description'");
    } else if (e.key == "citations") {
      r.string_list(e.value, e.value_loc, "'citations'");
    } else if (e.key == "base") {
      has_base = true;
      if (!e.value.IsMap()) throw Error(e.value_loc, "'base' must be a map of settings");
      for (const Entry& b : r.entries(e.value, "'base'")) {
        if (b.key == "set") {
          if (!b.value.IsMap()) throw Error(b.value_loc, "'set' must be a map NAME: value");
          for (const Entry& s : r.entries(b.value, "'set'")) {
            if (!is_identifier(s.key))
              throw Error(s.key_loc, "'" + s.key + "' is not a shape or parameter name");
            if (!s.value.IsScalar())
              throw Error(s.value_loc, "the value of set." + s.key + " must be a number");
            spec.base["set." + s.key] = setting_value(r, "set." + s.key, s.value, s.value_loc);
            spec.base_loc["set." + s.key] = s.key_loc;
            spec.base_value_loc["set." + s.key] = s.value_loc;
          }
          continue;
        }
        check_key(b.key, b.key_loc);
        if (!b.value || b.value.IsNull()) throw Error(b.value_loc, "'" + b.key + "' has no value");
        spec.base[b.key] = setting_value(r, b.key, b.value, b.value_loc);
        spec.base_loc[b.key] = b.key_loc;
        spec.base_value_loc[b.key] = b.value_loc;
      }
    } else if (e.key == "axes") {
      has_axes = true;
      if (e.value.IsNull()) continue;
      if (!e.value.IsSequence())
        throw Error(e.value_loc, "'axes' must be a list; each item a map setting: [values]");
      for (const YAML::Node& item : e.value) {
        const SourceLocation loc = r.at(item.Mark());
        if (!item.IsMap() || item.size() == 0)
          throw Error(loc, "an axis is a map `setting: [values, ...]` (several settings zip)");
        SweepAxis axis;
        axis.loc = loc;
        size_t length = 0;
        for (const Entry& a : r.entries(item, "an axis")) {
          check_key(a.key, a.key_loc);
          if (std::find(axis.keys.begin(), axis.keys.end(), a.key) != axis.keys.end())
            throw Error(a.key_loc, "'" + a.key + "' twice in one axis");
          std::vector<std::pair<std::string, SourceLocation>> values;
          if (a.value.IsMap()) {
            for (const std::string& v : range_values(r, a.value, a.value_loc, a.key))
              values.emplace_back(setting_value(r, a.key, YAML::Node(v), a.value_loc), a.value_loc);
          } else if (a.value.IsSequence() && a.value.size() > 0) {
            for (size_t i = 0; i < a.value.size(); ++i) {
              const SourceLocation loc = r.at_value(a.value[i], a.value_loc);
              values.emplace_back(setting_value(r, a.key, a.value[i], loc), loc);
            }
          } else {
            throw Error(a.value_loc, "the values of '" + a.key +
                                         "' must be a non-empty list or a range {from, to, "
                                         "step | times}");
          }
          if (axis.keys.empty())
            length = values.size();
          else if (values.size() != length)
            throw Error(a.value_loc, fmt::format("'{}' has {} values but '{}' in the same axis "
                                                 "has {}: zipped settings need equally many",
                                                 a.key, values.size(), axis.keys.front(), length));
          axis.keys.push_back(a.key);
          for (size_t i = 0; i < values.size(); ++i) {
            if (axis.values.size() <= i) {
              axis.values.emplace_back();
              axis.value_locs.emplace_back();
            }
            axis.values[i].push_back(values[i].first);
            axis.value_locs[i].push_back(values[i].second);
          }
        }
        spec.axes.push_back(axis);
      }
    } else if (e.key == "where") {
      // Parsed below, once every setting's name is known.
      if (e.value.IsScalar()) {
        where.emplace_back(e.value.Scalar(), e.value_loc);
      } else if (e.value.IsSequence()) {
        for (const YAML::Node& c : e.value) {
          const SourceLocation loc = r.at_value(c, e.value_loc);
          where.emplace_back(r.text(c, loc, "a 'where' condition"), loc);
        }
      } else {
        throw Error(e.value_loc, "'where' must be a condition or a list of conditions");
      }
    } else {
      throw Error(e.key_loc, unknown_key_message(
                                 e.key, "the sweep file",
                                 {"name", "description", "citations", "base", "axes", "where"}));
    }
  }
  if (spec.name.empty()) throw Error(r.start(), "missing required key 'name'");
  if (!has_base) throw Error(r.start(), "missing required key 'base'");
  if (!has_axes) throw Error(r.start(), "missing required key 'axes' (an empty list is one point)");
  // Each setting once: in the base or on one axis.
  std::map<std::string, SourceLocation> swept;
  for (const SweepAxis& a : spec.axes)
    for (const std::string& k : a.keys) {
      if (swept.count(k))
        throw Error(a.loc, "'" + k + "' is swept twice (also at line " +
                               std::to_string(swept.at(k).line) + ")");
      swept[k] = a.loc;
    }
  spec.points();  // an Error at the axis where the product leaves 64 bits
  std::set<std::string> names;
  for (const auto& [k, v] : spec.base) names.insert(k);
  for (const auto& [k, loc] : swept) names.insert(k);
  for (const auto& [text, loc] : where) spec.where.emplace_back(text, loc, names);
  for (const char* required : {"arch", "workload"})
    if (!spec.base.count(required) && !swept.count(required))
      throw Error(r.start(),
                  std::string("the sweep needs '") + required + "' in 'base' or on an axis");
  return spec;
}

SweepSpec load_sweep(const std::string& path) {
  return parse_sweep_text(read_input_file(path, "sweep file"), path);
}

SweepPoint sweep_point(const SweepSpec& spec, size_t index) {
  SweepPoint p;
  p.index = index;
  p.settings = spec.base;
  size_t rest = index;
  std::vector<size_t> choice(spec.axes.size());
  for (size_t a = spec.axes.size(); a-- > 0;) {
    choice[a] = rest % spec.axes[a].values.size();
    rest /= spec.axes[a].values.size();
  }
  for (size_t a = 0; a < spec.axes.size(); ++a)
    for (size_t k = 0; k < spec.axes[a].keys.size(); ++k) {
      const std::string& v = spec.axes[a].values[choice[a]][k];
      p.values.emplace_back(spec.axes[a].keys[k], v);
      p.settings[spec.axes[a].keys[k]] = v;
    }
  return p;
}

}  // namespace cascade
