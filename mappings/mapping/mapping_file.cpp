#include "mappings/mapping/mapping_file.h"

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "arch/support/files.h"
#include "arch/support/names.h"
#include "arch/support/yaml_reader.h"

namespace cascade {

namespace {



const std::vector<std::string> kMappingKeys = {"name",     "mapper", "description", "shapes",
                                               "schedule", "notes",  "tensors",     "groups"};
const std::vector<std::string> kGroupKeys = {"name", "dram_loops", "units", "einsums"};
const std::vector<std::string> kEinsumKeys = {"einsum",  "unit",           "buffer_loops",
                                              "spatial", "register_loops", "bypass"};
const std::vector<std::string> kSpatialKeys = {"cols", "rows"};
const std::vector<std::string> kTensorKeys = {"home", "staged", "spill"};

std::string describe_node(const YAML::Node& n) {
  if (n.IsMap()) return "a map";
  if (n.IsSequence()) return "a list";
  if (n.IsNull()) return "nothing";
  return "'" + n.Scalar() + "'";
}

// A loop: `RANK: FACTOR` (a one-entry map) or the string "RANK=FACTOR".
std::vector<Loop> read_loops(const YamlReader& r, const YAML::Node& node, const SourceLocation& loc,
                             const std::string& what) {
  std::vector<Loop> loops;
  if (node.IsNull()) return loops;
  if (!node.IsSequence())
    throw Error(
        loc, what + " must be a list of loops such as [P: 4, E: 64], got " + describe_node(node));
  for (const YAML::Node& item : node) {
    const SourceLocation item_loc = r.at_value(item, loc);
    Loop loop;
    loop.loc = item_loc;
    if (item.IsMap()) {
      const auto entries = r.entries(item, "a loop of " + what);
      if (entries.size() != 1)
        throw Error(item_loc, "a loop of " + what + " is one 'RANK: FACTOR' pair, got " +
                                  std::to_string(entries.size()) + " entries");
      loop.rank = entries[0].key;
      loop.loc = entries[0].key_loc;
      loop.factor = r.positive_integer(entries[0].value, entries[0].value_loc,
                                       "the factor of loop '" + loop.rank + "'");
    } else if (item.IsScalar()) {
      const std::string& s = item.Scalar();
      const size_t eq = s.find('=');
      if (eq == std::string::npos || eq == 0)
        throw Error(item_loc,
                    "a loop of " + what + " is 'RANK: FACTOR' or 'RANK=FACTOR', got '" + s + "'");
      loop.rank = s.substr(0, eq);
      YAML::Node factor(s.substr(eq + 1));
      loop.factor = r.positive_integer(factor, item_loc, "the factor of loop '" + loop.rank + "'");
    } else {
      throw Error(item_loc, "a loop of " + what + " is 'RANK: FACTOR', got " + describe_node(item));
    }
    if (!is_identifier(loop.rank))
      throw Error(loop.loc, "'" + loop.rank + "' is not a rank name");
    loops.push_back(loop);
  }
  return loops;
}

void require_map(const YAML::Node& node, const SourceLocation& loc, const std::string& what) {
  if (!node.IsMap()) throw Error(loc, what + " must be a map, got " + describe_node(node));
}

void check_keys(const std::vector<YamlReader::Entry>& entries, const std::vector<std::string>& known,
                const std::string& where) {
  for (const auto& e : entries)
    if (!contains(known, e.key))
      throw Error(e.key_loc, unknown_key_message(e.key, where, known));
}

EinsumMapping read_einsum_mapping(const YamlReader& r, const YAML::Node& node,
                                  const SourceLocation& loc) {
  require_map(node, loc, "an Einsum mapping");
  EinsumMapping m;
  m.loc = loc;
  const auto entries = r.entries(node, "an Einsum mapping");
  check_keys(entries, kEinsumKeys, "an Einsum mapping");
  bool has_einsum = false, has_unit = false;
  for (const auto& e : entries) {
    if (e.key == "einsum") {
      m.einsum = r.text(e.value, e.value_loc, "'einsum'");
      m.loc = e.value_loc;
      has_einsum = true;
    } else if (e.key == "unit") {
      m.unit = r.text(e.value, e.value_loc, "'unit'");
      has_unit = true;
    } else if (e.key == "buffer_loops") {
      m.buffer_loops = read_loops(r, e.value, e.value_loc, "'buffer_loops'");
    } else if (e.key == "register_loops") {
      m.register_loops = read_loops(r, e.value, e.value_loc, "'register_loops'");
    } else if (e.key == "bypass") {
      m.bypass = r.string_list(e.value, e.value_loc, "'bypass'");
    } else if (e.key == "spatial") {
      if (e.value.IsNull()) continue;
      require_map(e.value, e.value_loc, "'spatial'");
      const auto axes = r.entries(e.value, "'spatial'");
      check_keys(axes, kSpatialKeys, "'spatial'");
      for (const auto& a : axes) {
        auto loops = read_loops(r, a.value, a.value_loc, "'spatial." + a.key + "'");
        (a.key == "cols" ? m.spatial_cols : m.spatial_rows) = std::move(loops);
      }
    }
  }
  if (!has_einsum) throw Error(loc, "an Einsum mapping needs 'einsum' (the output tensor)");
  if (!has_unit)
    throw Error(loc, "the mapping of einsum " + m.einsum + " needs 'unit' (array_2d or array_1d)");
  return m;
}

MappingGroup read_group(const YamlReader& r, const YAML::Node& node, const SourceLocation& loc) {
  require_map(node, loc, "a group");
  MappingGroup g;
  g.loc = loc;
  const auto entries = r.entries(node, "a group");
  check_keys(entries, kGroupKeys, "a group");
  for (const auto& e : entries) {
    if (e.key == "name") {
      g.name = r.text(e.value, e.value_loc, "'name'");
    } else if (e.key == "dram_loops") {
      g.dram_loops = read_loops(r, e.value, e.value_loc, "'dram_loops'");
    } else if (e.key == "units") {
      const std::string units = r.text(e.value, e.value_loc, "'units'");
      if (units != "concurrent" && units != "serialized")
        throw Error(e.value_loc, "'units' must be concurrent or serialized, got '" + units + "'");
      g.serialized_units = units == "serialized";
    } else if (e.key == "einsums") {
      if (!e.value.IsSequence())
        throw Error(e.value_loc,
                    "'einsums' must be a list of Einsum mappings, got " + describe_node(e.value));
      for (const YAML::Node& item : e.value)
        g.einsums.push_back(read_einsum_mapping(r, item, r.at_value(item, e.value_loc)));
    }
  }
  if (g.name.empty()) throw Error(loc, "a group needs a 'name'");
  if (g.einsums.empty()) throw Error(loc, "group " + g.name + " maps no Einsums");
  return g;
}

TensorHome parse_home(const std::string& text, const SourceLocation& loc) {
  if (text == "dram") return TensorHome::Dram;
  if (text == "global_buffer") return TensorHome::GlobalBuffer;
  if (text == "register_file") return TensorHome::RegisterFile;
  throw Error(loc, "'home' must be dram, global_buffer or register_file, got '" + text + "'");
}

std::string name_text(const std::string& s);

std::string print_loops(const std::vector<Loop>& loops) {
  std::string out = "[";
  for (size_t i = 0; i < loops.size(); ++i)
    out += fmt::format("{}{}: {}", i ? ", " : "", name_text(loops[i].rank), loops[i].factor);
  return out + "]";
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);  // YAML double-quoted escapes read back exactly
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// A name as YAML: plain when it reads back as itself (an identifier that YAML does not
// take for null or a boolean), quoted otherwise, so print -> parse round-trips any name.
std::string name_text(const std::string& s) {
  static const char* const special[] = {"null", "Null", "NULL", "true", "True", "TRUE", "false",
                                        "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO",
                                        "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N"};
  bool plain = !s.empty() && (std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_');
  for (char c : s)
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
  for (const char* w : special) plain = plain && s != w;
  return plain ? s : quote(s);
}

}  // namespace

Mapping parse_mapping_text(const std::string& yaml_text, const std::string& file) {
  YamlReader r(file);
  const YAML::Node root = r.load(yaml_text);
  Mapping m;
  m.file = file;
  m.loc = r.start();
  if (!root.IsMap())
    throw Error(r.start(),
                "a mapping file must be a map with 'groups', got " + describe_node(root));
  const auto entries = r.entries(root, "the mapping");
  check_keys(entries, kMappingKeys, "the mapping");
  bool has_groups = false;
  for (const auto& e : entries) {
    if (e.key == "name") {
      m.name = r.text(e.value, e.value_loc, "'name'");
    } else if (e.key == "mapper") {
      m.mapper = r.text(e.value, e.value_loc, "'mapper'");
    } else if (e.key == "description") {
      m.description = r.text(e.value, e.value_loc, "'description'");
    } else if (e.key == "notes") {
      m.notes = r.string_list(e.value, e.value_loc, "'notes'");
    } else if (e.key == "schedule") {
      const std::string s = r.text(e.value, e.value_loc, "'schedule'");
      if (s == "sequential")
        m.schedule = GroupSchedule::Sequential;
      else if (s == "overlapped")
        m.schedule = GroupSchedule::Overlapped;
      else
        throw Error(e.value_loc, "'schedule' must be sequential or overlapped, got '" + s + "'");
    } else if (e.key == "shapes") {
      if (e.value.IsNull()) continue;
      require_map(e.value, e.value_loc, "'shapes'");
      for (const auto& s : r.entries(e.value, "'shapes'"))
        m.shapes[s.key] =
            std::to_string(r.positive_integer(s.value, s.value_loc, "shape '" + s.key + "'"));
    } else if (e.key == "tensors") {
      if (e.value.IsNull()) continue;
      require_map(e.value, e.value_loc, "'tensors'");
      for (const auto& t : r.entries(e.value, "'tensors'")) {
        TensorPlacement p;
        p.tensor = t.key;
        p.loc = t.key_loc;
        require_map(t.value, t.value_loc, "the placement of tensor " + t.key);
        const auto fields = r.entries(t.value, "the placement of tensor " + t.key);
        check_keys(fields, kTensorKeys, "the placement of tensor " + t.key);
        bool has_home = false;
        for (const auto& f : fields) {
          if (f.key == "home") {
            p.home = parse_home(r.text(f.value, f.value_loc, "'home'"), f.value_loc);
            has_home = true;
          } else if (f.key == "staged") {
            p.staged = r.boolean(f.value, f.value_loc, "'staged'");
          } else if (f.key == "spill") {
            p.spill = r.boolean(f.value, f.value_loc, "'spill'");
          }
        }
        if (!has_home) throw Error(t.key_loc, "the placement of tensor " + t.key + " needs 'home'");
        m.tensors.push_back(p);
      }
    } else if (e.key == "groups") {
      has_groups = true;
      if (!e.value.IsSequence())
        throw Error(e.value_loc,
                    "'groups' must be a list of groups, got " + describe_node(e.value));
      for (const YAML::Node& g : e.value)
        m.groups.push_back(read_group(r, g, r.at_value(g, e.value_loc)));
    }
  }
  if (!has_groups || m.groups.empty())
    throw Error(r.start(), "a mapping needs 'groups' (a list of groups of Einsums)");
  for (const MappingGroup& g : m.groups)
    if (g.serialized_units && m.schedule == GroupSchedule::Overlapped)
      throw Error(g.loc, "group " + g.name +
                             ": 'units: serialized' needs 'schedule: sequential' (overlapped "
                             "groups share their arrays' busy time)");
  return m;
}

Mapping load_mapping(const std::string& path) {
  return parse_mapping_text(read_input_file(path, "mapping file"), path);
}

std::string print_mapping(const Mapping& m) {
  std::string out;
  out += "name: " + quote(m.name) + "\n";
  if (!m.mapper.empty()) out += "mapper: " + quote(m.mapper) + "\n";
  if (!m.description.empty()) out += "description: " + quote(m.description) + "\n";
  if (!m.shapes.empty()) {
    out += "shapes: {";
    bool first = true;
    for (const auto& [k, v] : m.shapes) {
      out += fmt::format("{}{}: {}", first ? "" : ", ", name_text(k), name_text(v));
      first = false;
    }
    out += "}\n";
  }
  out += "schedule: " + to_string(m.schedule) + "\n";
  if (!m.notes.empty()) {
    out += "notes:\n";
    for (const std::string& n : m.notes) out += "  - " + quote(n) + "\n";
  }
  if (!m.tensors.empty()) {
    out += "tensors:\n";
    for (const TensorPlacement& t : m.tensors)
      out += fmt::format("  {}: {{home: {}, staged: {}, spill: {}}}\n", name_text(t.tensor), to_string(t.home),
                         t.staged ? "true" : "false", t.spill ? "true" : "false");
  }
  out += "groups:\n";
  for (const MappingGroup& g : m.groups) {
    out += "  - name: " + quote(g.name) + "\n";
    out += "    dram_loops: " + print_loops(g.dram_loops) + "\n";
    if (g.serialized_units) out += "    units: serialized\n";
    out += "    einsums:\n";
    for (const EinsumMapping& e : g.einsums) {
      out += "      - einsum: " + name_text(e.einsum) + "\n";
      out += "        unit: " + name_text(e.unit) + "\n";
      out += "        buffer_loops: " + print_loops(e.buffer_loops) + "\n";
      out += "        spatial: {cols: " + print_loops(e.spatial_cols) +
             ", rows: " + print_loops(e.spatial_rows) + "}\n";
      if (!e.register_loops.empty())
        out += "        register_loops: " + print_loops(e.register_loops) + "\n";
      if (!e.bypass.empty()) {
        std::vector<std::string> names;
        for (const std::string& b : e.bypass) names.push_back(name_text(b));
        out += "        bypass: [" + join(names) + "]\n";
      }
    }
  }
  return out;
}

}  // namespace cascade
