// Data movement of a resolved mapping (elements, not bytes; all batches and heads), from the
// loop nests by the reuse rule of mappings/mapping/mapping.h.
#pragma once

#include <vector>

#include "arch/arch_spec.h"
#include "mappings/mapping/resolve.h"

namespace cascade {

// Data movement of a resolved mapping (elements, not bytes; all batches and heads).

struct TensorTraffic {
  double dram_reads = 0, dram_writes = 0;      // incl. spilled accesses
  double buffer_reads = 0, buffer_writes = 0;  // global buffer
};

struct GroupTraffic {
  GroupBuffer buffer;
  double dram_reads = 0, dram_writes = 0;  // elements
};

struct DataMovement {
  std::vector<TensorTraffic> tensors;  // Problem::tensors order
  std::vector<GroupTraffic> groups;
  double dram_reads = 0, dram_writes = 0, buffer_reads = 0, buffer_writes = 0;
};

DataMovement analyze_data_movement(const Problem& problem, const ArchSpec& arch,
                                   const ResolvedMapping& mapping);
// The same into `into`, reusing its storage.
void analyze_data_movement(const Problem& problem, const ArchSpec& arch,
                           const ResolvedMapping& mapping, DataMovement& into);

}  // namespace cascade
