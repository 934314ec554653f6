// Energy and area of an architecture: energy = sum over components and actions of the
// action count x the component's energy per action; area = instances x area per instance.
// Every fidelity counts actions (sim/model/stats.h); this is the one place they are priced.
#pragma once

#include <map>
#include <string>

#include "arch/arch_spec.h"

namespace cascade {

// actions[component][action] = count (e.g. ["dram"]["read"] in access_bits units,
// ["mac_2d"]["mac"], ["global_buffer"]["write"]).
using ActionCounts = std::map<std::string, std::map<std::string, double>>;

struct EnergyReport {
  std::map<std::string, double> by_component_pj;  // dynamic (+ leakage if charged)
  // The same by level: the component kinds dram, buffer, register_file, compute.
  std::map<std::string, double> by_level_pj;
  double leakage_pj = 0;
  double total_pj = 0;
};
// Σ actions × energy per action (register files per ArchSpec::register_file_energy);
// leakage over `cycles` when the architecture charges it. An action with no energy in the
// table is an Error (never a silent 0).
EnergyReport compute_energy(const ArchSpec& arch, const ActionCounts& actions, double cycles);

// Area: every component's instances_of() x area_um2, except components whose area is
// included in another's (area_included_in). What the configs put in area_um2 is what
// counts: PE compute units, per-PE register files, buffers (CACTI); DRAM is off-chip (0).
// Wires, the on-chip network and control are not modelled.
struct AreaReport {
  std::map<std::string, double> by_component_um2;
  double total_um2 = 0;
};
AreaReport compute_area(const ArchSpec& arch);

}  // namespace cascade
