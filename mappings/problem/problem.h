// Problem: a cascade with concrete shapes, batch and heads, prepared for loop-nest analysis.
// Built once per (cascade, shapes); every mapping evaluation reuses it.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mappings/cascade/cascade.h"
#include "mappings/problem/index_extent.h"

namespace cascade {

// Slots 0 and 1 of every Einsum's iteration space: the workload's batch and head ranks
// (lower-case: they never clash with a cascade's upper-case ranks).
inline constexpr int kBatchSlot = 0;
inline constexpr int kHeadSlot = 1;
inline constexpr const char* kBatchRank = "batch";
inline constexpr const char* kHeadRank = "head";

struct ProblemAccess {
  int tensor = -1;     // index into Problem::tensors
  bool write = false;  // the Einsum's output
  // One compiled index per tensor dimension (batch and head excluded).
  std::vector<IndexProgram> dims;
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
  // Operators per iteration point, by name (mac, mul, add, sub, div, exp, max, ...), sorted
  // by name, zero rates left out: operator_counts' per-point counts (the one counter,
  // mappings/analysis/operator_counts.h). A sum of products fuses one multiply and the add
  // into a MAC; factors of a summed product that do not depend on the summed variables (a
  // scale) are applied once per output point.
  std::vector<std::pair<std::string, double>> ops_per_point;
  // Register-file accesses per point, as Timeloop counts them, from operator_counts' operand
  // reads and accumulator accesses: every operand is filled into the PE's register file and
  // read from it, an accumulator is read and updated, every point writes its result.
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

}  // namespace cascade
