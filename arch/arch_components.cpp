// Architecture files, part 2: `components:` -- each component's kind, instances,
// capacity, access width, bandwidth, energy per action and area (arch_reader.h).
#include <yaml-cpp/yaml.h>

#include <cctype>

#include "arch/arch_reader.h"
#include "arch/support/names.h"

namespace cascade::detail {

namespace {

const std::vector<std::string>& component_keys() {
  static const std::vector<std::string> keys = {"kind",
                                                "instances",
                                                "capacity_bytes",
                                                "capacity_words",
                                                "access_bits",
                                                "banks",
                                                "row_bits",
                                                "ports",
                                                "latency_cycles",
                                                "burst_bytes",
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
      "capacity_bytes", "capacity_words",        "access_bits",         "banks",
      "row_bits",       "ports",                 "latency_cycles",      "burst_bytes",
      "bandwidth_bytes_per_s", "bandwidth_gib_per_s"};
  return keys;
}

const std::vector<std::string>& kind_names() {
  static const std::vector<std::string> names = {"dram", "buffer", "register_file", "compute"};
  return names;
}

bool is_memory(ComponentKind kind) {
  return kind != ComponentKind::Compute;
}

}  // namespace

void ArchReader::read_components(const Entry& e) {
  read_named_items(e, "components", "component", "a", "'kind', 'energy_pj' and 'area_um2'",
                   "name: {kind: ...}",
                   [&](const YAML::Node& node, const std::string& name,
                       const SourceLocation& loc, bool list_form) {
                     add_component(read_component(node, name, loc, list_form));
                   });
  if (arch_.components.empty())
    throw Error(e.key_loc, "'components' is empty: an architecture needs at least one");
}

void ArchReader::add_component(Component c) {
  if (const Component* first = arch_.find_component(c.name))
    throw Error(c.loc, "duplicate component name '" + c.name + "' (first at line " +
                           std::to_string(first->loc.line) + ")");
  arch_.components.push_back(std::move(c));
}

Component ArchReader::read_component(const YAML::Node& map, const std::string& name,
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
  if (const Entry* e = get("ports")) c.ports = int_field(*e);
  if (const Entry* e = get("burst_bytes")) c.burst_bytes = int_field(*e);
  if (const Entry* e = get("latency_cycles"))
    c.latency_cycles = r_.non_negative_number(e->value, e->value_loc, "'latency_cycles'");
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

}  // namespace cascade::detail
