// Architecture files, part 3: `arrays:` -- each PE array's shape, role, per-PE components
// and the actions its ops perform (arch_reader.h).
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "arch/arch_reader.h"
#include "arch/support/names.h"

namespace cascade::detail {

namespace {

const std::vector<std::string>& array_keys() {
  static const std::vector<std::string> keys = {
      "role",      "fill_drain", "rows",     "cols",          "register_file", "register_file_entries",
      "pe_components", "ops",  "op_cycles",     "citations",     "description"};
  return keys;
}

}  // namespace

void ArchReader::read_arrays(const Entry& e) {
  read_named_items(e, "arrays", "array", "an", "'cols', 'pe_components' and 'ops'",
                   "array_2d: {rows: ...}",
                   [&](const YAML::Node& node, const std::string& name,
                       const SourceLocation& loc, bool list_form) {
                     add_array(read_array(node, name, loc, list_form));
                   });
  if (arch_.arrays.empty())
    throw Error(e.key_loc, "'arrays' is empty: an architecture needs at least one PE array");
}

void ArchReader::add_array(PeArray a) {
  if (const PeArray* first = arch_.find_array(a.name))
    throw Error(a.loc, "duplicate array name '" + a.name + "' (first at line " +
                           std::to_string(first->loc.line) + ")");
  if (arch_.find_component(a.name))
    throw Error(a.loc, "array name '" + a.name +
                           "' is also a component name; Stats key "
                           "both by name, so they must differ");
  arch_.arrays.push_back(std::move(a));
}

void ArchReader::claim(const std::string& component, const std::string& array,
                       const SourceLocation& loc) {
  const auto [it, inserted] = owner_.emplace(component, std::make_pair(array, loc));
  if (!inserted && it->second.first != array)
    throw Error(loc, "component '" + component + "' is already a PE component of " +
                         it->second.first + " (line " + std::to_string(it->second.second.line) +
                         "); give each array its own component");
}

const Component& ArchReader::known_component(const std::string& name, const SourceLocation& loc,
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

PeArray ArchReader::read_array(const YAML::Node& map, const std::string& name,
                               const SourceLocation& name_loc, bool list_form) {
  const std::string what = "array '" + name + "'";
  const std::map<std::string, Entry> keys = known_entries(map, what, array_keys(), list_form);
  const auto get = [&](const std::string& key) { return find_entry(keys, key); };

  PeArray a;
  a.name = name;
  a.loc = name_loc;
  if (const Entry* e = get("fill_drain")) {
    const std::string policy = r_.text(e->value, e->value_loc, "'fill_drain'");
    if (policy == "none")
      a.fill_drain = FillDrain::None;
    else if (policy == "per_fold")
      a.fill_drain = FillDrain::PerFold;
    else if (policy == "overlapped")
      a.fill_drain = FillDrain::Overlapped;
    else
      throw Error(e->value_loc, "'fill_drain' of " + what +
                                    " must be none, per_fold or overlapped, got '" + policy + "'" +
                                    did_you_mean(policy, {"none", "per_fold", "overlapped"}));
  }
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

OpAction ArchReader::resolve_action(const PeArray& a, const std::vector<std::string>& pe_names,
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

}  // namespace cascade::detail
