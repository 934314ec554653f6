// Architecture files (configs/arch/*.yaml; format in configs/arch/README.md): YAML ->
// ArchSpec with file:line:col errors.
#include "arch/arch_spec.h"
#include "arch/support/files.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "arch/support/names.h"
#include "arch/support/yaml_reader.h"

namespace cascade {

namespace {

using Entry = YamlReader::Entry;

const std::vector<std::string>& top_level_keys() {
  static const std::vector<std::string> keys = {"name",           "description", "citations",
                                                "clock_hz",       "clock_mhz",   "word_bits",
                                                "charge_leakage", "register_file_energy",
                                                "components",     "arrays"};
  return keys;
}

const std::vector<std::string>& component_keys() {
  static const std::vector<std::string> keys = {"kind",
                                                "instances",
                                                "capacity_bytes",
                                                "capacity_words",
                                                "access_bits",
                                                "banks",
                                                "row_bits",
                                                "bandwidth_bytes_per_s",
                                                "bandwidth_gib_per_s",
                                                "energy_pj",
                                                "area_um2",
                                                "area_included_in",
                                                "leakage_pw",
                                                "citations",
                                                "description"};
  return keys;
}

const std::vector<std::string>& memory_only_keys() {
  static const std::vector<std::string> keys = {
      "capacity_bytes", "capacity_words",        "access_bits",        "banks",
      "row_bits",       "bandwidth_bytes_per_s", "bandwidth_gib_per_s"};
  return keys;
}

const std::vector<std::string>& array_keys() {
  static const std::vector<std::string> keys = {
      "role",      "rows",      "cols",      "register_file", "register_file_entries",
      "pe_components", "ops",  "op_cycles",     "citations",     "description"};
  return keys;
}

const std::vector<std::string>& kind_names() {
  static const std::vector<std::string> names = {"dram", "buffer", "register_file", "compute"};
  return names;
}

bool is_memory(ComponentKind kind) {
  return kind != ComponentKind::Compute;
}

std::string format_count(double v) {
  std::ostringstream out;
  out.precision(12);
  out << v;
  return out.str();
}

// ---------------------------------------------------------------------------------------

class ArchReader {
 public:
  ArchReader(const std::string& text, const std::string& file) : text_(text), r_(file) {}

  ArchSpec read() {
    const YAML::Node root = r_.load(text_);
    try {
      read_root(root);
    } catch (const YAML::Exception& e) {
      throw Error(r_.at(e.mark), "YAML error: " + e.msg);
    }
    validate_arch(arch_);
    return std::move(arch_);
  }

 private:
  // Where things were written, for checks made after the whole file is read.
  struct ComponentSource {
    std::optional<SourceLocation> instances, capacity, area_included_in, leakage;
  };

