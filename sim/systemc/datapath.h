// Data mode of the cycle-level model: real tensor values move with the plan's operations.
//
// Every tensor has a copy per place: DRAM, the global buffer, and the arrays (register files
// and the operands streamed into the arrays). A cascade input starts valid in its home place
// (rounded to its storage format, as the executor loads it); a produced tensor starts as
// zeros in its home place (the executor's zero-filled tensors: what a masked output keeps),
// invalid everywhere else. Then, for the first (batch, head) slice, each operation does what
// its unit does with the data, when the unit starts it:
//   Load     copies the elements of its tensor that its Einsum's run touches from DRAM into
//            the global buffer (staged) or the array (streamed);
//   Compute  evaluates its Einsum on the points of its DRAM-level tile, reading every operand
//            from the place the mapping puts it, writing the result there;
//   Store    copies the elements its Einsum's run wrote back to DRAM.
// Reading an element that no operation has put in that place is an error naming the
// operation: a plan that forgets a load, a store or a dependency fails loudly, and one that
// moves a stale or partial tile gives different values.
//
// The arithmetic is a second implementation of the executor's documented rounding order
// (sim/functional/executor.h, points 1-5), written per point over the tile rather than per
// Einsum over the whole space: it shares the number formats (round_to, exp_in), the index
// evaluator (IndexProgram) and the hoisting rule (split_summed_product), not the executor's
// code. The Einsums it can, a fast path evaluates a row of points at a time with the same
// sequence of rounded operations per point (sim/systemc/datapath_fast.h); the rest go
// point by point. A reduction split over DRAM-level tiles keeps its partial sums in the accumulation
// format where its output lives (and moves them with the tile, through DRAM if the plan
// spills them); the last tile applies the hoisted factors and rounds to the storage format.
// The result equals the executor's bit for bit when the tiles visit each reduction in
// ascending order, which the shipped mappers do (tests/agreement/test_cycle_data.cpp).
//
// Plain C++ (no SystemC): the SystemC units call run() as they start each operation.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/functional/executor.h"
#include "sim/systemc/plan.h"
#include "sim/systemc/softmax_lanes.h"
#include "sim/systemc/systolic.h"
#include "sim/systemc/tensor_difference.h"

namespace cascade {

struct DatapathCounts {
  int64_t operations = 0;  // operations of the first slice that moved or computed values
  double points = 0;       // Einsum points evaluated
  double loaded = 0;       // elements copied out of DRAM
  double stored = 0;       // elements copied into DRAM
  double fast_points = 0;  // of `points`, those the fast path evaluated (datapath_fast.h)
  double array_points = 0;  // of `points`, those the 2D array computed PE by PE (per-PE mode)
  int64_t array_runs = 0;   // GEMM-shaped runs whose values came from the 2D array
  int64_t array_declined = 0;  // GEMM-shaped runs the array timed on zeros, the datapath computed
  int64_t lane_runs = 0;       // 1D-unit runs whose values came from its lanes (per-PE mode)
  double lane_points = 0;      // their points
  int64_t lane_declined = 0;   // 1D-unit runs timed on zeros (formats refused, not the plain form)
};

class Datapath {
 public:
  // `plan` must outlive the datapath. `inputs` holds every cascade input with the executor's
  // extents; `options` are the executor's (storage, accumulation, exp). `fast` false, or the
  // environment variable CASCADE_DATA_GENERIC set to anything but "" or "0", evaluates every
  // Einsum through the generic per-point path (for tests and benchmarks of the fast path,
  // which must give the same bits).
  Datapath(const Problem& problem, const Plan& plan, const TensorMap& inputs,
           const ExecutionOptions& options, bool fast = true);
  ~Datapath();
  Datapath(const Datapath&) = delete;
  Datapath& operator=(const Datapath&) = delete;

  // The data action of plan operation `op` (nothing for other slices and spill traffic).
  void run(int op);
  // Per-PE mode (datapath_gemm.h): compute operation `op` is a GEMM-shaped run the 2D array
  // (rows x cols PEs, `dataflow`) simulates PE by PE in `geometry`'s folds. When the first
  // slice's run starts, run(op) gathers its tile as a GEMM instead of evaluating it, if its
  // Einsum is one (C = sum over k of A B) whose tile takes the same folds on the array, starts
  // its reduction from zero, and `accepts` (set once: the operands' and the accumulation's
  // formats) allows; the array unit then takes the operands (take_gemm: false if none were
  // gathered) and returns C (put_gemm), which goes where the Einsum's output lives. Other
  // slices' operations are ignored.
  void feed_gemms(std::function<bool(NumberFormat a, NumberFormat b, NumberFormat accumulate)> accepts);
  void feed_gemm(int op, int64_t rows, int64_t cols, Dataflow dataflow, const SystolicGeometry& geometry);
  bool take_gemm(int op, GemmOperands& operands);
  void put_gemm(int op, const std::vector<double>& c);
  NumberFormat accumulate() const;  // the format the array must sum in for the values to agree
  // Per-PE mode, 1D array (datapath_lanes.h): operation `op` is a run of a leader Einsum
  // (lane_program.h) on `lanes` lanes. When the first slice's run starts, run(op) gathers its
  // points' operands, if `accepts` (set once: storage, accumulation and exp mode) allows and
  // the compiled form is the plain one; the unit then takes the commands (take_lanes: false
  // if none) and returns the results (put_lanes), which go where the Einsum's output lives
  // (a MaxExp's r1 where its partner's does, when the partner's run starts).
  void feed_lanes(std::function<bool(NumberFormat storage, NumberFormat accumulate, ExpMode exp)> accepts);
  void feed_lane_run(int op, int lanes);
  bool take_lanes(int op, std::vector<LaneBatch>& commands);
  void put_lanes(int op, const LaneRun& run);
  NumberFormat storage() const;  // the format the lanes must store in

  // Every tensor as it ends up: a DRAM tensor's DRAM copy, other tensors' home copies.
  TensorMap results() const;
  const DatapathCounts& counts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cascade
