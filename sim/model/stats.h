// Stats: what every fidelity (analytical, SystemC, RTL) returns for one mapping. Energy is
// never part of it: it is always Σ actions × the architecture's table (arch/energy.h).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "arch/energy.h"

namespace cascade {

// One Einsum as a model saw it.
struct EinsumStats {
  std::string name;
  std::string array;
  int group = -1;
  double points = 0;       // iteration points, all batches and heads
  double ii = 0;           // cycles per point per PE (the issue interval)
  double cycles = 0;       // busy cycles of its array
  double spatial_use = 0;  // PEs used / PEs of the array
};

// One group of the mapping.
struct GroupStats {
  std::string name;
  double cycles = 0;  // the group's own time (sequential) or its busiest resource (overlapped)
  double fill_cycles = 0;
  std::string bottleneck;
  std::map<std::string, double> busy_cycles;  // per array and "dram"
  double buffer_bytes = 0;                    // global buffer held at once
  double spilled_fraction = 0;
};

// Traffic of one tensor (elements, all batches and heads).
struct TensorStats {
  std::string name;
  std::string home;  // dram, global_buffer, register_file
  double dram_reads = 0, dram_writes = 0, buffer_reads = 0, buffer_writes = 0;
};

struct Stats {
  std::string fidelity;  // the model that produced them: analytical, cycle, rtl
  ActionCounts actions;  // per component and action
  // Busy cycles of each unit (every array and "dram") and the total.
  std::map<std::string, double> busy_cycles;
  double cycles = 0;
  std::string bottleneck;  // the unit or resource that sets `cycles`
  double dram_bytes = 0, dram_read_bytes = 0, dram_write_bytes = 0;
  // Per array: busy PE-cycles / (PEs x cycles).
  std::map<std::string, double> utilization;
  // Cycles lost by cause (cycle-level models: dram_bandwidth, bank_conflict, fill_drain, ...).
  std::map<std::string, double> stalls;
  // Model-specific figures worth reporting (fill_cycles, buffer_read_words, ...).
  std::map<std::string, double> notes;
  std::vector<EinsumStats> einsums;
  std::vector<GroupStats> groups;
  std::vector<TensorStats> tensors;

  void add(const std::string& component, const std::string& action, double count) {
    actions[component][action] += count;
  }
};

}  // namespace cascade
