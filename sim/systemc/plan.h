// The work the cycle-level model's Controller issues: a mapping unrolled over its DRAM-level
// loop iterations into operations on units, with the dependencies between them. Plain C++
// (no SystemC), so it is unit-tested without a simulation kernel. What each operation costs
// in cycles is not here: the modules decide that (Array2D from its fold shape, DRAM from its
// bandwidth, latency and bursts, the global buffer from its banks and ports).
//
// Per DRAM-level iteration of a group, in the cascade's evaluation order:
//  - loads: a staged DRAM tensor's buffer-level tile is fetched when its coordinates (the
//    iteration's indices of the DRAM loops the access uses) differ from the previous
//    iteration's; a streamed one moves with the Einsum's run (words = its tile below the
//    buffer level times the buffer-level loops that change it);
//  - computes: every Einsum that runs in the iteration (a DRAM loop over a rank it lacks runs
//    it once: at the loop's last iteration if it reads something accumulated over that loop,
//    else at the first);
//  - stores: a DRAM tensor's output tile when its coordinates change next (or at the end); a
//    tile revisited later first loads its partial sums back.
// Dependencies: a compute waits for the loads of its inputs' current tiles, its producers in
// the same iteration, its own previous run (recurrences; units run in order), the previous
// group (sequential schedule), and in a `units: serialized` group the group's previous
// compute. A store waits for its compute; a load may run ahead of the computes, limited by the
// global buffer's free space (the GlobalBuffer module), not by the plan.
// Einsums that depend on each other through an iterative rank (RD and SPD of the 1-pass
// cascade) and whose runs cover several steps of it (the rank is not a DRAM loop) run
// interleaved step by step, as one: each waits for all their producers and the members before
// it, and what reads any member's result waits for the last member.
//
// What this shares with the analytical model (and so does not check): a tile's size
// (index extents of the loop nest, mappings/problem) and the fraction of a spilling group's
// buffer accesses that go to DRAM. How often tiles move is counted here by walking the
// iterations, independently of the analytical model's reuse formula.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "arch/arch_spec.h"
#include "mappings/mapping/mapping.h"
#include "mappings/mapping/resolve.h"
#include "mappings/problem/problem.h"

namespace cascade {

struct PlanOp {
  enum class Kind : uint8_t { Compute, Load, Store };
  Kind kind = Kind::Compute;
  bool staged = true;     // load/store: through the global buffer (false: to/from the array)
  int unit = 0;  // an array (compute) or the DRAM channel (Plan::dram)
  int group = 0;
  int einsum = -1;        // compute: the Einsum; load/store: the Einsum it serves
  int tensor = -1;        // load/store
  int64_t slice = 0;      // (batch, head) slice of the group
  int64_t iteration = 0;  // DRAM-level iteration within the slice
  int64_t step = 0;       // slice * iterations + iteration
  double words = 0;       // load/store: elements moved
  // compute: elements the array reads from / writes to the global buffer while it runs
  double buffer_reads = 0, buffer_writes = 0;
  // compute: elements a spilling tensor sends to DRAM instead of the buffer
  double spill_reads = 0, spill_writes = 0;
};

struct PlanGroup {
  std::string name;
  int64_t slices = 1;            // (batch, head) slices in the mapping
  int64_t slices_planned = 1;    // in the plan; the rest are extrapolated
  int64_t iterations = 1;        // DRAM-level iterations per slice
  double resident_bytes = 0;     // buffer bytes one iteration keeps (group_buffer_usage)
  bool serialized_units = false;
  std::vector<int> slice_begin;  // ops of slice s: [slice_begin[s], slice_begin[s + 1])
};

struct Plan {
  std::vector<std::string> units;  // the arrays, then "dram"
  int dram = 0;
  std::vector<PlanOp> ops;         // program order; every dependency points backwards
  // The earlier operations each must wait for, in one list (15.7M operations at FLAT 256K:
  // a vector each cost 56 bytes more per operation): op t's are dep_list[dep_begin[t] ..
  // dep_begin[t + 1]).
  std::vector<int64_t> dep_begin = {0};
  std::vector<int> dep_list;
  std::span<const int> deps(size_t t) const {
    return {dep_list.data() + dep_begin[t], static_cast<size_t>(dep_begin[t + 1] - dep_begin[t])};
  }
  std::vector<PlanGroup> groups;
  bool overlapped = false;         // groups overlap across slices (schedule: overlapped)
  ResolvedMapping resolved;
};

// `max_slices` (>= 1) bounds the (batch, head) slices planned per group; 0 plans them all.
Plan build_plan(const Problem& problem, const ArchSpec& arch, const Mapping& mapping,
                int64_t max_slices);

}  // namespace cascade
