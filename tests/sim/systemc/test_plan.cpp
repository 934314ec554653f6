// The cycle-level model's plan (sim/systemc/plan.h): how often each tile moves is counted
// by walking the DRAM-level iterations; the analytical model computes it with a reuse
// formula. Both must give the same DRAM and buffer traffic on every shipped design.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "mappings/cascade/parser.h"
#include "mappings/mapping/data_movement.h"
#include "sim/systemc/plan.h"
#include "tests/support/design_run.h"

namespace cascade {
namespace {

const std::string kRoot = CASCADE_SOURCE_DIR;

struct Totals {
  double dram_reads = 0, dram_writes = 0, buffer_reads = 0, buffer_writes = 0;
};

Totals plan_totals(const Plan& plan, const Problem& problem) {
  Totals t;
  const double slices_scale = 1;  // the plan covers every slice here (max_slices 0)
  (void)slices_scale;
  for (const PlanOp& op : plan.ops) {
    if (op.kind == PlanOp::Kind::Load) {
      t.dram_reads += op.words;
      if (op.staged) t.buffer_writes += op.words;
    } else if (op.kind == PlanOp::Kind::Store) {
      t.dram_writes += op.words;
      if (op.staged) t.buffer_reads += op.words;
    } else {
      t.buffer_reads += op.buffer_reads;
      t.buffer_writes += op.buffer_writes;
    }
  }
  (void)problem;
  return t;
}

TEST(Plan, TrafficEqualsTheAnalyticalReuseFormula) {
  const std::vector<std::tuple<std::string, std::string, std::string, int64_t>> designs = {
      {"fusemax", "softmax-1pass", "fusemax", 1024},
      {"fusemax", "linear@xlm", "generic", 65536},  // KV's partial sums over DRAM tiles of M
      {"fusemax", "softmax-1pass", "fusemax", 65536},
      {"flat", "softmax-3pass", "flat", 4096},
      {"flat", "softmax-3pass", "flat", 65536},
      {"unfused", "softmax-3pass", "unfused", 4096},
      {"fusemax", "linear", "generic", 4096},
      {"fusemax", "linear-causal-chunked", "generic", 4096},
      {"fusemax", "lightning", "generic", 4096},
      {"fusemax", "neighborhood-1d", "generic", 4096},
      {"fusemax", "softmax-1pass", "fusemax", 1000},  // a padded last key tile
      {"fusemax", "linear", "generic", 1001},         // a partial last query tile
      {"fusemax", "lightning", "generic", 1001},
  };
  for (const auto& [arch_name, design_cascade, mapper, seq] : designs) {
    SCOPED_TRACE(arch_name + " " + design_cascade + " " + std::to_string(seq));
    // "cascade@workload" (default bert-base)
    const size_t at = design_cascade.find('@');
    const std::string cascade_name = design_cascade.substr(0, at);
    const std::string workload = at == std::string::npos ? "bert-base" : design_cascade.substr(at + 1);
    const testing_support::DesignRun run = testing_support::run_design_point(
        load_arch(kRoot + "/configs/arch/" + arch_name + ".yaml"),
        load_workload(kRoot + "/configs/workloads/" + workload + ".yaml"),
        parse_cascade_file(kRoot + "/configs/cascades/" + cascade_name + ".yaml"), seq, mapper,
        2, 3);
    const Plan plan = build_plan(run.point.problem, run.point.arch, run.result.mapping, 0);
    const DataMovement dm =
        analyze_data_movement(run.point.problem, run.point.arch, plan.resolved);
    const Totals t = plan_totals(plan, run.point.problem);
    EXPECT_NEAR(t.dram_reads, dm.dram_reads, 1e-9 * dm.dram_reads);
    EXPECT_NEAR(t.dram_writes, dm.dram_writes, 1e-9 * dm.dram_writes);
    EXPECT_NEAR(t.buffer_reads, dm.buffer_reads, 1e-9 * dm.buffer_reads);
    EXPECT_NEAR(t.buffer_writes, dm.buffer_writes, 1e-9 * dm.buffer_writes);
  }
}

// FuseMax's waterfall per key tile: the dependencies the controller must respect (missing
// ones only make the simulation faster, which the agreement with the analytical model,
// which assumes perfect overlap, cannot see).
TEST(Plan, FuseMaxRunsTheWaterfallPerKeyTile) {
  const testing_support::DesignRun run = testing_support::run_design_point(
      load_arch(kRoot + "/configs/arch/fusemax.yaml"),
      load_workload(kRoot + "/configs/workloads/bert-base.yaml"),
      parse_cascade_file(kRoot + "/configs/cascades/softmax-1pass.yaml"), 1024, "fusemax", 2, 3);
  const Problem& problem = run.point.problem;
  const Plan plan = build_plan(problem, run.point.arch, run.result.mapping, 1);
  ASSERT_EQ(plan.groups.size(), 1u);
  EXPECT_EQ(plan.groups[0].slices, 6);
  EXPECT_EQ(plan.groups[0].slices_planned, 1);
  EXPECT_EQ(plan.groups[0].iterations, 4);  // M1 = 1024 / 256
  std::map<std::string, int> runs;
  std::map<std::pair<std::string, int64_t>, int> compute_of;  // (einsum, step) -> op
  std::map<std::string, int> loads, stores;
  for (size_t t = 0; t < plan.ops.size(); ++t) {
    const PlanOp& op = plan.ops[t];
    for (int d : plan.deps(t)) ASSERT_LT(d, static_cast<int>(t));
    if (op.kind == PlanOp::Kind::Compute) {
      const std::string& name = problem.einsums[op.einsum].name;
      ++runs[name];
      compute_of[{name, op.step}] = static_cast<int>(t);
      if (name == "AV") {
        EXPECT_EQ(op.iteration, 3);  // after the last key tile
      }
    } else {
      ++(op.kind == PlanOp::Kind::Load ? loads : stores)[problem.tensors[op.tensor].name];
    }
  }
  EXPECT_EQ(runs["BQK"], 4);
  EXPECT_EQ(runs["RNV"], 4);
  EXPECT_EQ(runs["AV"], 1);
  EXPECT_EQ(loads["Q"], 1);  // held over the key tiles
  EXPECT_EQ(loads["K"], 4);
  EXPECT_EQ(loads["V"], 4);
  EXPECT_EQ(stores["AV"], 1);
  auto depends = [&](const std::string& a, const std::string& b, int64_t step_a, int64_t step_b) {
    const std::span<const int> deps = plan.deps(static_cast<size_t>(compute_of.at({a, step_a})));
    const int d = compute_of.at({b, step_b});
    return std::find(deps.begin(), deps.end(), d) != deps.end();
  };
  for (int64_t step = 0; step < 4; ++step) {
    EXPECT_TRUE(depends("RM", "LM", step, step)) << step;   // the 1D array waits for the 2D's max
    EXPECT_TRUE(depends("SLN", "RM", step, step)) << step;  // and the 2D for the running max
    EXPECT_TRUE(depends("RNV", "SLNV", step, step)) << step;
    if (step > 0) {
      EXPECT_TRUE(depends("RM", "RM", step, step - 1)) << step;  // the recurrence
    }
  }
  EXPECT_TRUE(depends("AV", "RNV", 3, 3));
  EXPECT_EQ(plan.units[plan.ops[compute_of.at({"BQK", 0})].unit], "array_2d");
  EXPECT_EQ(plan.units[plan.ops[compute_of.at({"RM", 0})].unit], "array_1d");
}

}  // namespace
}  // namespace cascade
