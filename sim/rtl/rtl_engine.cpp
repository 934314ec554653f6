#include "sim/rtl/rtl_engine.h"

#include <algorithm>
#include <utility>

#include "arch/support/error.h"
#include "sim/rtl/rtl_softmax.h"
#include "sim/rtl/rtl_tile.h"

namespace cascade {

std::string rtl_tile_variants_text() { return rtl::tile_variants_text(); }

RtlGemmEngine::RtlGemmEngine(std::string pe_variant) : variant_(std::move(pe_variant)) {
  rtl::check_variant(variant_);
}
RtlGemmEngine::~RtlGemmEngine() = default;

void RtlGemmEngine::check_array(const std::string& array, int64_t rows, int64_t cols) const {
  const std::vector<int> sizes = rtl::tile_sizes(variant_);
  if (rows == cols && std::find(sizes.begin(), sizes.end(), rows) != sizes.end()) return;
  throw Error("--fidelity rtl runs the 2D array on a Verilated systolic tile; " + array + " is " +
              std::to_string(rows) + " x " + std::to_string(cols) + ", and this build has " +
              rtl::tile_sizes_text(variant_) + " with PE '" + variant_ +
              "' (16 x 16: default PE only, unless built with -DCASCADE_RTL_TILE16=OFF)");
}

void RtlGemmEngine::elaborate(int unit, int64_t rows, int64_t cols) {
  check_array("unit " + std::to_string(unit), rows, cols);
  tiles_[unit] = rtl::make_tile("rtl_tile_" + std::to_string(unit), static_cast<int>(rows), variant_);
}

bool RtlGemmEngine::takes_values(NumberFormat a, NumberFormat b, NumberFormat accumulate) const {
  return a == NumberFormat::BF16 && b == NumberFormat::BF16 && accumulate == NumberFormat::FP32;
}

SystolicRun RtlGemmEngine::run(int unit, NumberFormat accumulate, Dataflow dataflow,
                               const GemmOperands& gemm, bool overlap_folds) {
  rtl::RtlTile& t = tile(unit);
  if (accumulate != NumberFormat::FP32)
    throw Error("the Verilated systolic tile accumulates in fp32, not " + std::string(to_string(accumulate)));
  ++gemms_;
  ++by_dataflow_[static_cast<size_t>(dataflow)];
  return t.run(dataflow, gemm, overlap_folds);
}

TileProgramRun RtlGemmEngine::run_program(int unit, const std::vector<TileStep>& program) {
  rtl::RtlTile& t = tile(unit);
  ++programs_;
  program_steps_ += static_cast<int64_t>(program.size());
  return t.run_program(program);
}

rtl::RtlTile& RtlGemmEngine::tile(int unit) {
  auto it = tiles_.find(unit);
  if (it == tiles_.end()) throw Error("--fidelity rtl: no Verilated tile for unit " + std::to_string(unit));
  return *it->second;
}

int64_t RtlGemmEngine::cycles_clocked() const {
  int64_t c = 0;
  for (const auto& [unit, tile] : tiles_) c += tile->cycles_clocked();
  return c;
}

RtlVectorEngine::RtlVectorEngine() = default;
RtlVectorEngine::~RtlVectorEngine() = default;

void RtlVectorEngine::check_array(const std::string& array, int64_t lanes) const {
  const std::vector<int> counts = rtl::softmax_lane_counts();
  if (std::find(counts.begin(), counts.end(), lanes) != counts.end()) return;
  throw Error("--fidelity rtl runs the 1D array's softmax Einsums on the Verilated 1D unit; " +
              array + " has " + std::to_string(lanes) + " lanes, and this build has " +
              rtl::softmax_lane_counts_text());
}

bool RtlVectorEngine::takes_values(NumberFormat storage, NumberFormat accumulate, ExpMode exp) const {
  return storage == NumberFormat::BF16 && SoftmaxLanes::takes_values(storage, accumulate, exp);
}

void RtlVectorEngine::elaborate(int unit, int64_t lanes) {
  check_array("unit " + std::to_string(unit), lanes);
  units_[unit] = rtl::make_softmax_unit("rtl_softmax_" + std::to_string(unit), static_cast<int>(lanes));
}

LaneRun RtlVectorEngine::run(int unit, const std::vector<LaneBatch>& commands) {
  auto it = units_.find(unit);
  if (it == units_.end()) throw Error("--fidelity rtl: no Verilated 1D unit for unit " + std::to_string(unit));
  ++batches_;
  commands_ += static_cast<int64_t>(commands.size());
  return it->second->run(commands);
}

int64_t RtlVectorEngine::cycles_clocked() const {
  int64_t c = 0;
  for (const auto& [unit, u] : units_) c += u->cycles_clocked();
  return c;
}

}  // namespace cascade