  void read_root(const YAML::Node& root) {
    if (!root.IsDefined() || root.IsNull())
      throw Error(r_.start(),
                  "empty architecture file: expected a YAML map with 'name', "
                  "'clock_hz' (or 'clock_mhz'), 'components' and 'arrays'");
    if (!root.IsMap())
      throw Error(r_.at(root.Mark()), "an architecture file must be a YAML map with the keys " +
                                          join(top_level_keys(), ", "));
    arch_.file = r_.file();
    std::optional<Entry> components, arrays, clock;
    bool has_name = false;
    for (const Entry& e : r_.entries(root, "the architecture file")) {
      if (e.key == "name") {
        arch_.name = r_.text(e.value, e.value_loc, "'name'");
        if (arch_.name.empty()) throw Error(e.value_loc, "'name' must not be empty");
        has_name = true;
      } else if (e.key == "description") {
        arch_.description = e.value.IsNull() ? "" : r_.text(e.value, e.value_loc, "'description'");
      } else if (e.key == "citations") {
        arch_.citations = r_.string_list(e.value, e.value_loc, "'citations'");
      } else if (e.key == "clock_hz" || e.key == "clock_mhz") {
        if (clock)
          throw Error(e.key_loc, "give either 'clock_hz' or 'clock_mhz', not both ('" + clock->key +
                                     "' is at line " + std::to_string(clock->key_loc.line) + ")");
        clock = e;
        const double v = r_.positive_number(e.value, e.value_loc, "'" + e.key + "'");
        arch_.clock_hz = e.key == "clock_hz" ? v : v * 1e6;
      } else if (e.key == "word_bits") {
        const int64_t bits = r_.positive_integer(e.value, e.value_loc, "'word_bits'");
        if (bits % 8 != 0 || bits > 64)
          throw Error(e.value_loc,
                      "'word_bits' must be a multiple of 8 up to 64, got " + std::to_string(bits));
        arch_.word_bits = static_cast<int>(bits);
      } else if (e.key == "charge_leakage") {
        arch_.charge_leakage = r_.boolean(e.value, e.value_loc, "'charge_leakage'");
      } else if (e.key == "register_file_energy") {
        const std::string accounting = r_.text(e.value, e.value_loc, "'register_file_energy'");
        try {
          arch_.register_file_energy = parse_register_file_energy(accounting);
        } catch (const Error& bad) {
          throw Error(e.value_loc, "'register_file_energy': " + bad.message());
        }
      } else if (e.key == "components") {
        components = e;
      } else if (e.key == "arrays") {
        arrays = e;
      } else {
        throw Error(e.key_loc, unknown_key_message(e.key, "the architecture file",
                                                                 top_level_keys()));
      }
    }
    if (!has_name) throw Error(r_.start(), "missing required key 'name'");
    if (!clock) throw Error(r_.start(), "missing required key 'clock_hz' (or 'clock_mhz')");
    if (!components) throw Error(r_.start(), "missing required key 'components'");
    if (!arrays) throw Error(r_.start(), "missing required key 'arrays'");
    read_components(*components);
    read_arrays(*arrays);
    finish();
  }

  // ---- components ---------------------------------------------------------------------

  // `components:` and `arrays:` take either a map (name: {...}) or a list of maps that each
  // carry a 'name'; `read` gets each item's node, name, name location and form.
  template <typename Read>
  void read_named_items(const Entry& e, const std::string& key, const std::string& noun,
                        const std::string& article, const std::string& required,
                        const std::string& example, Read read) {
    if (e.value.IsMap()) {
      for (const Entry& item : r_.entries(e.value, "'" + key + "'")) {
        check_name(item.key, item.key_loc, noun);
        if (!item.value.IsMap())
          throw Error(item.value_loc,
                      noun + " '" + item.key + "' must be a map with at least " + required);
        read(item.value, item.key, item.key_loc, /*list_form=*/false);
      }
    } else if (e.value.IsSequence()) {
      for (const YAML::Node& item : e.value) {
        const SourceLocation item_loc = r_.at_value(item, e.key_loc);
        if (!item.IsMap())
          throw Error(item_loc, "an item of '" + key + "' must be a map with 'name', " + required);
        const YAML::Node name_node = item["name"];
        if (!name_node.IsDefined())
          throw Error(item_loc, article + " " + noun + " in the '" + key + "' list needs a 'name'");
        const SourceLocation name_loc = r_.at_value(name_node, item_loc);
        const std::string name = r_.text(name_node, name_loc, article + " " + noun + "'s 'name'");
        check_name(name, name_loc, noun);
        read(item, name, name_loc, /*list_form=*/true);
      }
    } else {
      throw Error(e.value_loc, "'" + key + "' must be a map (" + example + ") or a list of " + noun +
                                   "s with 'name'");
    }
  }

  void read_components(const Entry& e) {
    read_named_items(e, "components", "component", "a", "'kind', 'energy_pj' and 'area_um2'",
                     "name: {kind: ...}",
                     [&](const YAML::Node& node, const std::string& name,
                         const SourceLocation& loc, bool list_form) {
                       add_component(read_component(node, name, loc, list_form));
                     });
    if (arch_.components.empty())
      throw Error(e.key_loc, "'components' is empty: an architecture needs at least one");
  }

