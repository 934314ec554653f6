// The cycle model's GEMM engine on the Verilated systolic tile (rtl_tile.h): in per-PE mode
// the 2D array's GEMM-shaped runs go to an RtlTile clocked inside the cycle model's own
// SystemC simulation (`cascade simulate --fidelity rtl`). The array must be N x N for a
// Verilated size N (rtl_tile_sizes()); runs are output stationary with fp32 accumulation.
// This header does not include SystemC.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/systemc/gemm_engine.h"

namespace cascade {

namespace rtl {
class RtlTile;
}

class RtlGemmEngine : public GemmEngine {
 public:
  RtlGemmEngine();
  ~RtlGemmEngine() override;
  std::string name() const override { return "the Verilated systolic tile"; }
  void check_array(const std::string& array, int64_t rows, int64_t cols) const override;
  void elaborate(int unit, int64_t rows, int64_t cols) override;
  SystolicRun run(int unit, NumberFormat accumulate, Dataflow dataflow, const GemmOperands& gemm,
                  bool overlap_folds) override;
  // Over every tile: GEMMs run and cycles clocked.
  int64_t gemms() const { return gemms_; }
  int64_t cycles_clocked() const;

 private:
  std::map<int, std::unique_ptr<rtl::RtlTile>> tiles_;  // per unit
  int64_t gemms_ = 0;
};

// The Verilated tile sizes of this build ("4 x 4, 8 x 8").
std::vector<int> rtl_tile_sizes();
std::string rtl_tile_sizes_text();

}  // namespace cascade
