// The data mode's compiled form of an Einsum (internal to sim/systemc/datapath.cpp and
// datapath_code.cpp): where tensor copies live, expression nodes, read and reduction sites,
// and the compiler from an Einsum to that form.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "mappings/cascade/index_program.h"
#include "sim/functional/executor.h"
#include "sim/systemc/plan.h"

namespace cascade::datapath_detail {

enum Place { kDram = 0, kBuffer = 1, kArray = 2 };

struct Copy {
  std::vector<double> value;
  std::vector<uint8_t> valid;
};

struct TensorData {
  std::string name;
  std::vector<int64_t> sizes, strides;
  int64_t elements = 1;
  NumberFormat format = NumberFormat::FP64;
  int home = kDram;
  Copy at[3];
  Copy& place(int p) {
    if (at[p].value.size() != static_cast<size_t>(elements)) {
      at[p].value.assign(static_cast<size_t>(elements), 0.0);
      at[p].valid.assign(static_cast<size_t>(elements), 0);
    }
    return at[p];
  }
};

enum class Fn { Exp, Sqrt, Log, Abs, Relu, Elu1, Max, Min, Pow, Sigmoid, Tanh, Softplus };

// One node of a compiled value expression (children by index into EinsumCode::nodes).
struct Node {
  ExprOp op = ExprOp::Number;
  Fn fn = Fn::Exp;
  double number = 0;  // Number, Parameter: rounded to the accumulation format
  int site = -1;      // Read: index into reads; Index: into indices; Reduce: into reduces
  std::vector<int> args;
};

struct ReadSite {
  int tensor = -1;
  int place = kDram;
  std::vector<IndexProgram> dims;
  SourceLocation loc;
};

struct ReduceSite {
  std::vector<int> slots;
  bool max = false, min = false;
  std::vector<int> conditions;
  int summand = -1;           // the argument, without the hoisted factors for a sum
  std::vector<int> hoisted;   // sum: factors applied to the finished sum, in order
};

// An Einsum (or an iterative Einsum's init) compiled for the datapath.
struct EinsumCode {
  std::string name;
  SourceLocation loc;
  std::vector<std::string> slot_names;
  std::vector<int64_t> extents;  // per slot
  std::vector<int> outputs, implicit, reduced;
  std::vector<ConditionProgram> conditions;
  std::vector<int> output_conditions, term_conditions;
  std::vector<Node> nodes;
  std::vector<ReadSite> reads;
  std::vector<IndexProgram> indices;
  std::vector<ReduceSite> reduces;
  int root = -1;              // the value, or the implicit sum's summand without hoisted factors
  std::vector<int> hoisted;   // the implicit sum's hoisted factors
  int out_tensor = -1, out_place = kDram;
  std::vector<IndexProgram> out_dims;
  // DRAM tiling: per inner DRAM loop of the group, the slot it tiles (-1: none) and its
  // factor; per slot, what the loops below the DRAM level cover (padded).
  std::vector<int> dram_slot;
  std::vector<int64_t> dram_factor, span;
  bool fast = false;  // evaluated by the fast path (datapath_fast.h)
};

// What compiling an Einsum reads: the problem, the plan (where each access is staged), the
// accumulation format (constants are rounded to it) and the tensors' sizes.
struct CompileContext {
  const Problem& problem;
  const Plan& plan;
  NumberFormat accumulate;
  const std::vector<TensorData>& tensors;
};

// Where an access of `tensor` reads or writes: a staged access goes through the buffer.
int place_of(const Plan& plan, int tensor, bool staged);

// Compiles `einsum` over the iteration slots `names` with `extents` (the first two the batch
// and head slots); `einsum_index` -1: an init (its places are the tensor's home).
void compile_einsum(const CompileContext& context, const Einsum& einsum,
                    const std::vector<std::string>& names, const std::vector<int64_t>& extents,
                    int einsum_index, EinsumCode& c);

void variables_of(const IndexExpr& e, std::set<std::string>& out);

// Einsum e's DRAM-level tiling in its group (dram_slot, dram_factor, span); Error if its
// batch and head loops are not the group's outermost or its inner loops miss part of a tile.
void tile_einsum(const Plan& plan, int e, EinsumCode& c);

}  // namespace cascade::datapath_detail