  void check_name(const std::string& name, const SourceLocation& loc, const std::string& what) {
    if (!is_identifier(name))
      throw Error(loc, what + " name '" + name +
                           "' must be a plain name (letters, digits and '_', not starting "
                           "with a digit)");
  }

  void add_component(Component c) {
    if (const Component* first = arch_.find_component(c.name))
      throw Error(c.loc, "duplicate component name '" + c.name + "' (first at line " +
                             std::to_string(first->loc.line) + ")");
    arch_.components.push_back(std::move(c));
  }

  // The entries of an item's map, each key checked against `known` (plus 'name' in the
  // list form), keyed by name.
  std::map<std::string, Entry> known_entries(const YAML::Node& map, const std::string& what,
                                             std::vector<std::string> known, bool list_form) {
    if (list_form) known.insert(known.begin(), "name");
    std::map<std::string, Entry> keys;
    for (const Entry& e : r_.entries(map, what)) {
      if (std::find(known.begin(), known.end(), e.key) == known.end())
        throw Error(e.key_loc, unknown_key_message(e.key, what, known));
      keys.emplace(e.key, e);
    }
    return keys;
  }

  static const Entry* find_entry(const std::map<std::string, Entry>& keys, const std::string& key) {
    const auto it = keys.find(key);
    return it == keys.end() ? nullptr : &it->second;
  }

