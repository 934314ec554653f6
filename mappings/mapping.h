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
#include <unordered_map>
#include <vector>

#include "arch/arch_spec.h"
#include "mappings/cascade.h"

namespace cascade {

// ---------------------------------------------------------------------------------------
// Problem: a cascade with concrete shapes, batch and heads, prepared for loop-nest analysis.
// Built once per (cascade, shapes); every mapping evaluation reuses it.

// One node of a compiled index expression (postfix), used to compute the extent of an index
// over a tile: for a tile of extents e(v) per variable, `m1*M0 + m0` spans (e(m1)-1)*M0 + e(m0).
struct IndexExtentNode {
  enum Op : uint8_t { Constant, Variable, Add, Mul, Div, Mod, MaxOf } op = Constant;
  int64_t value = 0;  // Constant: the value; Variable: the slot
  int lhs = -1, rhs = -1;
};

struct ProblemAccess {
  int tensor = -1;     // index into Problem::tensors
  bool write = false;  // the Einsum's output
  // One compiled program per tensor dimension (batch and head excluded); the root is last.
  std::vector<std::vector<IndexExtentNode>> dims;
  uint64_t variables = 0;       // bit per slot used by this access (slots 0, 1 = batch, head)
  bool output_indices = false;  // a read at exactly the output's variables (in place possible)
};

struct ProblemVariable {
  std::string name;  // m1 (batch and head for slots 0 and 1)
  std::string rank;  // M1 (batch, head)
  int64_t extent = 1;
  bool reduced = false;    // summed or reduced (not an output index)
  bool iterative = false;  // RM[m1+1] = f(RM[m1]): sequential, never spatial
};

struct ProblemEinsum {
  std::string name;                        // the output tensor
  std::vector<ProblemVariable> variables;  // slot 0 batch, 1 head, then the iteration space
  std::vector<ProblemAccess> accesses;     // reads (one per distinct tensor), then the write
  double points = 0;  // iteration points per (batch, head) satisfying every `where`, exact
  double box = 0;     // product of the iteration-space extents per (batch, head)
  // Operators per iteration point, by name (mac, mul, add, sub, div, exp, max, ...). A sum
  // of products fuses one multiply and the add into a MAC; factors of a summed product that
  // do not depend on the summed variables (a scale) are applied once per output point.
  std::vector<std::pair<std::string, double>> ops_per_point;
  // Register-file accesses per point, as Timeloop counts them: every operand is filled into
  // the PE's register file and read from it, an accumulator is read and updated, every
  // point writes its result.
  double operand_reads_per_point = 0;               // reads: operands + accumulator
  double result_writes_per_point = 1;               // writes: operand fills + the result
  bool contraction = false;                         // it has MACs (a sum of products)
  bool elementwise = false;                         // no reduction: one point per output element
  int slot_of_rank(const std::string& rank) const;  // -1 if not in the iteration space
};

struct ProblemTensor {
  std::string name;
  std::vector<std::string> ranks;
  std::vector<int64_t> sizes;  // per dimension (an iterative rank has its extra slice)
  double elements = 0;         // per (batch, head)
  int producer = -1;           // -1: a cascade input
  std::vector<int> consumers;
  bool input = false, output = false;
  int iterative_dimension = -1;  // RM[m1+1, p]: 0 (one slice is live at a time)
};

struct Problem {
  Cascade cascade;
  Bindings bindings;
  int64_t batch = 1, heads = 1;
  double word_bytes = 2;               // bytes per element (the architecture's word)
  std::vector<ProblemEinsum> einsums;  // cascade order
  std::vector<ProblemTensor> tensors;
  std::vector<int> order;     // evaluation order (Einsum indices)
  std::vector<int> position;  // per Einsum: its place in `order`

  int find_einsum(const std::string& name) const;  // -1 if none
  int find_tensor(const std::string& name) const;
  std::unordered_map<std::string, int> einsum_index, tensor_index;  // by name
};

Problem make_problem(const Cascade& cascade, const Bindings& bindings, int64_t batch, int64_t heads,
                     double word_bytes = 2);

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

// Reads a mapping file (configs/mappings/*.yaml). Errors carry file:line:col.
Mapping load_mapping(const std::string& path);
Mapping parse_mapping_text(const std::string& yaml_text, const std::string& file);
// Writes a mapping as YAML; parse_mapping_text(print_mapping(m)) == m.
std::string print_mapping(const Mapping& mapping);

// ---------------------------------------------------------------------------------------
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
};
ResolvedMapping resolve_mapping(const Problem& problem, const ArchSpec& arch,
                                const Mapping& mapping, const ResolveOptions& options = {});
