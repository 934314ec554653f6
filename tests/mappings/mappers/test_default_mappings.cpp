// The mappers on the shipped cascades: default mappers, placement of Einsums on arrays by
// what their PEs can do, and the generic mapper against the DRAM bound.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "mappings/mappers/registry.h"
#include "tests/support/shipped_configs.h"

namespace cascade {
namespace {

using testing_support::DesignRun;
using testing_support::arch;
using testing_support::cascade_file;
using testing_support::run;
using testing_support::run_design_point;

TEST(Mappers, DefaultMappingsForEveryCascade) {
  // Contractions on the 2D array, elementwise Einsums and reductions on the 1D array.
  const ArchSpec a = arch("fusemax");
  for (const char* name :
       {"linear", "linear-causal", "linear-relu", "linear-causal-chunked", "lightning",
        "neighborhood-1d", "neighborhood-1d-causal", "neighborhood-2d", "softmax-2pass",
        "softmax-deferred-division", "softmax-causal", "softmax-1pass-causal"}) {
    const Cascade c = cascade_file(name);
    std::map<std::string, std::string> settings;
    for (const std::string& s : cascade_shape_names(c))
      if (s == "P" || s == "M") settings[s] = "512";
    Workload none;
    none.name = "none";
    const DesignRun r = run_design_point(a, none, c, 0, "", 2, 4, settings);
    EXPECT_EQ(r.result.mapping.mapper, default_mapper(c).name()) << name;
    EXPECT_GT(r.result.latency_s, 0) << name;
    EXPECT_GT(r.result.energy.total_pj, 0) << name;
    for (const auto& [array, u] : r.result.stats.utilization) {
      EXPECT_GE(u, 0) << name;
      EXPECT_LE(u, 1.0 + 1e-9) << name << " " << array;
    }
    if (r.result.mapping.mapper != "generic") continue;
    for (const EinsumStats& e : r.result.stats.einsums) {
      const ProblemEinsum& pe = r.point.problem.einsums[r.point.problem.find_einsum(e.name)];
      if (pe.contraction) {
        EXPECT_EQ(e.array, "array_2d") << name << " " << e.name;
      }
      if (e.array != "array_2d") continue;
      // On the 2D array only what its PEs can do (FuseMax's 2D PEs do not divide), and only
      // tiles: two ranks of more than one point.
      int wide = 0;
      for (size_t s = 2; s < pe.variables.size(); ++s) wide += pe.variables[s].extent > 1;
      EXPECT_GE(wide, 2) << name << " " << e.name;
      for (const auto& [op, rate] : pe.ops_per_point)
        EXPECT_TRUE(op != "divide" || rate == 0) << name << " " << e.name;
    }
  }
}

TEST(Mappers, FuseMaxOnFlatHardwareMovesWhatThe2dPesCannotRun) {
  // FLAT's 2D PEs do MACs and adds only (configs/arch/flat.yaml): the online softmax's max
  // (LM) and exp (SLN) go to the 1D array, the MACs and the sum SLD stay on the 2D array.
  const DesignRun r = run("flat", "bert-base", "softmax-1pass", "fusemax", 4096);
  std::map<std::string, std::string> array;
  for (const EinsumStats& e : r.result.stats.einsums) array[e.name] = e.array;
  EXPECT_EQ(array["LM"], "array_1d");
  EXPECT_EQ(array["SLN"], "array_1d");
  for (const char* e : {"BQK", "SLD", "SLNV"}) EXPECT_EQ(array[e], "array_2d") << e;
  for (const char* e : {"RM", "PRM", "SPD", "RD", "SPNV", "RNV", "AV"})
    EXPECT_EQ(array[e], "array_1d") << e;
}

TEST(Mappers, GenericReachesTheDramBoundAtLongSequences) {
  // XLM at 64K on FuseMax: linear, chunked causal linear and lightning attention read Q, K, V
  // and write the output once (B*H*(E*P + E*M + F*M + F*P) words) and nothing else of
  // size P; their compute needs far less time than that traffic at 400 GiB/s. Exercises the
  // split-off group (linear: PHIK, KV, Z first, tiled over M), per-chunk feature maps
  // (chunked), and a block loop that also tiles lightning's AV[f, p] = O[p / B, p % B, f].
  const double words = 64.0 * 16 * (128.0 * 65536 * 4);
  const double bound_s = words * 2 / (400.0 * (1 << 30));
  for (const char* c : {"linear", "linear-causal-chunked", "lightning"}) {
    const DesignRun r = run("fusemax", "xlm", c, "generic", 65536);
    EXPECT_GE(r.result.stats.dram_bytes, words * 2) << c;
    EXPECT_LE(r.result.stats.dram_bytes, words * 2 * 1.002) << c << " " << r.result.mapping.name;
    EXPECT_GE(r.result.latency_s, bound_s) << c;
    EXPECT_LE(r.result.latency_s, bound_s * 1.01) << c << " " << r.result.mapping.name;
  }
}

TEST(Mappers, GenericLinearAttentionIsDramBound) {
  // Linear attention at 4K on FuseMax does 2 x 64 x 64 MACs per query and key: far less
  // than the DRAM time of reading Q, K, V and writing the output once. The generic mapping
  // must come close to that bound: B*H*(E*P + E*M + F*M + F*P) words at 400 GiB/s.
  const DesignRun r = run("fusemax", "bert-base", "linear", "generic", 4096);
  const double words = 64.0 * 12 * (64.0 * 4096 * 4);
  const double bound_s = words * 2 / (400.0 * (1 << 30));
  EXPECT_DOUBLE_EQ(r.result.stats.dram_bytes, words * 2);
  EXPECT_GE(r.result.latency_s, bound_s);
  EXPECT_LE(r.result.latency_s, bound_s * 1.25) << r.result.mapping.name;
  EXPECT_EQ(r.result.stats.bottleneck, "dram");
}

}  // namespace
}  // namespace cascade