  Component read_component(const YAML::Node& map, const std::string& name,
                           const SourceLocation& name_loc, bool list_form) {
    const std::string what = "component '" + name + "'";
    const std::map<std::string, Entry> keys = known_entries(map, what, component_keys(), list_form);
    const auto get = [&](const std::string& key) { return find_entry(keys, key); };

    Component c;
    c.name = name;
    c.loc = name_loc;
    ComponentSource& source = sources_[name];

    const Entry* kind = get("kind");
    if (!kind)
      throw Error(name_loc, what + " has no 'kind' (one of " + join(kind_names(), ", ") + ")");
    const std::string kind_text = r_.text(kind->value, kind->value_loc, "'kind'");
    if (kind_text == "dram")
      c.kind = ComponentKind::Dram;
    else if (kind_text == "buffer")
      c.kind = ComponentKind::Buffer;
    else if (kind_text == "register_file")
      c.kind = ComponentKind::RegisterFile;
    else if (kind_text == "compute")
      c.kind = ComponentKind::Compute;
    else {
      // Words people use for these kinds, then typos.
      static const std::map<std::string, std::string> aliases = {{"sram", "buffer"},
                                                                 {"scratchpad", "buffer"},
                                                                 {"memory", "buffer"},
                                                                 {"glb", "buffer"},
                                                                 {"smartbuffer_sram", "buffer"},
                                                                 {"hbm", "dram"},
                                                                 {"rf", "register_file"},
                                                                 {"regfile", "register_file"},
                                                                 {"reg_file", "register_file"},
                                                                 {"registers", "register_file"},
                                                                 {"alu", "compute"},
                                                                 {"mac", "compute"},
                                                                 {"fu", "compute"}};
      std::string lower = kind_text;
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      const auto alias = aliases.find(lower);
      const std::string close =
          alias != aliases.end() ? alias->second : closest_name(kind_text, kind_names());
      throw Error(kind->value_loc, "unknown component kind '" + kind_text + "' for " + what +
                                       (close.empty() ? " (kinds: " + join(kind_names(), ", ") + ")"
                                                      : " (did you mean '" + close + "'?)"));
    }

    if (!is_memory(c.kind)) {
      for (const std::string& key : memory_only_keys())
        if (const Entry* e = get(key))
          throw Error(e->key_loc, "'" + key +
                                      "' applies to memories (dram, buffer, "
                                      "register_file), not to compute " +
                                      what);
    }

    if (const Entry* e = get("instances")) {
      c.instances = r_.positive_integer(e->value, e->value_loc, "'instances'");
      source.instances = e->value_loc;
    }
    const Entry* bytes = get("capacity_bytes");
    const Entry* words = get("capacity_words");
    if (bytes && words)
      throw Error(words->key_loc, "give either 'capacity_bytes' or 'capacity_words', not both");
    if (bytes) {
      c.capacity_bytes = r_.positive_number(bytes->value, bytes->value_loc, "'capacity_bytes'");
      source.capacity = bytes->value_loc;
    } else if (words) {
      c.capacity_bytes = static_cast<double>(r_.positive_integer(words->value, words->value_loc,
                                                                 "'capacity_words'")) *
                         arch_.word_bytes();
      source.capacity = words->value_loc;
    }
    const auto int_field = [&](const Entry& e) {
      const int64_t v = r_.positive_integer(e.value, e.value_loc, "'" + e.key + "'");
      if (v > (int64_t{1} << 30))
        throw Error(e.value_loc, "'" + e.key + "' is too large (" + std::to_string(v) + ")");
      return static_cast<int>(v);
    };
    if (const Entry* e = get("access_bits")) c.access_bits = int_field(*e);
    if (const Entry* e = get("banks")) c.banks = int_field(*e);
    if (const Entry* e = get("row_bits")) c.row_bits = int_field(*e);
    const Entry* bw_bytes = get("bandwidth_bytes_per_s");
    const Entry* bw_gib = get("bandwidth_gib_per_s");
    if (bw_bytes && bw_gib)
      throw Error(bw_gib->key_loc,
                  "give either 'bandwidth_bytes_per_s' or 'bandwidth_gib_per_s', not both");
    if (bw_bytes)
      c.bandwidth_bytes_per_s =
          r_.positive_number(bw_bytes->value, bw_bytes->value_loc, "'bandwidth_bytes_per_s'");
    if (bw_gib)
      c.bandwidth_bytes_per_s =
          r_.positive_number(bw_gib->value, bw_gib->value_loc, "'bandwidth_gib_per_s'") *
          1073741824.0;

    const Entry* energy = get("energy_pj");
    if (!energy)
      throw Error(name_loc, what + " has no 'energy_pj' (pJ per action, e.g. " +
                                (is_memory(c.kind) ? "{read: 2.2, write: 1.9}" : "{mac: 17.2}") +
                                ")");
    if (!energy->value.IsMap())
      throw Error(energy->value_loc,
                  "'energy_pj' of " + what + " must be a map action -> pJ, e.g. {read: 2.2}");
    for (const Entry& a : r_.entries(energy->value, "'energy_pj' of " + what)) {
      check_name(a.key, a.key_loc, "action");
      c.energy_pj[a.key] =
          r_.non_negative_number(a.value, a.value_loc, "the energy of action '" + a.key + "'");
    }
    if (c.energy_pj.empty()) throw Error(energy->value_loc, "'energy_pj' of " + what + " is empty");

    const Entry* area = get("area_um2");
    if (!area)
      throw Error(name_loc, what +
                                " has no 'area_um2' (um^2 per instance; write 0 for an "
                                "off-chip part)");
    c.area_um2 = r_.non_negative_number(area->value, area->value_loc, "'area_um2'");
    if (const Entry* e = get("area_included_in")) {
      c.area_included_in = r_.text(e->value, e->value_loc, "'area_included_in'");
      source.area_included_in = e->value_loc;
    }
    if (const Entry* e = get("leakage_pw")) {
      c.leakage_pw = r_.non_negative_number(e->value, e->value_loc, "'leakage_pw'");
      source.leakage = e->value_loc;
    }
    if (const Entry* e = get("citations"))
      c.citations = r_.string_list(e->value, e->value_loc, "'citations'");
    if (const Entry* e = get("description"))
      if (!e->value.IsNull()) r_.text(e->value, e->value_loc, "'description'");

    // What each kind needs.
    if (is_memory(c.kind)) {
      for (const char* action : {"read", "write"})
        if (!c.energy_pj.count(action))
          throw Error(energy->key_loc, "memory " + what + " needs energy_pj for '" + action +
                                           "' (pJ per access of access_bits)");
    }
    if (c.kind == ComponentKind::Dram || c.kind == ComponentKind::Buffer) {
      if (!get("access_bits"))
        throw Error(name_loc, what + " (" + to_string(c.kind) +
                                  ") needs 'access_bits' (the bits one read or write moves)");
    }
    if (c.kind == ComponentKind::RegisterFile && !get("access_bits"))
      c.access_bits = arch_.word_bits;
    if (c.kind == ComponentKind::Buffer && !source.capacity)
      throw Error(name_loc, what + " (buffer) needs 'capacity_bytes' or 'capacity_words'");
    if (c.row_bits > 0 && c.access_bits > 0 && c.row_bits % c.access_bits != 0)
      throw Error(get("row_bits")->value_loc, "'row_bits' (" + std::to_string(c.row_bits) +
                                                  ") must be a multiple of 'access_bits' (" +
                                                  std::to_string(c.access_bits) + ") in " + what);
    return c;
  }

