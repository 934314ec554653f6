// The tile model's task graph (sim/systemc/tile_schedule.h), without a simulation kernel:
// which Einsum runs in which DRAM-level iteration, the dependencies, the totals.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <tuple>
#include <vector>

#include "mappings/cascade/parser.h"
#include "mappings/problem/workload.h"
#include "sim/analytical/analytical_model.h"
#include "sim/systemc/tile_schedule.h"
#include "tests/support/design_run.h"

namespace cascade {
namespace {

const std::string kRoot = CASCADE_SOURCE_DIR;

struct MappedPoint {
  Problem problem;
  Mapping mapping;
  Stats analytical;
};

MappedPoint run(const std::string& arch_name, const std::string& cascade_name, const std::string& mapper,
        int64_t seq, ArchSpec& arch) {
  arch = load_arch(kRoot + "/configs/arch/" + arch_name + ".yaml");
  const Workload w = load_workload(kRoot + "/configs/workloads/bert-base.yaml");
  const Cascade c = parse_cascade_file(kRoot + "/configs/cascades/" + cascade_name + ".yaml");
  const testing_support::DesignRun d = testing_support::run_design_point(arch, w, c, seq, mapper);
  return {d.point.problem, d.result.mapping, d.result.stats};
}

TEST(TileSchedule, FuseMaxRunsTheWaterfallPerKeyTile) {
  ArchSpec arch;
  const MappedPoint r = run("fusemax", "softmax-1pass", "fusemax", 1024, arch);
  const TileSchedule s = build_tile_schedule(r.problem, arch, r.mapping);
  ASSERT_EQ(s.groups.size(), 1u);
  const TileSchedule::GroupInfo& g = s.groups[0];
  EXPECT_EQ(g.slices, 64 * 12);
  EXPECT_EQ(g.slices_simulated, 2);
  EXPECT_EQ(g.iterations, 4);  // P2 = 1 x M1 = 1024 / 256
  // Per slice: 4 DRAM tasks, 11 Einsums in each of the 4 key tiles, AV once after them.
  EXPECT_EQ(s.tasks.size(), 2u * (4 + 4 * 11 + 1));
  std::map<std::string, int> runs;
  std::map<std::pair<std::string, int64_t>, int> task_of;  // (einsum, step) -> task
  for (size_t t = 0; t < s.tasks.size(); ++t) {
    const TileTask& task = s.tasks[t];
    if (task.einsum < 0 || task.slice != 0) continue;
    const std::string& name = r.problem.einsums[task.einsum].name;
    ++runs[name];
    task_of[{name, task.step}] = static_cast<int>(t);
    if (name == "AV") {
      EXPECT_EQ(task.iteration, 3);  // after the last key tile
    }
  }
  EXPECT_EQ(runs["BQK"], 4);
  EXPECT_EQ(runs["RNV"], 4);
  EXPECT_EQ(runs["AV"], 1);
  auto depends = [&](const std::string& a, const std::string& b, int64_t step) {
    const TileTask& t = s.tasks[task_of.at({a, step})];
    const int d = task_of.at({b, step});
    return std::find(t.deps.begin(), t.deps.end(), d) != t.deps.end();
  };
  for (int64_t step = 0; step < 4; ++step) {
    EXPECT_TRUE(depends("RM", "LM", step)) << step;   // 1D waits for the 2D's tile max
    EXPECT_TRUE(depends("SLN", "RM", step)) << step;  // and the 2D for the running max
    EXPECT_TRUE(depends("RNV", "SLNV", step)) << step;
  }
  EXPECT_EQ(s.units[s.tasks[task_of.at({"BQK", 0})].unit], "array_2d");
  EXPECT_EQ(s.units[s.tasks[task_of.at({"RM", 0})].unit], "array_1d");
  // The recurrence: RM of a tile waits for RM of the one before.
  const TileTask& rm1 = s.tasks[task_of.at({"RM", 1})];
  EXPECT_NE(std::find(rm1.deps.begin(), rm1.deps.end(), task_of.at({"RM", 0})), rm1.deps.end());
}

// The tasks distribute the busy cycles of the shared compute-cost rule and of the loop
// nests' DRAM traffic (what both models use) over the runs: their sum over every slice is
// the analytical model's per-unit total. This checks the unrolling (which Einsum runs in
// which iteration, how often), not the cost rule.
TEST(TileSchedule, EverySliceAddsUpToTheAnalyticalBusyCycles) {
  for (const auto& [arch_name, cascade_name, mapper] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"fusemax", "softmax-1pass", "fusemax"}, {"unfused", "softmax-3pass", "unfused"}}) {
    ArchSpec arch;
    const MappedPoint r = run(arch_name, cascade_name, mapper, 256, arch);
    const TileSchedule s = build_tile_schedule(r.problem, arch, r.mapping, 0);
    std::map<std::string, double> busy;
    for (const TileTask& t : s.tasks) busy[s.units[t.unit]] += t.cycles;
    for (const auto& [unit, cycles] : r.analytical.busy_cycles)
      EXPECT_NEAR(busy[unit], cycles, 1e-6 * cycles) << arch_name << " " << unit;
    for (size_t t = 0; t < s.tasks.size(); ++t)
      for (int d : s.tasks[t].deps) ASSERT_LT(d, static_cast<int>(t));
  }
}

TEST(TileSchedule, TileBuffersBoundTheDramLookahead) {
  ArchSpec arch;
  const MappedPoint r = run("fusemax", "softmax-1pass", "fusemax", 2048, arch);
  for (int buffers : {2, 3}) {
    const TileSchedule s =
        build_tile_schedule(r.problem, arch, r.mapping, 1, buffers);
    for (const TileTask& load : s.tasks) {
      if (load.einsum >= 0 || load.step < buffers) continue;
      ASSERT_FALSE(load.deps.empty());
      for (int d : load.deps) EXPECT_EQ(s.tasks[d].step, load.step - buffers);
    }
  }
  EXPECT_THROW(build_tile_schedule(r.problem, arch, r.mapping, 2, 1), Error);
}

TEST(TileSchedule, OverlappedGroupsAreRefused) {
  ArchSpec arch;
  const MappedPoint r = run("flat", "softmax-3pass", "flat", 262144, arch);
  ASSERT_EQ(r.mapping.schedule, GroupSchedule::Overlapped);
  EXPECT_THROW(build_tile_schedule(r.problem, arch, r.mapping), Error);
}

}  // namespace
}  // namespace cascade
