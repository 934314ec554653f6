// A mapping resolved against a problem and an architecture.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "arch/arch_spec.h"
#include "mappings/mapping/mapping.h"
#include "mappings/problem/problem.h"

namespace cascade {

// A mapping resolved against a problem and an architecture: names turned into indices,
// every check done. Throws Error naming the Einsum and the problem: an unknown Einsum or
// rank, a rank that its loops do not cover, an operation the bound array does not support,
// a spatial factor larger than the array, tiles that do not fit the global buffer or a
// register file (needed vs available bytes).

struct ResolvedLoop {
  int slot = -1;         // variable slot of the Einsum (-1: a rank it does not iterate)
  int64_t factor = 1;    // as written
  double effective = 1;  // the factor without padding: the last tile may be partial
};

struct ResolvedEinsum {
  int einsum = -1;
  int group = -1;
  int array = -1;  // index into ArchSpec::arrays
  // Every loop, outermost first: DRAM (the group's), buffer, spatial (cols then rows),
  // register; level l occupies [level_begin(l), level_end[l]).
  std::vector<ResolvedLoop> loops;
  uint32_t level_end[4] = {0, 0, 0, 0};
  uint32_t cols_end = 0;  // the spatial level's loops across the columns end here (rows follow)
  int64_t cols_used = 1, rows_used = 1;
  double temporal_iterations = 1;  // product of the temporal factors (padded), all levels
  uint64_t staged = 0;             // bit per access: passes through the global buffer