  // ---- arrays -------------------------------------------------------------------------

  void read_arrays(const Entry& e) {
    read_named_items(e, "arrays", "array", "an", "'cols', 'pe_components' and 'ops'",
                     "array_2d: {rows: ...}",
                     [&](const YAML::Node& node, const std::string& name,
                         const SourceLocation& loc, bool list_form) {
                       add_array(read_array(node, name, loc, list_form));
                     });
    if (arch_.arrays.empty())
      throw Error(e.key_loc, "'arrays' is empty: an architecture needs at least one PE array");
  }

  void add_array(PeArray a) {
    if (const PeArray* first = arch_.find_array(a.name))
      throw Error(a.loc, "duplicate array name '" + a.name + "' (first at line " +
                             std::to_string(first->loc.line) + ")");
    if (arch_.find_component(a.name))
      throw Error(a.loc, "array name '" + a.name +
                             "' is also a component name; Stats key "
                             "both by name, so they must differ");
    arch_.arrays.push_back(std::move(a));
  }

  // Makes `component` a per-PE component of `array`.
  void claim(const std::string& component, const std::string& array, const SourceLocation& loc) {
    const auto [it, inserted] = owner_.emplace(component, std::make_pair(array, loc));
    if (!inserted && it->second.first != array)
      throw Error(loc, "component '" + component + "' is already a PE component of " +
                           it->second.first + " (line " + std::to_string(it->second.second.line) +
                           "); give each array its own component");
  }

  const Component& known_component(const std::string& name, const SourceLocation& loc,
                                   const std::string& context) {
    const Component* c = arch_.find_component(name);
    if (!c) {
      std::vector<std::string> names;
      for (const Component& x : arch_.components) names.push_back(x.name);
      throw Error(loc,
                  context + " names unknown component '" + name + "'" + did_you_mean(name, names));
    }
    return *c;
  }

