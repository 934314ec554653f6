// Data mode's GEMM-shaped runs on the 2D array in per-PE mode (internal to datapath.cpp):
// an Einsum of the form Out = sum over k of A x B is gathered, per DRAM-level tile, into the
// A (M x K) and B (K x N) matrices the per-PE array (or the Verilated tile) multiplies, from
// the places the mapping puts the operands; its C comes back into the output's place. So the
// values that flow on are the array's, and data mode's comparison with the executor checks
// them. The array's MAC is the executor's (a product rounded to the accumulation format,
// then the sum), accumulating in ascending k from zero: a tile continuing a reduction split
// over DRAM-level tiles (a partial sum to start from) stays on the datapath.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "sim/systemc/datapath_code.h"
#include "sim/systemc/systolic.h"

namespace cascade::datapath_detail {

struct GemmForm {
  int read[2] = {-1, -1};  // the product's two read sites
  std::vector<int> ranks[2];  // the output slots only read[i] uses, in output order
  std::vector<int> single;    // output slots both or neither use: one value per tile
  int k = -1;                 // the summed slot
};

// Whether `c` is a GEMM: two reads multiplied and summed over one implicit slot both use,
// every other slot an output slot (hoisted factors apply to C); an output slot not of exactly
// one read (a batch rank) must take one value per tile.
bool gemm_form(const EinsumCode& c, GemmForm& form);

struct GemmTile {
  GemmOperands operands;
  std::vector<int64_t> out_offsets;  // per C element (row-major): the output's offset
  std::vector<uint8_t> written;      // per C element: its output conditions hold
  bool last = true;  // the reduction's last tile: C rounds to the output's storage format
  // The last tile: per C element, the Einsum's hoisted factors (the executor multiplies the
  // finished sum by them in order, rounding each product), `factors` values each.
  std::vector<double> hoisted;
  size_t factors = 0;
};

// How the datapath reads an operand at the point in `slots`, and the output's offset there.
struct GemmAccess {
  std::vector<int64_t>& slots;
  std::function<double(const ReadSite&)> read;
  std::function<int64_t()> out_offset;
  std::function<void(std::vector<double>&)> hoisted;  // appends the hoisted factors' values
};

// Gathers c's tile [lo, hi] as a GEMM into `tile`, A from whichever read makes the GEMM
// (M x N x K) one `fits` takes; C elements whose output conditions fail (a mask) are not
// written. False, gathering nothing, when neither does, a condition on the summed rank fails
// somewhere in the tile, or the tile starts from a partial sum (lo[k] > 0).
bool gather_gemm(const EinsumCode& c, const GemmForm& form, const std::vector<int64_t>& lo,
                 const std::vector<int64_t>& hi,
                 const std::function<bool(int64_t m, int64_t n, int64_t k)>& fits,
                 const GemmAccess& access, GemmTile& tile);

// The runs the array computes: their shapes, the operands gathered, where C goes.
class GemmFeed {
 public:
  std::function<bool(NumberFormat a, NumberFormat b, NumberFormat accumulate)> accepts;

  // Operation op runs on rows x cols PEs in `dataflow` with `geometry`: its data's GEMM is
  // gathered if it takes the same folds (so the same cycles).
  void feed(int op, int64_t rows, int64_t cols, Dataflow dataflow, const SystolicGeometry& geometry);
  bool fed(int op) const { return runs_.count(op) > 0; }
  // Gathers fed operation op's tile (Einsum e, compiled as c): its points, 0 if it stays on
  // the datapath (not a GEMM, other folds, a partial sum to start from, formats refused).
  double gather(int op, int e, const EinsumCode& c, const std::vector<TensorData>& tensors,
                NumberFormat accumulate, const std::vector<int64_t>& lo,
                const std::vector<int64_t>& hi, const GemmAccess& access);
  bool take(int op, GemmOperands& operands);
  // C of op's GEMM into `target`; on the reduction's last tile times the hoisted factors (in
  // `accumulate`) and rounded to `storage`.
  void put(int op, const std::vector<double>& c, NumberFormat accumulate, NumberFormat storage,
           Copy& target);

 private:
  struct Run {
    int64_t rows = 0, cols = 0;
    Dataflow dataflow = Dataflow::OutputStationary;
    SystolicGeometry geometry;
    bool gathered = false;
    GemmTile tile;
  };
  std::map<int, Run> runs_;
  std::map<int, std::optional<GemmForm>> forms_;  // per Einsum looked at: its form if a GEMM
};

}  // namespace cascade::datapath_detail
