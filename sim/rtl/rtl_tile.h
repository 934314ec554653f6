// The Verilated systolic tile (hdl/tile_2d.sv, bf16 operands, fp32 accumulation) as a
// SystemC module: RtlTile2D wraps the `verilate(... SYSTEMC ...)` model of one size N (and
// PE variant, tile_variants()) and
// clocks it inside the caller's SystemC simulation. run() takes a GEMM the way the per-PE
// model SystolicArray::run does, in any of its dataflows, and returns a SystolicRun: the
// same folds (systolic_geometry: the rows and columns used, the tiles in the same order, a
// partial last tile padded), the values from the RTL, the cycles counted by the RTL's clock.
// The tile has no input register, so an operation accepted in cycle t is in PE (0, 0) in
// cycle t: the count starts with the first accepted input.
//
// Output stationary: a fold issues its K steps as OpMac (flag at k = 0, sel = {1, R - 1} at
// k = K - 1: the tile's output-stationary drain, hdl/README.md); the count ends with the
// cycle the last result is on drain_y_o (both models present it the cycle after the last
// MAC). The feeder starts the next fold, as SystolicArray's does, in the cycle after the
// previous fold's last result (serialized) or max(K, R) cycles after the previous fold.
// Weight stationary: a fold loads its R weight rows through the columns' weight chains
// (R input beats, the bottom row's first), then streams A's M rows as OpWsDot (sel[7] on the
// first: swap the shadow weights in; flag from the second K tile on: start from the
// buffer's partial sum, handed to each column when the operation reaches it). The per-PE
// model counts a result in the cycle PE (R - 1, c) computes it; the RTL presents it on
// drain_y_o one cycle later, from that PE's output register, so the count ends with the
// cycle before the last result is on drain_y_o, and the next serialized fold's first load
// is in the cycle the previous fold's last result is there; overlapped, a fold's loads
// start max(M, R) - R cycles after the previous fold's stream (SystolicArray's feeder).
// Input stationary is weight stationary on C^T = B^T A^T (transposed()).
//
// The clock is the module's own (1 ns, the cycle model's cycle), gated: run() toggles it from
// the caller's SystemC thread while the GEMM runs, so a run called at time t returns at time
// t + cycles. Include only from sim/rtl and tests (it includes SystemC).
#pragma once

#include <systemc>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/systemc/resident_array.h"
#include "sim/systemc/systolic.h"

namespace cascade::rtl {

// One cycle's inputs: an operation (hdl/tile_pkg.sv), storage-format (bf16) operands, a
// row of weights for the weight chains (wload, wlast; on b), the fp32 north operands x and
// the partial sums the columns read this cycle (fp32 bits).
struct TileInputs {
  bool valid = false, flag = false, wload = false, wlast = false;
  uint32_t op = 0;  // hdl/tile_pkg.sv pe_op_e
  uint8_t sel = 0;
  uint8_t entry = 0;  // the PEs' register-file entry (hdl/pe_2d.sv)
  std::vector<uint16_t> a, b;  // west operand per row, north operand (or weight) per column
  std::vector<uint32_t> x;     // per column
  std::vector<uint32_t> psum;  // per column
};
// One cycle's outputs: the drain's, per column; the deskewed column result; the input's
// ready (none of them depends on this cycle's inputs).
struct TileOutputs {
  std::vector<bool> valid;
  std::vector<int> row;
  std::vector<uint32_t> y;  // fp32 bits
  bool out_valid = false, in_ready = false;
  std::vector<uint32_t> out_y;  // fp32 bits, per column
};

class RtlTile : public sc_core::sc_module {
 public:
  RtlTile(sc_core::sc_module_name name, int n);
  ~RtlTile() override;
  int n() const { return n_; }
  // Runs C = A B in `dataflow` on the tile; called from a SystemC thread, returns after the
  // cycles it took have passed. Throws Error for operands that are not bf16 values or a
  // tile that misbehaves (a hang, results out of order).
  // It starts from a reset tile, so it clears the PEs' register files.
  SystolicRun run(Dataflow dataflow, const GemmOperands& gemm, bool overlap_folds);
  // Runs a program of tile operations (sim/systemc/resident_array.h, whose model it must
  // equal) on the tile's state as the last program or GEMM left it (the first run starts
  // from a reset tile); returns each step's acceptance cycle, the column results and their
  // cycles, and the cycles until its last step's hold and last result are over. Called
  // from a SystemC thread, like run(); Error, before a cycle runs, for a step it cannot take.
  TileProgramRun run_program(const std::vector<TileStep>& program);
  // Every cycle clocked so far, and the wall time spent in them (for the speed benchmark).
  int64_t cycles_clocked() const { return clocked_; }
  double seconds_clocked() const { return seconds_; }

 protected:
  virtual void write_inputs(const TileInputs& in) = 0;
  virtual void read_outputs(TileOutputs& out) = 0;
  sc_core::sc_signal<bool> clk_, rst_n_;

 private:
  SystolicRun output_stationary(const GemmOperands& gemm, bool overlap);
  SystolicRun weight_stationary(const GemmOperands& gemm, bool overlap);
  void reset();
  // One cycle of a run: given the cycle and its outputs, fills the inputs to offer (or ends
  // the run: true, and the cycle is not clocked).
  using Step = std::function<bool(int64_t cycle, const TileOutputs& outputs, TileInputs& in)>;
  // Resets the tile (unless `reset` is false) and clocks it, `step` by `step`, until one
  // ends the run (Error past `limit` cycles); returns the run's last cycle.
  int64_t clock_until(int64_t limit, const Step& step, bool reset = true);
  int n_;
  bool running_ = false;
  bool started_ = false;  // a run has reset the tile (the first program starts from a reset)
  int64_t clocked_ = 0;
  double seconds_ = 0;
};

// The tile sizes this build Verilated with the PE `variant` (default: 4, 8 and 16, not 16
// with CASCADE_RTL_TILE16=OFF; fastexp: 4; user: 4 and 8; none for an unknown variant); the
// text lists them ("4 x 4, 8 x 8, 16 x 16").
std::vector<int> tile_sizes(const std::string& variant);
std::string tile_sizes_text(const std::string& variant);
// The PE variants this build Verilated the tile with (`--rtl-pe`): "default" (pe_2d's logic
// in one loop, pe_array_2d), "fastexp" (pe_2d_fastexp instances) and, with
// -DCASCADE_RTL_PE=file.sv, "user" (its instances); the text lists them.
std::vector<std::string> tile_variants();
std::string tile_variants_text();
// The exp the variant's PE computes (hardware; fastexp: fast; user: CASCADE_RTL_PE_EXP).
ExpMode tile_exp(const std::string& variant);
// Error naming the built variants unless `variant` is one.
void check_variant(const std::string& variant);
// A tile of size n (one of tile_sizes(variant); else Error naming them) with the PE `variant`,
// created while the simulation elaborates.
std::unique_ptr<RtlTile> make_tile(const std::string& name, int n,
                                   const std::string& variant = "default");

}  // namespace cascade::rtl