  PeArray read_array(const YAML::Node& map, const std::string& name, const SourceLocation& name_loc,
                     bool list_form) {
    const std::string what = "array '" + name + "'";
    const std::map<std::string, Entry> keys = known_entries(map, what, array_keys(), list_form);
    const auto get = [&](const std::string& key) { return find_entry(keys, key); };

    PeArray a;
    a.name = name;
    a.loc = name_loc;
    if (const Entry* e = get("role")) {
      const std::string role = r_.text(e->value, e->value_loc, "'role'");
      if (role == "matrix")
        a.role = ArrayRole::Matrix;
      else if (role == "vector")
        a.role = ArrayRole::Vector;
      else
        throw Error(e->value_loc, "'role' of " + what + " must be matrix (" +
                                      role_purpose(ArrayRole::Matrix) + ") or vector (" +
                                      role_purpose(ArrayRole::Vector) + "), got '" + role + "'" +
                                      did_you_mean(role, {"matrix", "vector"}));
      for (const PeArray& other : arch_.arrays)
        if (other.role == a.role)
          throw Error(e->value_loc, what + ": 'role: " + role + "' is already the role of array '" +
                                        other.name + "' (line " + std::to_string(other.loc.line) +
                                        "); a mapper needs one array per role");
    }
    if (const Entry* e = get("rows"))
      a.rows = r_.positive_integer(e->value, e->value_loc, "'rows'");
    const Entry* cols = get("cols");
    if (!cols) throw Error(name_loc, what + " has no 'cols' (PEs per row)");
    a.cols = r_.positive_integer(cols->value, cols->value_loc, "'cols'");
    if (a.rows > (int64_t{1} << 40) / a.cols)
      throw Error(cols->value_loc, what + " has too many PEs (" + std::to_string(a.rows) + " x " +
                                       std::to_string(a.cols) + ")");

    // Per-PE components: the register file first, then pe_components.
    std::vector<std::string> pe_names;
    const Entry* rf = get("register_file");
    const Entry* rf_entries = get("register_file_entries");
    if (rf) {
      a.register_file = r_.text(rf->value, rf->value_loc, "'register_file'");
      const Component& c =
          known_component(a.register_file, rf->value_loc, "'register_file' of " + name);
      if (c.kind != ComponentKind::RegisterFile)
        throw Error(rf->value_loc, "register_file '" + c.name + "' of " + name + " is a " +
                                       to_string(c.kind) + " component, not a register_file");
      claim(c.name, name, rf->value_loc);
      pe_names.push_back(c.name);
      if (!rf_entries)
        throw Error(rf->key_loc, what +
                                     " has a register_file but no 'register_file_entries' "
                                     "(words per PE)");
      a.register_file_entries =
          r_.positive_integer(rf_entries->value, rf_entries->value_loc, "'register_file_entries'");
    } else if (rf_entries) {
      throw Error(rf_entries->key_loc,
                  "'register_file_entries' without a 'register_file' in " + what);
    }

    const Entry* pes = get("pe_components");
    if (!pes)
      throw Error(name_loc, what + " has no 'pe_components' (the compute units in each PE)");
    if (!pes->value.IsSequence())
      throw Error(pes->value_loc, "'pe_components' of " + what +
                                      " must be a list of component "
                                      "names, e.g. [mac_2d, max_2d]");
    for (const YAML::Node& item : pes->value) {
      const SourceLocation loc = r_.at_value(item, pes->value_loc);
      const std::string cname = r_.text(item, loc, "an item of 'pe_components'");
      const Component& c = known_component(cname, loc, "'pe_components' of " + name);
      if (c.kind != ComponentKind::Compute && c.kind != ComponentKind::RegisterFile)
        throw Error(loc, "'" + cname + "' is a " + to_string(c.kind) +
                             " component; a PE "
                             "component must be a compute unit or a register file");
      if (cname == a.register_file) continue;  // listed as register_file too: fine
      if (std::find(a.pe_components.begin(), a.pe_components.end(), cname) != a.pe_components.end())
        throw Error(loc, "'" + cname + "' is listed twice in 'pe_components' of " + name);
      claim(cname, name, loc);
      a.pe_components.push_back(cname);
      pe_names.push_back(cname);
    }
    if (a.pe_components.empty())
      throw Error(pes->value_loc, "'pe_components' of " + what + " lists no compute unit");

    // Operations.
    const Entry* ops = get("ops");
    if (!ops) throw Error(name_loc, what + " has no 'ops' (e.g. ops: {mac: {mac: 1}})");
    if (!ops->value.IsMap())
      throw Error(ops->value_loc, "'ops' of " + what +
                                      " must be a map op -> {action: count}, "
                                      "e.g. {exp: {mac: 6, add: 1}}");
    for (const Entry& op : r_.entries(ops->value, "'ops' of " + what)) {
      check_name(op.key, op.key_loc, "op");
      if (!op.value.IsMap())
        throw Error(op.value_loc, name + " op '" + op.key +
                                      "' must be a map action -> count, "
                                      "e.g. {mac: 6, add: 1}");
      std::map<std::string, double>& counts = a.ops[op.key];
      std::vector<OpAction>& resolved = a.op_actions[op.key];
      for (const Entry& act : r_.entries(op.value, name + " op '" + op.key + "'")) {
        const double count =
            r_.positive_number(act.value, act.value_loc, "the count of action '" + act.key + "'");
        const OpAction oa = resolve_action(a, pe_names, op.key, act, count);
        if (counts.count(oa.action))
          throw Error(act.key_loc,
                      name + " op '" + op.key + "' uses action '" + oa.action + "' twice");
        counts[oa.action] = count;
        resolved.push_back(oa);
      }
      if (resolved.empty())
        throw Error(op.value_loc, name + " op '" + op.key + "' performs no action");
    }
    if (a.ops.empty()) throw Error(ops->value_loc, "'ops' of " + what + " is empty");

    if (const Entry* cycles = get("op_cycles")) {
      if (!cycles->value.IsMap())
        throw Error(cycles->value_loc, "'op_cycles' of " + what + " must be a map op -> cycles");
      for (const Entry& oc : r_.entries(cycles->value, "'op_cycles' of " + what)) {
        if (!a.ops.count(oc.key))
          throw Error(oc.key_loc, "'op_cycles' names op '" + oc.key + "', which array '" + name +
                                      "' does not have (ops: " + join(keys_of(a.ops), ", ") + ")");
        a.op_cycles[oc.key] =
            r_.positive_number(oc.value, oc.value_loc, "the cycles of op '" + oc.key + "'");
      }
    }
    if (const Entry* e = get("citations")) r_.string_list(e->value, e->value_loc, "'citations'");
    if (const Entry* e = get("description"))
      if (!e->value.IsNull()) r_.text(e->value, e->value_loc, "'description'");
    return a;
  }