// The same into `into`, reusing its storage (for callers that evaluate many mappings).
void resolve_mapping(const Problem& problem, const ArchSpec& arch, const Mapping& mapping,
                     ResolvedMapping& into, const ResolveOptions& options = {});

// ---------------------------------------------------------------------------------------
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

// Global-buffer bytes one group keeps at once (tiles of staged DRAM tensors and of
// global-buffer tensors; an elementwise Einsum's output reuses the space of an input that
// dies there). Used by resolve_mapping and by the mappers to choose tile sizes.
GroupBuffer group_buffer_usage(const Problem& problem, const ResolvedMapping& mapping, int group);

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

// ---------------------------------------------------------------------------------------
// Mappers.
//
//   fusemax  FuseMax (Nayak et al., MICRO'24) on a 1-pass cascade that partitions M into
//            M1 x M0: every Einsum over the M0 x P tile on the 2D array (on the 1D array
//            where the 2D PEs cannot run it: FLAT's hardware has no max or exp there), the
//            running state on the 1D array (or another array whose PEs can run it, as a
//            GPU's FP32 lanes); spatial P0 = cols x M0 = rows; DRAM loops batch, head,
//            P2, M1, pipelined over the M1 tiles; Q, K, V, AV in DRAM staged through the
//            global buffer, running state (RM, RD, RNV) in the global buffer, everything
//            else in the arrays' register files; P1 the largest divisor of P / P0 whose
//            tiles fit the global buffer.
//   flat     FLAT (Kao et al., ASPLOS'23) as modelled by the FuseMax artifact: contractions
//            on the 2D array, everything else on the 1D array. Candidates: all Einsums fused
//            over row blocks of P1 = P0, 2 P0, ... queries, output stationary, Q, K, V
//            streamed from DRAM, the intermediates in the global buffer (spilling what does
//            not fit; in place where an elementwise Einsum's input dies); and the
//            intermediates materialised in DRAM, weight-stationary kernels overlapped across
//            heads, the query block as large as fits. The caller keeps the fastest (then the
//            least energy).
//   unfused  each contraction is its own kernel on the 2D array, each run of other
//            Einsums one kernel on the 1D array working row by row; kernels run one
//            after the other, every intermediate between kernels goes through DRAM.
//   generic  any cascade: contractions on the 2D array; elementwise Einsums and reductions
//            on the 1D array (or another array whose PEs run what the 1D array's cannot), or
//            (FuseMax's binding) on the 2D array where they iterate over two ranks of more
//            than one point and the 2D PEs support their operations.
//            Spatial ranks: the widest output ranks across the columns, the next output or
//            reduced ranks down the rows, narrow ranks sharing the array with the next widest.
//            Inputs and outputs staged through the global buffer, intermediates kept in it
//            while they fit (else the tile whose streaming adds the least DRAM traffic leaves
//            first). Candidates: DRAM loops over batch and head only, or also over one rank no
//            Einsum reduces (P, lightning's block rank T) split in 2, 4, 8, ... tiles, in one
//            pipelined group or with the Einsums that tiling would not repeat (linear
//            attention's PHIK, KV, Z) run first in a group of their own, tiled over their
//            widest reduced rank, handing their outputs on through DRAM; the caller keeps the
//            fastest.

const std::vector<std::string>& mapper_names();
// Shape settings a mapper needs before the problem can be built (fusemax: M0 = rows of the
// 2D array). Throws Error for an unknown mapper or a cascade the mapper cannot handle.
std::map<std::string, std::string> mapper_shape_settings(const std::string& mapper,
                                                         const Cascade& cascade,
                                                         const ArchSpec& arch);
// Candidate mappings (at least one). Throws Error if the mapper cannot map the problem.
std::vector<Mapping> generate_mappings(const std::string& mapper, const Problem& problem,
                                       const ArchSpec& arch);
// The mapper used when none is named: fusemax for a 1-pass cascade that partitions M into
// M1 x M0, else generic.
std::string default_mapper(const Cascade& cascade);

}  // namespace cascade
