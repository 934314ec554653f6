// The task graph the SystemC tile model runs: a mapping unrolled over its DRAM-level loop
// iterations into tasks on units (each PE array and the DRAM channel), with dependencies.
// Plain C++ (no SystemC), so it is unit-tested without a simulation kernel.
//
// Granularity: one task per Einsum per DRAM-level iteration in which it runs, one DRAM task
// per iteration. What this model shares with the analytical one, and so does not check: the
// per-point issue interval (sim/model/compute_cost.h) times the Einsum's temporal loop
// iterations gives its cycles, divided evenly over its runs; a group's DRAM traffic comes
// from the loop nests (mappings/mapping/data_movement.h) at the DRAM's bandwidth, spread
// evenly over its iterations. What it counts on its own is the order: dependencies between
// Einsums inside an iteration, the recurrence across iterations, in-order units, a bounded
// number of tiles in flight, fill and drain. (The cycle-level model of the array, buffer
// and DRAM replaces this one.) A DRAM loop over a rank an Einsum lacks
// runs it once: at the loop's last iteration when it reads something accumulated over that loop (AV
// after the last key tile), else at its first. A group's DRAM traffic is spread evenly over
// its iterations (per-tensor refetch timing is not modelled). The (batch, head) slices
// of a group are identical: the first `slices_simulated` are simulated and the rest
// extrapolated from the last one (TileSchedule::GroupInfo).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/arch_spec.h"
#include "mappings/mapping/mapping.h"
#include "mappings/problem/problem.h"

namespace cascade {

struct TileTask {
  int unit = 0;  // index into TileSchedule::units
  int group = 0;
  int64_t slice = 0;      // (batch, head) slice within the group, 0-based
  int64_t iteration = 0;  // DRAM-level iteration within the slice
  int64_t step = 0;       // slice * iterations + iteration: the group's tile sequence
  int einsum = -1;        // -1: the DRAM transfers of the iteration
  double cycles = 0;
  std::vector<int> deps;  // earlier tasks that must finish first
};

struct TileSchedule {
  // Tiles in flight: the DRAM transfers of step s wait until step s - buffers has been
  // computed, and a unit may run a task up to buffers - 1 steps ahead of its oldest one.
  int buffers = 2;
  std::vector<std::string> units;  // the arrays, then "dram"
  std::vector<TileTask> tasks;     // program order; every dependency points backwards
  struct GroupInfo {
    std::string name;
    int64_t slices = 1;            // (batch, head) slices in the mapping
    int64_t slices_simulated = 1;  // simulated; the rest are extrapolated
    int64_t iterations = 1;        // DRAM-level iterations per slice
    // Tasks of slice s are [slice_begin[s], slice_begin[s + 1]).
    std::vector<int> slice_begin;
  };
  std::vector<GroupInfo> groups;
};

// `max_slices` (>= 1) bounds the slices simulated per group; 0 simulates them all;
// `buffers` (>= 2) tiles may be in flight. Throws Error for what the tile model does not
// handle (overlapped groups).
TileSchedule build_tile_schedule(const Problem& problem, const ArchSpec& arch,
                                 const Mapping& mapping, int64_t max_slices = 2, int buffers = 2);

}  // namespace cascade