  // `action` or `component.action`.
  OpAction resolve_action(const PeArray& a, const std::vector<std::string>& pe_names,
                          const std::string& op, const Entry& act, double count) {
    const std::string context = a.name + " op '" + op + "'";
    const size_t dot = act.key.find('.');
    if (dot != std::string::npos) {
      const std::string cname = act.key.substr(0, dot);
      const std::string action = act.key.substr(dot + 1);
      if (!is_identifier(cname) || !is_identifier(action))
        throw Error(act.key_loc, context + ": '" + act.key +
                                     "' must be 'action' or "
                                     "'component.action'");
      const Component& c = known_component(cname, act.key_loc, context);
      if (std::find(pe_names.begin(), pe_names.end(), cname) == pe_names.end())
        throw Error(act.key_loc, context + " uses component '" + cname +
                                     "', which is not a PE "
                                     "component of " +
                                     a.name + " (PE components: " + join(pe_names, ", ") + ")");
      if (!c.energy_pj.count(action))
        throw Error(act.key_loc, context + " needs action '" + action + "' of component '" + cname +
                                     "', which has no energy for it (its energy_pj: " +
                                     join(keys_of(c.energy_pj), ", ") + ")");
      return OpAction{cname, action, count};
    }
    check_name(act.key, act.key_loc, "action");
    std::vector<std::string> providers;
    for (const std::string& cname : pe_names)
      if (arch_.component(cname).energy_pj.count(act.key)) providers.push_back(cname);
    if (providers.empty())
      throw Error(act.key_loc, context + " needs action '" + act.key +
                                   "', but no PE component "
                                   "of " +
                                   a.name + " (" + join(pe_names, ", ") + ") has energy for it");
    if (providers.size() > 1)
      throw Error(act.key_loc, context + ": action '" + act.key + "' is ambiguous, " +
                                   join(providers, " and ") + " both have it; write '" +
                                   providers[0] + "." + act.key + "'");
    return OpAction{providers[0], act.key, count};
  }

