// Decode is memory-bound: the analytical model's DRAM traffic for the decode cascade
// (configs/cascades/decode-gqa-split.yaml, Llama 3 8B shapes of
// configs/workloads/llama3-8b-decode.yaml) against the closed form "every K and V element
// once, plus q and the output", and its latency against that traffic over the DRAM
// bandwidth, for the shipped FuseMax decode mapping (configs/mappings/fusemax-decode.yaml)
// and for the generic mapper on FuseMax and on the measured H200.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/shipped_configs.h"

namespace cascade {
namespace {

using namespace testing_support;

constexpr double H = 32, HK = 8, E = 128, F = 128, kWord = 2;  // bf16 / 16-bit words

double kv_read_bytes(double batch, double M) {  // K, V of every KV head and q
  return batch * (2 * HK * M * E + H * E) * kWord;
}
double out_bytes(double batch) { return batch * H * F * kWord; }

DesignRun decode(const std::string& arch_name, const std::string& mapper, int64_t batch,
                 int64_t M) {
  return run_design_point(arch(arch_name), workload("llama3-8b-decode"),
                          cascade_file("decode-gqa-split"), 0, mapper, batch, 0,
                          {{"M", std::to_string(M)}});
}

void expect_memory_bound(const DesignRun& r, double batch, double M, double tolerance) {
  const double bytes = kv_read_bytes(batch, M) + out_bytes(batch);
  EXPECT_DOUBLE_EQ(r.result.stats.dram_read_bytes, kv_read_bytes(batch, M));
  EXPECT_DOUBLE_EQ(r.result.stats.dram_write_bytes, out_bytes(batch));
  const double closed_form = bytes / r.point.arch.component("dram").bandwidth_bytes_per_s;
  EXPECT_GE(r.result.latency_s, closed_form * (1 - 1e-9));
  EXPECT_LE(r.result.latency_s, closed_form * (1 + tolerance));
}

TEST(DecodeModel, ShippedFuseMaxMappingStreamsTheCacheOnceAtTheDramBandwidth) {
  const DesignRun r =
      decode("fusemax", kRoot + "/configs/mappings/fusemax-decode.yaml", 1, 65536);
  EXPECT_EQ(r.point.bindings.shape("S"), 8);    // 32 heads x 8 splits across 256 columns
  EXPECT_EQ(r.point.bindings.shape("M0"), 256);  // a tile of 256 keys down the rows
  EXPECT_EQ(r.point.bindings.shape("T"), 32);
  // 400 GiB/s (configs/arch/fusemax.yaml): 268.45 MB in 0.625 ms, plus one tile's fill.
  expect_memory_bound(r, 1, 65536, 1.0 / 32);
}

TEST(DecodeModel, GenericMapperOnFuseMaxAndTheH200IsMemoryBoundToo) {
  for (const char* a : {"fusemax", "h200-measured"})
    for (const auto& [batch, M] : {std::pair<int64_t, int64_t>{1, 4096}, {16, 1048576}}) {
      SCOPED_TRACE(std::string(a) + " batch " + std::to_string(batch) + " M " + std::to_string(M));
      expect_memory_bound(decode(a, "generic", batch, M), static_cast<double>(batch),
                          static_cast<double>(M), 0.02);
    }
}

}  // namespace
}  // namespace cascade
