// Energy = sum of actions x energy per action; area = instances x area per instance.
#include "arch/energy.h"

#include <cmath>
#include <sstream>

#include "arch/support/names.h"

namespace cascade {

namespace {

std::vector<std::string> keys_of(const std::map<std::string, double>& table) {
  std::vector<std::string> out;
  for (const auto& [k, v] : table) out.push_back(k);
  return out;
}

std::string format_count(double v) {
  std::ostringstream out;
  out.precision(12);
  out << v;
  return out.str();
}

// ---------------------------------------------------------------------------------------

}  // namespace

EnergyReport compute_energy(const ArchSpec& arch, const ActionCounts& actions_by_component,
                            double cycles) {
  EnergyReport report;
  std::vector<std::string> names;
  for (const Component& c : arch.components) names.push_back(c.name);
  for (const auto& [component_name, actions] : actions_by_component) {
    const Component* c = arch.find_component(component_name);
    if (!c)
      throw Error(arch.file_location(), "the stats count actions of component '" + component_name +
                                       "', which architecture '" + arch.name + "' does not have" +
                                       did_you_mean(component_name, names));
    double pj = 0;
    for (const auto& [action, count] : actions) {
      if (!(count >= 0) || !std::isfinite(count))
        throw Error(c->loc, "the stats give " + format_count(count) + " x action '" + action +
                                "' of component '" + c->name + "'; counts must be finite and >= 0");
      const auto it = c->energy_pj.find(action);
      if (it == c->energy_pj.end())
        throw Error(c->loc, "component '" + c->name + "' has no energy for action '" + action +
                                "' (its energy_pj: " + join(keys_of(c->energy_pj), ", ") +
                                "); the stats count " + format_count(count) + " of them");
      // One PE's share when the accounting charges one instance (uniform use of the PEs,
      // as Timeloop's per-instance counts assume).
      const double charged =
          c->kind == ComponentKind::RegisterFile &&
                  arch.register_file_energy == ArchSpec::RegisterFileEnergy::OneInstance
              ? count / static_cast<double>(arch.instances_of(c->name))
              : count;
      pj += charged * it->second;
    }
    report.by_component_pj[c->name] += pj;
    report.by_level_pj[to_string(c->kind)] += pj;
  }
  if (arch.charge_leakage) {
    if (!(cycles >= 0) || !std::isfinite(cycles))
      throw Error(arch.file_location(),
                  "leakage needs the stats' total cycles, got " + format_count(cycles));
    const double seconds = cycles / arch.clock_hz;
    for (const Component& c : arch.components) {
      // pW x s = pJ
      const double pj = static_cast<double>(arch.instances_of(c.name)) * c.leakage_pw * seconds;
      if (pj > 0) {
        report.by_component_pj[c.name] += pj;
        report.by_level_pj[to_string(c.kind)] += pj;
        report.leakage_pj += pj;
      }
    }
  }
  for (const auto& [name, pj] : report.by_component_pj) report.total_pj += pj;
  return report;
}

AreaReport compute_area(const ArchSpec& arch) {
  AreaReport report;
  for (const Component& c : arch.components) {
    if (!c.area_included_in.empty()) continue;
    const double um2 = static_cast<double>(arch.instances_of(c.name)) * c.area_um2;
    report.by_component_um2[c.name] = um2;
    report.total_um2 += um2;
  }
  return report;
}

}  // namespace cascade