  // ---- whole-file checks --------------------------------------------------------------

  void finish() {
    for (Component& c : arch_.components) {
      const ComponentSource& source = sources_[c.name];
      const PeArray* owner = nullptr;
      if (const auto it = owner_.find(c.name); it != owner_.end())
        owner = arch_.find_array(it->second.first);
      if (owner) {
        if (source.instances && c.instances != owner->pes())
          throw Error(*source.instances,
                      "component '" + c.name + "' is a PE component of " + owner->name + " (" +
                          std::to_string(owner->pes()) + " PEs) but declares instances: " +
                          std::to_string(c.instances) + "; leave 'instances' out");
        c.instances = owner->pes();
      }
      if (c.kind == ComponentKind::RegisterFile) {
        const PeArray* rf_of = nullptr;
        for (const PeArray& a : arch_.arrays)
          if (a.register_file == c.name) rf_of = &a;
        if (rf_of) {
          const double derived =
              static_cast<double>(rf_of->register_file_entries) * arch_.word_bytes();
          if (source.capacity && c.capacity_bytes != derived)
            throw Error(*source.capacity, "register file '" + c.name + "' holds " +
                                              format_count(c.capacity_bytes) + " bytes but " +
                                              rf_of->name + " gives register_file_entries: " +
                                              std::to_string(rf_of->register_file_entries) + " (" +
                                              format_count(derived) + " bytes); give one of them");
          c.capacity_bytes = derived;
        } else if (!source.capacity) {
          throw Error(c.loc, "register file '" + c.name +
                                 "' has no capacity: give "
                                 "'capacity_words' or make it an array's register_file");
        }
      }
      if (source.area_included_in) {
        const Component* target = arch_.find_component(c.area_included_in);
        if (!target) {
          std::vector<std::string> names;
          for (const Component& x : arch_.components) names.push_back(x.name);
          throw Error(*source.area_included_in,
                      "'area_included_in' of '" + c.name + "' names unknown component '" +
                          c.area_included_in + "'" + did_you_mean(c.area_included_in, names));
        }
        if (target->name == c.name)
          throw Error(*source.area_included_in,
                      "'area_included_in' of '" + c.name + "' names the component itself");
        if (!target->area_included_in.empty())
          throw Error(*source.area_included_in,
                      "'area_included_in' of '" + c.name + "' names '" + target->name +
                          "', whose own area is included in '" + target->area_included_in +
                          "'; name the component that carries the area");
      }
      if (arch_.charge_leakage && !source.leakage)
        throw Error(c.loc, "charge_leakage is true but component '" + c.name +
                               "' has no 'leakage_pw' (write 0 if it has none)");
    }
  }

  const std::string& text_;
  YamlReader r_;
  ArchSpec arch_;
  std::map<std::string, ComponentSource> sources_;
  std::map<std::string, std::pair<std::string, SourceLocation>> owner_;  // component -> array
};

}  // namespace

ArchSpec parse_arch_text(const std::string& yaml_text, const std::string& file) {
  return ArchReader(yaml_text, file).read();
}

ArchSpec load_arch(const std::string& path) {
  return parse_arch_text(read_input_file(path, "architecture file"), path);
}

ArchSpec::RegisterFileEnergy parse_register_file_energy(const std::string& name) {
  if (name == "all_instances") return ArchSpec::RegisterFileEnergy::AllInstances;
  if (name == "one_instance") return ArchSpec::RegisterFileEnergy::OneInstance;
  throw Error("unknown register-file energy accounting '" + name +
              "' (known: all_instances, one_instance)");
}

std::string register_file_energy_name(ArchSpec::RegisterFileEnergy accounting) {
  return accounting == ArchSpec::RegisterFileEnergy::OneInstance ? "one_instance"
                                                                 : "all_instances";
}

}  // namespace cascade
