// What runs the cycle model's GEMM-shaped runs of a 2D array in per-PE mode, and its programs
// of tile operations on resident tiles (tile_program.h). The default is
// the per-PE C++ model (SystolicArray, systolic.h); sim/rtl implements it with the Verilated
// systolic tile (hdl/tile_2d.sv) clocked inside the same SystemC simulation, and the CLI
// passes it in through CycleModelOptions::gemm_engine (so sim/systemc does not depend on
// sim/rtl). This header does not include SystemC.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/functional/number_format.h"
#include "sim/systemc/resident_array.h"
#include "sim/systemc/systolic.h"

namespace cascade {

class GemmEngine {
 public:
  virtual ~GemmEngine() = default;
  // For messages ("the Verilated systolic tile").
  virtual std::string name() const = 0;
  // Throws Error unless it runs GEMMs for `array` (rows x cols PEs); the message says what
  // it runs instead. Called when the model is built, for every 2D array.
  virtual void check_array(const std::string& array, int64_t rows, int64_t cols) const = 0;
  // Called once per 2D array (unit index `unit`) while the cycle model elaborates, before
  // sc_start: an engine with SystemC modules creates them here.
  virtual void elaborate(int unit, int64_t rows, int64_t cols) = 0;
  // Data mode: whether it computes GEMMs of operands stored in `a` and `b` summed in
  // `accumulate`; if so, the runs it gets carry the data's operands and its C is the values
  // that flow on (datapath.h, feed_gemm), else the datapath computes them and it gets zeros.
  virtual bool takes_values(NumberFormat a, NumberFormat b, NumberFormat accumulate) const = 0;
  // Runs `gemm` on unit `unit`'s array. Called from that unit's SystemC thread: it may let
  // simulated time pass (returning when the run is done); the unit then waits only for the
  // part of SystolicRun::cycles that has not passed yet. Throws Error for a run it cannot do.
  virtual SystolicRun run(int unit, NumberFormat accumulate, Dataflow dataflow,
                          const GemmOperands& gemm, bool overlap_folds) = 0;
  // Runs a program of tile operations (resident_array.h; tile_program.h builds them) on unit
  // `unit`'s array, on the state its previous runs left; like run(), from that unit's
  // SystemC thread, and it may let simulated time pass. Error for a program it cannot run.
  virtual TileProgramRun run_program(int unit, const std::vector<TileStep>& program) = 0;
};

}  // namespace cascade
