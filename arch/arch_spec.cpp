// ArchSpec lookups and the cross-reference checks of an architecture.
#include "arch/arch_spec.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "arch/support/names.h"

namespace cascade {

namespace {

bool is_memory(ComponentKind kind) {
  return kind != ComponentKind::Compute;
}

// ---------------------------------------------------------------------------------------

}  // namespace

// ---------------------------------------------------------------------------------------
// PeArray and ArchSpec.

double PeArray::cycles_of(const std::string& op) const {
  if (const auto it = op_cycles.find(op); it != op_cycles.end()) return it->second;
  const auto it = ops.find(op);
  if (it == ops.end())
    throw Error(loc, "array '" + name + "' does not support op '" + op +
                         "' (ops: " + join(keys_of(ops), ", ") + ")");
  double total = 0;
  for (const auto& [action, count] : it->second) total += count;
  return total;
}

const std::vector<OpAction>& PeArray::actions_of(const std::string& op) const {
  const auto it = op_actions.find(op);
  if (it == op_actions.end())
    throw Error(loc, "array '" + name + "' does not support op '" + op +
                         "' (ops: " + join(keys_of(ops), ", ") + ")");
  return it->second;
}

const Component* ArchSpec::find_component(const std::string& component_name) const {
  for (const Component& c : components)
    if (c.name == component_name) return &c;
  return nullptr;
}

const Component& ArchSpec::component(const std::string& component_name) const {
  if (const Component* c = find_component(component_name)) return *c;
  std::vector<std::string> names;
  for (const Component& c : components) names.push_back(c.name);
  throw Error(file_location(), "architecture '" + name + "' has no component '" + component_name +
                                    "'" + did_you_mean(component_name, names));
}

const PeArray* ArchSpec::find_array(const std::string& array_name) const {
  for (const PeArray& a : arrays)
    if (a.name == array_name) return &a;
  return nullptr;
}

const PeArray* ArchSpec::find_array_with_role(ArrayRole role) const {
  for (const PeArray& a : arrays)
    if (a.role == role) return &a;
  return nullptr;
}

std::string to_string(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::Dram:
      return "dram";
    case ComponentKind::Buffer:
      return "buffer";
    case ComponentKind::RegisterFile:
      return "register_file";
    case ComponentKind::Compute:
      return "compute";
  }
  return "?";
}

std::string to_string(ArrayRole role) {
  switch (role) {
    case ArrayRole::None:
      return "none";
    case ArrayRole::Matrix:
      return "matrix";
    case ArrayRole::Vector:
      return "vector";
  }
  return "?";
}

std::string to_string(FillDrain policy) {
  switch (policy) {
    case FillDrain::None:
      return "none";
    case FillDrain::PerFold:
      return "per_fold";
    case FillDrain::Overlapped:
      return "overlapped";
  }
  return "?";
}

std::string role_purpose(ArrayRole role) {
  switch (role) {
    case ArrayRole::None:
      return "no role: used where a mapping names it";
    case ArrayRole::Matrix:
      return "the array contractions and tile-shaped Einsums run on";
    case ArrayRole::Vector:
      return "the array row-shaped Einsums and running state run on";
  }
  return "?";
}

const PeArray& ArchSpec::array(const std::string& array_name) const {
  if (const PeArray* a = find_array(array_name)) return *a;
  std::vector<std::string> names;
  for (const PeArray& a : arrays) names.push_back(a.name);
  throw Error(file_location(), "architecture '" + name + "' has no array '" + array_name + "'" +
                                    did_you_mean(array_name, names) +
                                    " (arrays: " + join(names, ", ") + ")");
}

const Component* ArchSpec::dram() const {
  for (const Component& c : components)
    if (c.kind == ComponentKind::Dram) return &c;
  return nullptr;
}

const Component* ArchSpec::global_buffer() const {
  for (const Component& c : components)
    if (c.kind == ComponentKind::Buffer) return &c;
  return nullptr;
}

const PeArray* ArchSpec::array_of(const std::string& component_name) const {
  for (const PeArray& a : arrays) {
    if (a.register_file == component_name) return &a;
    for (const std::string& pe : a.pe_components)
      if (pe == component_name) return &a;
  }
  return nullptr;
}

int64_t ArchSpec::instances_of(const std::string& component_name) const {
  const Component& c = component(component_name);
  if (const PeArray* a = array_of(component_name)) return a->pes();
  return c.instances;
}

// ---------------------------------------------------------------------------------------

