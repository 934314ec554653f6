// Mappings: how a cascade runs on an architecture.
//
// A mapping binds every Einsum of a cascade to a PE array (array_2d / array_1d), gives its
// loop nest per level (order and tile sizes) and its spatial ranks, and says where every
// tensor lives (DRAM, the global buffer, or the arrays' register files). Einsums are
// collected into *groups*: a group shares one DRAM-level loop nest and its Einsums run
// concurrently, pipelined over the DRAM-level iterations (FuseMax pipelines its whole
// cascade over (batch, head, P2, M1)); groups run one after the other (`sequential`, the
// unfused baseline) or overlapped across their outer loops (`overlapped`).
//
// Loop nests, outermost first:
//
//   group.dram_loops        temporal, shared by the group   e.g. batch 64, head 12, P 4, M1 4
//   einsum.buffer_loops     temporal, per Einsum             e.g. P 1, E 64
//   einsum.spatial          cols x rows of the array         e.g. cols P 256, rows M0 256
//   einsum.register_loops   temporal, inside one PE          usually empty
//
// A rank may be split over several levels (P = 4 x 1 x 256 above: P2, P1, P0); the factors of
// each rank of an Einsum's iteration space must multiply to at least its size (a larger
// product pads the last tile). `batch` and `head` are the workload's batch and head ranks
// (lower-case: they never clash with a cascade's upper-case ranks). The file format is in
// configs/mappings/README.md.
//
// Data movement follows the usual loop-nest reuse rule: a tile of tensor T held at a level is
// fetched again every time a loop above that level changes, except for the loops between the
// level and the innermost loop above it whose rank T uses (T is stationary across them).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "arch/support/error.h"

namespace cascade {

// ---------------------------------------------------------------------------------------
// The mapping spec.

struct Loop {
  std::string rank;  // a rank of the cascade (P, M1, E), or batch / head
  int64_t factor = 1;
  SourceLocation loc;
  bool operator==(const Loop& o) const { return rank == o.rank && factor == o.factor; }
};

struct EinsumMapping {
  std::string einsum;              // the Einsum's output tensor (BQK)
  std::string unit;                // the PE array it runs on (array_2d, array_1d)
  std::vector<Loop> buffer_loops;  // global-buffer level, outermost first
  std::vector<Loop> spatial_cols;  // across the array's columns
  std::vector<Loop> spatial_rows;  // across its rows (a 1D array has one row)
  std::vector<Loop> register_loops;
  // DRAM tensors this Einsum moves straight between DRAM and the array although they are
  // `staged` (Timeloop's bypass): QK written by its kernel, staged row by row by the next.
  std::vector<std::string> bypass;
  SourceLocation loc;
  bool operator==(const EinsumMapping& o) const {
    return einsum == o.einsum && unit == o.unit && buffer_loops == o.buffer_loops &&
           spatial_cols == o.spatial_cols && spatial_rows == o.spatial_rows &&
           register_loops == o.register_loops && bypass == o.bypass;
  }
};

struct MappingGroup {
  std::string name;
  std::vector<Loop> dram_loops;  // outermost first, shared by the group's Einsums
  std::vector<EinsumMapping> einsums;
  // false: the group's arrays run concurrently (a group takes its busiest resource).
  // true: they take turns on every tile, as FlashAttention-2's warps run QK, softmax and
  // PV one after another: the group takes the sum of its arrays' busy cycles (DRAM
  // transfers still overlap). YAML: `units: concurrent | serialized`.
  bool serialized_units = false;
  SourceLocation loc;
  bool operator==(const MappingGroup& o) const {
    return name == o.name && dram_loops == o.dram_loops && einsums == o.einsums &&
           serialized_units == o.serialized_units;
  }
};

enum class TensorHome { Dram, GlobalBuffer, RegisterFile };
std::string to_string(TensorHome home);

// Where a tensor lives. Inputs and outputs live in DRAM; an intermediate that crosses groups
// must too. `staged`: a DRAM tensor's tiles pass through the global buffer (false: they
// stream between DRAM and the arrays, as FLAT streams Q, K and V). `spill`: a global-buffer
// tensor that does not fit keeps what fits and sends the rest of its accesses to DRAM.
struct TensorPlacement {
  std::string tensor;
  TensorHome home = TensorHome::GlobalBuffer;
  bool staged = true;
  bool spill = false;
  SourceLocation loc;
  bool operator==(const TensorPlacement& o) const {
    return tensor == o.tensor && home == o.home && staged == o.staged && spill == o.spill;
  }
};

enum class GroupSchedule { Sequential, Overlapped };
std::string to_string(GroupSchedule schedule);

struct Mapping {
  std::string name;
  std::string mapper;  // the mapper that made it ("" for a hand-written file)
  std::string description;
  std::string file;
  std::map<std::string, std::string> shapes;  // shape settings it needs (M0: 256)
  GroupSchedule schedule = GroupSchedule::Sequential;
  std::vector<MappingGroup> groups;
  std::vector<TensorPlacement> tensors;  // every tensor (mappers list all; files may omit)
  std::vector<std::string> notes;        // the choices made, in words
  SourceLocation loc;
  bool operator==(const Mapping& o) const {
    return name == o.name && mapper == o.mapper && description == o.description &&
           shapes == o.shapes && schedule == o.schedule && groups == o.groups &&
           tensors == o.tensors && notes == o.notes;
  }
  const TensorPlacement* find_tensor(const std::string& name) const;
};


}  // namespace cascade
