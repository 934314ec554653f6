// The Verilated systolic tile (hdl/tile_2d.sv, bf16 operands, fp32 accumulation) as a
// SystemC module: RtlTile2D wraps the `verilate(... SYSTEMC ...)` model of one size N (and
// PE variant, tile_variants()) and
// clocks it inside the caller's SystemC simulation. run() takes a GEMM the way the per-PE
// model SystolicArray::run(OutputStationary, ...) does and returns a SystolicRun: the same
// folds (R = min(N, M) rows and C = min(N, N_cols) columns used, the tiles in row-major
// order, a partial last tile padded), the values from the RTL, the cycles counted by the
// RTL's clock.
//
// Cycle boundary (both models): from the cycle the first operands are in PE (0, 0) to the
// cycle the last result leaves the array's south edge, inclusive. The tile has no input
// register, so an operation accepted in cycle t is in PE (0, 0) in cycle t: the count starts
// with the first accepted operation. A fold issues its K steps as OpMac (flag at k = 0,
// sel = {1, R - 1} at k = K - 1: the tile's output-stationary drain, hdl/README.md) and
// ends with its last result on drain_y_o. The feeder starts the next fold, as
// SystolicArray's feeder does, in the cycle after the previous fold's last result left
// (folds serialized) or max(K, R) cycles after the previous fold started (overlapped).
//
// The clock is the module's own (1 ns, the cycle model's cycle), gated: run() toggles it from
// the caller's SystemC thread while the GEMM runs, so a run called at time t returns at time
// t + cycles. Include only from sim/rtl and tests (it includes SystemC).
#pragma once

#include <systemc>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/systemc/systolic.h"

namespace cascade::rtl {

// One cycle's inputs: an OpMac (valid) or nothing, storage-format (bf16) operands.
struct TileInputs {
  bool valid = false, flag = false;
  uint8_t sel = 0;
  std::vector<uint16_t> a, b;  // west operand per row, north operand per column
};
// One cycle's drain outputs, per column.
struct TileDrain {
  std::vector<bool> valid;
  std::vector<int> row;
  std::vector<uint32_t> y;  // fp32 bits
};

class RtlTile : public sc_core::sc_module {
 public:
  RtlTile(sc_core::sc_module_name name, int n);
  ~RtlTile() override;
  int n() const { return n_; }
  // Runs C = A B (output stationary) on the tile; called from a SystemC thread, returns
  // after the cycles it took have passed. Throws Error for operands that are not bf16
  // values or a tile that misbehaves (a hang, results out of order).
  SystolicRun run(const GemmOperands& gemm, bool overlap_folds);
  // Every cycle clocked so far, and the wall time spent in them (for the speed benchmark).
  int64_t cycles_clocked() const { return clocked_; }
  double seconds_clocked() const { return seconds_; }

 protected:
  virtual void write_inputs(const TileInputs& in) = 0;
  virtual void read_drain(TileDrain& out) = 0;
  sc_core::sc_signal<bool> clk_, rst_n_;

 private:
  SystolicRun execute(const GemmOperands& gemm, bool overlap);
  int n_;
  bool running_ = false;
  int64_t clocked_ = 0;
  double seconds_ = 0;
};

// The tile sizes this build Verilated with the PE `variant` (default: 4 and 8, 16 with
// CASCADE_RTL_TILE16; fastexp: 4; user: 4 and 8; none for an unknown variant); the text
// lists them ("4 x 4, 8 x 8").
std::vector<int> tile_sizes(const std::string& variant);
std::string tile_sizes_text(const std::string& variant);
// The PE variants this build Verilated the tile with (`--rtl-pe`): "default" (pe_2d),
// "fastexp" (pe_2d_fastexp) and, with -DCASCADE_RTL_PE=file.sv, "user"; the text lists them.
std::vector<std::string> tile_variants();
std::string tile_variants_text();
// Error naming the built variants unless `variant` is one.
void check_variant(const std::string& variant);
// A tile of size n (one of tile_sizes(variant); else Error naming them) with the PE `variant`,
// created while the simulation elaborates.
std::unique_ptr<RtlTile> make_tile(const std::string& name, int n,
                                   const std::string& variant = "default");

}  // namespace cascade::rtl