void validate_arch(const ArchSpec& arch) {
  const SourceLocation top = arch.file_location();
  if (!(arch.clock_hz > 0) || !std::isfinite(arch.clock_hz))
    throw Error(top, "architecture '" + arch.name + "': clock_hz must be positive");
  if (arch.word_bits <= 0 || arch.word_bits % 8 != 0)
    throw Error(top,
                "architecture '" + arch.name + "': word_bits must be a positive multiple of 8");
  if (arch.components.empty())
    throw Error(top, "architecture '" + arch.name + "' has no components");
  if (arch.arrays.empty()) throw Error(top, "architecture '" + arch.name + "' has no PE arrays");

  std::set<std::string> names;
  for (const Component& c : arch.components) {
    const std::string what = "component '" + c.name + "'";
    if (!names.insert(c.name).second)
      throw Error(c.loc, "duplicate component name '" + c.name + "'");
    if (c.instances <= 0) throw Error(c.loc, what + ": instances must be positive");
    if (c.energy_pj.empty()) throw Error(c.loc, what + " has no energy_pj");
    for (const auto& [action, pj] : c.energy_pj)
      if (!(pj >= 0) || !std::isfinite(pj))
        throw Error(c.loc, what + ": the energy of '" + action + "' must be a finite number >= 0");
    if (!(c.area_um2 >= 0) || !std::isfinite(c.area_um2))
      throw Error(c.loc, what + ": area_um2 must be a finite number >= 0");
    if (!(c.leakage_pw >= 0) || !std::isfinite(c.leakage_pw))
      throw Error(c.loc, what + ": leakage_pw must be a finite number >= 0");
    if (is_memory(c.kind)) {
      if (c.access_bits <= 0) throw Error(c.loc, what + ": access_bits must be positive");
      if (c.banks <= 0) throw Error(c.loc, what + ": banks must be positive");
      if (c.row_bits < 0) throw Error(c.loc, what + ": row_bits must not be negative");
      if (c.capacity_bytes < 0 || c.bandwidth_bytes_per_s < 0)
        throw Error(c.loc, what + ": capacity and bandwidth must not be negative");
      if (c.kind == ComponentKind::Buffer && !(c.capacity_bytes > 0))
        throw Error(c.loc, what + ": a buffer's capacity must be positive");
      for (const char* action : {"read", "write"})
        if (!c.energy_pj.count(action))
          throw Error(c.loc, "memory " + what + " has no energy for '" + action + "'");
    }
    if (!c.area_included_in.empty()) {
      const Component* target = arch.find_component(c.area_included_in);
      if (!target || target->name == c.name || !target->area_included_in.empty())
        throw Error(c.loc, what +
                               ": area_included_in must name another component that "
                               "carries its own area");
    }
  }

  std::map<std::string, std::string> owner;
  for (const PeArray& a : arch.arrays) {
    const std::string what = "array '" + a.name + "'";
    if (!names.insert(a.name).second)
      throw Error(a.loc, what + ": the name is used twice (arrays and components share names)");
    if (a.rows <= 0 || a.cols <= 0) throw Error(a.loc, what + ": rows and cols must be positive");
    std::vector<std::string> pe_names;
    if (!a.register_file.empty()) {
      const Component* rf = arch.find_component(a.register_file);
      if (!rf || rf->kind != ComponentKind::RegisterFile)
        throw Error(a.loc, what + ": register_file '" + a.register_file +
                               "' is not a register_file component");
      if (a.register_file_entries <= 0)
        throw Error(a.loc, what + ": register_file_entries must be positive");
      pe_names.push_back(a.register_file);
    }
    for (const std::string& pe : a.pe_components) {
      const Component* c = arch.find_component(pe);
      if (!c) throw Error(a.loc, what + ": unknown PE component '" + pe + "'");
      if (c->kind != ComponentKind::Compute && c->kind != ComponentKind::RegisterFile)
        throw Error(a.loc,
                    what + ": PE component '" + pe + "' is not a compute unit or register file");
      pe_names.push_back(pe);
    }
    for (const std::string& pe : pe_names) {
      const auto [it, inserted] = owner.emplace(pe, a.name);
      if (!inserted && it->second != a.name)
        throw Error(a.loc,
                    what + ": component '" + pe + "' is also a PE component of " + it->second);
    }
    if (a.ops.empty()) throw Error(a.loc, what + " has no ops");
    for (const auto& [op, counts] : a.ops) {
      const auto resolved = a.op_actions.find(op);
      if (resolved == a.op_actions.end())
        throw Error(a.loc, what + ": op '" + op + "' has no op_actions (resolve it to components)");
      std::map<std::string, double> from_actions;
      for (const OpAction& oa : resolved->second) {
        const Component* c = arch.find_component(oa.component);
        if (!c || std::find(pe_names.begin(), pe_names.end(), oa.component) == pe_names.end())
          throw Error(a.loc, what + " op '" + op + "' uses '" + oa.component +
                                 "', which is not a PE component of the array");
        if (!c->energy_pj.count(oa.action))
          throw Error(c->loc, a.name + " op '" + op + "' needs action '" + oa.action +
                                  "' of component '" + oa.component +
                                  "', which has no energy for it");
        if (!(oa.count > 0) || !std::isfinite(oa.count))
          throw Error(a.loc, what + " op '" + op + "': action counts must be positive");
        from_actions[oa.action] += oa.count;
      }
      if (from_actions != counts)
        throw Error(a.loc, what + " op '" + op + "': ops and op_actions disagree");
    }
    for (const auto& [op, cycles] : a.op_cycles) {
      if (!a.ops.count(op)) throw Error(a.loc, what + ": op_cycles names unknown op '" + op + "'");
      if (!(cycles > 0) || !std::isfinite(cycles))
        throw Error(a.loc, what + ": the cycles of op '" + op + "' must be positive");
    }
  }
}

}  // namespace cascade