  uint32_t level_begin(int l) const { return l == 0 ? 0 : level_end[l - 1]; }
  bool is_staged(size_t access) const { return (staged >> access) & 1; }
};

struct ResolvedGroup {
  std::string name;
  std::vector<int> einsums;    // indices into ResolvedMapping::einsums (= cascade indices)
  double dram_iterations = 1;  // product of the DRAM-level factors
  bool serialized_units = false;  // see MappingGroup
};

struct ResolvedTensor {
  TensorHome home = TensorHome::GlobalBuffer;
  bool staged = true;
  bool spill = false;
};

struct BufferTile {
  int tensor = -1;
  double bytes = 0;       // 0 when it reuses the space of an input that dies (in place)
  int first_einsum = -1;  // the first Einsum of the group (evaluation order) that touches it
  bool spill = false;
};

struct GroupBuffer {
  double needed_bytes = 0;      // everything the group keeps in the global buffer at once
  double spillable_bytes = 0;   // of which tensors marked `spill`
  double spilled_fraction = 0;  // of the spillable tensors' accesses that go to DRAM
  std::vector<BufferTile> tiles;
};

struct ResolvedMapping {
  std::vector<ResolvedEinsum> einsums;  // cascade order
  std::vector<ResolvedGroup> groups;
  std::vector<ResolvedTensor> tensors;  // Problem::tensors order
  GroupSchedule schedule = GroupSchedule::Sequential;
  std::vector<GroupBuffer> buffers;  // per group, filled by resolve_mapping
};

struct ResolveOptions {
  // Off when the caller checks operation support itself (AnalyticalModel does, from its
  // cost table).
  bool check_operations = true;
  // Off while a mapper sizes tiles: resolve_mapping then skips the buffer and register
  // file checks (and leaves ResolvedMapping::buffers empty).
  bool check_capacity = true;
};
ResolvedMapping resolve_mapping(const Problem& problem, const ArchSpec& arch,
                                const Mapping& mapping, const ResolveOptions& options = {});
// The same into `into`, reusing its storage (for callers that evaluate many mappings).
void resolve_mapping(const Problem& problem, const ArchSpec& arch, const Mapping& mapping,
                     ResolvedMapping& into, const ResolveOptions& options = {});

// Global-buffer bytes one group keeps at once (tiles of staged DRAM tensors and of
// global-buffer tensors; an elementwise Einsum's output reuses the space of an input that
// dies there). Used by resolve_mapping and by the mappers to choose tile sizes.
GroupBuffer group_buffer_usage(const Problem& problem, const ResolvedMapping& mapping, int group);

void group_buffer_usage(const Problem& problem, const ResolvedMapping& mapping, int group,
                        GroupBuffer& into);  // the same, reusing `into`'s storage

// The checks resolve_mapping makes, for a caller that builds a ResolvedMapping itself (the
// mapping search decodes its candidates straight into one): they say which check failed,
// and resolve_mapping turns that into the message.
enum class LoopProblem {
  None,
  IterativeSpatial,     // a spatial loop over an iterative rank (`slot`)
  TooManyColumns,       // cols_used > the array's columns
  TooManyRows,          // rows_used > its rows
  OuterFactorTooLarge,  // the outermost loop over rank `slot` runs a whole empty tile
  NotCovered,           // the loops over rank `slot` multiply to less than its extent
};
struct LoopCheck {
  LoopProblem problem = LoopProblem::None;
  int slot = -1;
  double covered = 0, outermost = 0;  // of that slot's loops, for the message
};
// `re.loops` (slot, factor), `level_end` and `cols_end` set: checks the loops and fills
// every loop's `effective`, `cols_used`, `rows_used` and `temporal_iterations`.
LoopCheck finish_resolved_loops(const ProblemEinsum& pe, const PeArray& array, ResolvedEinsum& re);
struct CapacityCheck {
  int group = -1;   // the first group whose tiles do not fit the global buffer
  // else, under `schedule: overlapped` (the groups hold their tiles at once), whether the
  // groups' tiles together do not fit
  bool overlapped = false;
  int einsum = -1;  // else the first Einsum whose register tiles do not fit its register file
  double register_words = 0;
  bool buffer_fits() const { return group < 0 && !overlapped; }
};
// Bytes of the global buffer a group's spillable tiles may use: the capacity less what the
// group needs and, when groups overlap (each holds its tiles while the others run), less
// what the other groups need. `needed[h]`: group h's needed bytes.
double spill_room(const std::vector<double>& needed, int group, bool overlapped, double capacity);
// The fraction of a group's spillable accesses that go to DRAM with `room` bytes for them.
double spilled_fraction(double spillable_bytes, double room);
// Fills `rm.buffers` (reusing their storage) and checks the capacities (the register files
// too unless `registers` is false).
CapacityCheck check_capacity(const Problem& problem, const ArchSpec& arch, ResolvedMapping& rm,
                             bool registers = true);
// Words an Einsum's register tiles hold per PE.
double register_tile_words(const Problem& problem, const ProblemEinsum& pe, const ResolvedEinsum& re);

// Operation names an Einsum's operators map to on an array, with the fallbacks used when
// the array lacks the operation itself (sub -> add, mul -> mac, min -> max). Returns the
// name to use, or "" if the array supports none of them.
std::string array_operation(const PeArray& array, const std::string& op);
// An operator as the array executes it: itself (or its fallback), else lowered to
// primitives the array has: elu1(x) = x > 0 ? x + 1 : exp(x) -> exp + add + max (both
// branches and a select); relu -> max; abs -> max + sub; pow(c, x) with a constant base ->
// exp + mul (exp(x ln c)). Empty when the array cannot execute it.
std::vector<std::pair<std::string, double>> lower_operation(const PeArray& array,
                                                            const std::string& op);


// The loop-nest levels of a resolved Einsum, outermost first.
enum Level { kDramLevel = 0, kBufferLevel = 1, kSpatialLevel = 2, kRegisterLevel = 3 };

// Extents per slot of the loops at `from` and below (a tile held at level `from`).
void tile_extents(const ProblemEinsum& pe, const ResolvedEinsum& re, int from, double* ext);
// Elements of tensor access `a` in a tile of extents `ext` (one slice of an iterative
// dimension when `one_iterative_slice`).
double access_elements(const Problem& problem, const ProblemAccess& a, const double* ext,
                       bool one_iterative_slice);
// The iteration-space slot a group's DRAM loop over `rank` tiles (see resolve.cpp).
int dram_loop_slot(const Problem& problem, const ProblemEinsum& pe, const std::string& rank);

}  // namespace cascade
