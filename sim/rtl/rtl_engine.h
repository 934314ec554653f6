// The cycle model's GEMM engine on the Verilated systolic tile (rtl_tile.h): in per-PE mode
// the 2D array's GEMM-shaped runs and its programs on resident tiles go to an RtlTile
// clocked inside the cycle model's own SystemC simulation (`cascade simulate --fidelity rtl`). The array must be N x N for a
// Verilated size N of its PE variant (rtl::tile_sizes()); accumulation is fp32. Every
// dataflow runs on the tile (output stationary through its drain, weight and input
// stationary through its weight chains).
// This header does not include SystemC.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/systemc/gemm_engine.h"
#include "sim/systemc/vector_engine.h"

namespace cascade {

namespace rtl {
class RtlTile;
}

class RtlGemmEngine : public GemmEngine {
 public:
  // The tile's PE variant: "default", "fastexp" or "user" (rtl_tile_variants(); else Error
  // naming the built ones).
  explicit RtlGemmEngine(std::string pe_variant = "default");
  ~RtlGemmEngine() override;
  std::string name() const override { return "the Verilated systolic tile"; }
  void check_array(const std::string& array, int64_t rows, int64_t cols) const override;
  void elaborate(int unit, int64_t rows, int64_t cols) override;
  // bf16 operands summed in fp32 (the tile's formats).
  bool takes_values(NumberFormat a, NumberFormat b, NumberFormat accumulate) const override;
  SystolicRun run(int unit, NumberFormat accumulate, Dataflow dataflow, const GemmOperands& gemm,
                  bool overlap_folds) override;
  TileProgramRun run_program(int unit, const std::vector<TileStep>& program) override;
  // Over every tile: GEMMs run on the RTL (all, or of one dataflow) and cycles clocked.
  int64_t gemms() const { return gemms_; }
  int64_t gemms(Dataflow dataflow) const { return by_dataflow_[static_cast<size_t>(dataflow)]; }
  int64_t programs() const { return programs_; }  // programs of tile operations on the RTL
  int64_t program_steps() const { return program_steps_; }
  int64_t cycles_clocked() const;

 private:
  rtl::RtlTile& tile(int unit);
  std::string variant_;
  std::map<int, std::unique_ptr<rtl::RtlTile>> tiles_;  // per unit
  int64_t gemms_ = 0, programs_ = 0, program_steps_ = 0;
  std::array<int64_t, 3> by_dataflow_{};
};

namespace rtl {
class RtlSoftmax;
}

// The cycle model's 1D engine on the Verilated online-softmax unit (rtl_softmax.h): in
// per-PE mode the 1D array's softmax commands (sim/systemc/lane_program.h) run on an
// RtlSoftmax of the array's lane count (rtl::softmax_lane_counts(): 4, 8, 16) clocked inside
// the cycle model's SystemC simulation (`cascade simulate --fidelity rtl`).
class RtlVectorEngine : public VectorEngine {
 public:
  RtlVectorEngine();
  ~RtlVectorEngine() override;
  std::string name() const override { return "the Verilated 1D softmax unit"; }
  void check_array(const std::string& array, int64_t lanes) const override;
  // bf16 storage, fp32 arithmetic, the hardware exp (the Verilated unit's).
  bool takes_values(NumberFormat storage, NumberFormat accumulate, ExpMode exp) const override;
  void elaborate(int unit, int64_t lanes) override;
  LaneRun run(int unit, const std::vector<LaneBatch>& commands) override;
  int64_t batches() const { return batches_; }    // runs of commands on the RTL
  int64_t commands() const { return commands_; }  // commands among them
  int64_t cycles_clocked() const;

 private:
  std::map<int, std::unique_ptr<rtl::RtlSoftmax>> units_;
  int64_t batches_ = 0, commands_ = 0;
};

// The PE variants of this build's tiles ("default, fastexp (user with ...)").
std::string rtl_tile_variants_text();

}  // namespace cascade
