// The data mode's fast path (internal to sim/systemc/datapath.cpp): an Einsum's DRAM-level
// tile evaluated a row at a time instead of a point at a time.
//
// A row is up to kRow consecutive values of the Einsum's last output slot v, every other
// slot fixed. Each expression node is evaluated over the whole row into its own buffer:
// reads become a strided gather (the affine index programs give the offset at the row's
// first point and the stride along v), conditions a lane mask, arithmetic a loop with the
// format's rounding chosen once per loop instead of per point. Reductions (the implicit sum
// of a contraction, explicit max/min/sum) keep one accumulator per lane and walk their
// slots in the generic path's order, so every lane sees exactly the generic path's sequence
// of rounded operations: the same products, the same additions in the same order, the same
// hoisted factors applied to the finished sum, the same rounding to the storage format.
// Lanes a mask turns off are never read nor accumulated. Rows are visited in the generic
// path's point order (v is the innermost output slot).
//
// What it does not cover, the generic path evaluates (fast_covers says which): a non-affine
// index, condition or output index, an output with no slot or whose offset does not move
// along v, and an Einsum that reads its own output tensor (a recurrence step reading the
// previous step). A read of an element nobody put there, or a read or write out of range,
// makes evaluate() return false before it has reported anything; the caller then runs the
// tile through the generic path, which raises the error naming the operation.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/systemc/datapath_code.h"

namespace cascade::datapath_detail {

// Whether the fast path evaluates `c` (every tile of it); checked once per Einsum.
bool fast_covers(const EinsumCode& c, const std::vector<TensorData>& tensors);

// A node's values on a row: p[k] per lane, or p[0] on every lane (uniform).
struct FastValue {
  const double* p = nullptr;
  bool uniform = false;
};

class FastEvaluator {
 public:
  static constexpr int64_t kRow = 512;

  FastEvaluator(std::vector<TensorData>& tensors, const ExecutionOptions& options)
      : tensors_(tensors), options_(options) {}

  // Evaluates `c` (fast_covers) on the points in [lo, hi] and writes its output, as the
  // generic path does: `first` / `last` say whether the tile starts / ends its implicit
  // reduction (a partial sum is read from / kept in the output copy in the accumulation
  // format). False: a read or write the generic path must report (see the top).
  bool evaluate(const EinsumCode& c, const std::vector<int64_t>& lo, const std::vector<int64_t>& hi,
                bool first, bool last);
  // Marks every element `c` writes (where its output conditions hold) invalid in the output
  // tensor's copy at `place`, nothing else. False: some are out of range (nothing is then
  // promised; the caller marks them point by point).
  bool unmark_outputs(const EinsumCode& c, int place);

 private:
  struct Mask;
  struct Bail {};

  void row(const EinsumCode& c, const std::vector<int64_t>& lo, const std::vector<int64_t>& hi,
           bool first, bool last);
  Mask restrict_to(const EinsumCode& c, const std::vector<int>& conditions, const Mask& parent,
                   uint8_t* bits) const;
  FastValue eval(const EinsumCode& c, int node, const Mask& m);
  FastValue read(const ReadSite& r, const Mask& m, double* out);  // in out, or in place
  FastValue reduce(const EinsumCode& c, const ReduceSite& r, const Mask& m, int node, double* out);
  double* buffer(int node) { return values_.data() + static_cast<size_t>(node) * kRow; }

  std::vector<TensorData>& tensors_;
  ExecutionOptions options_;
  std::vector<int64_t> slots_;
  int v_ = -1;     // the row's slot
  int mark_ = -1;  // unmark_outputs: the place whose valid bits a row clears
  int64_t n_ = 0;  // lanes in the row
  std::vector<double> values_;   // per node, then the accumulator row
  std::vector<uint8_t> masks_;   // per node (a reduction's inner mask), then output and term
};

}  // namespace cascade::datapath_detail
