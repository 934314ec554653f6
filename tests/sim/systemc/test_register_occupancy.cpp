// register_occupancy (sim/systemc/register_occupancy.h) on FuseMax's mapping of the 1-pass
// cascade on the 4 x 4 test architecture at P = M = 64 (F = P / P0 = 16 folds per M1 tile:
// BQK and SLN leave 16 words per PE each), with schedules given by hand: in program order
// one tile at a time (BQK(m1) held until SLN(m1) overwrites it, SLN until SLN V: F words),
// each next BQK finishing before this SLN (2F), and with BQK out of the register files.
#include "sim/systemc/register_occupancy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "arch/arch_spec.h"
#include "mappings/cascade/parser.h"
#include "mappings/problem/workload.h"
#include "tests/support/design_run.h"

namespace cascade {
namespace {

const std::string kRoot = CASCADE_SOURCE_DIR;

struct Fixture {
  testing_support::DesignRun run = testing_support::run_design_point(
      load_arch(kRoot + "/tests/data/rtl/fusemax-4x4-per-fold.yaml"),
      load_workload(kRoot + "/configs/workloads/bert-base.yaml"),
      parse_cascade_file(kRoot + "/configs/cascades/softmax-1pass.yaml"), 64, "", 1, 1);
  Plan plan = build_plan(run.point.problem, run.point.arch, run.result.mapping, 0);
  std::vector<FoldShape> shapes() const {
    std::vector<FoldShape> s;
    for (size_t e = 0; e < run.point.problem.einsums.size(); ++e)
      s.push_back(fold_shape(run.point.problem, plan.resolved, static_cast<int>(e)));
    return s;
  }
  // Program order, one cycle per operation.
  std::vector<double> serial() const {
    std::vector<double> finish;
    for (size_t i = 0; i < plan.ops.size(); ++i) finish.push_back(static_cast<double>(i + 1));
    return finish;
  }
  bool is(size_t op, const char* einsum) const {
    return plan.ops[op].kind == PlanOp::Kind::Compute &&
           run.point.problem.einsums[static_cast<size_t>(plan.ops[op].einsum)].name == einsum;
  }
};

TEST(RegisterOccupancy, OneTileAtATimeHoldsOneRunsFolds) {
  const Fixture f;
  const auto r = register_occupancy(f.run.point.problem, f.run.point.arch, f.plan, f.shapes(), f.serial());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].array, "array_2d");
  EXPECT_EQ(r[0].entries, 16);
  EXPECT_EQ(r[0].peak_words, 16);  // SLN takes over BQK's words in place, never both
  EXPECT_EQ(r[0].tensors, (std::vector<std::string>{"BQK", "SLN"}));
}

TEST(RegisterOccupancy, TheNextTilesProducerBeforeThisTilesReaderHoldsTwo) {
  const Fixture f;
  std::vector<double> finish = f.serial();
  // Every BQK but the first finishes just after the previous M1 tile's LM.
  double last_lm = -1;
  int bqks = 0;
  for (size_t i = 0; i < finish.size(); ++i) {
    if (f.is(i, "LM")) last_lm = finish[i];
    if (f.is(i, "BQK") && last_lm >= 0) finish[i] = last_lm + 0.5, ++bqks;
  }
  ASSERT_EQ(bqks, 15);
  const auto r = register_occupancy(f.run.point.problem, f.run.point.arch, f.plan, f.shapes(), finish);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].peak_words, 32);
}

TEST(RegisterOccupancy, OnlyTensorsHomedInTheRegisterFiles) {
  Fixture f;
  f.plan.resolved.tensors[static_cast<size_t>(f.run.point.problem.find_tensor("BQK"))].home =
      TensorHome::GlobalBuffer;
  auto r = register_occupancy(f.run.point.problem, f.run.point.arch, f.plan, f.shapes(), f.serial());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].tensors, (std::vector<std::string>{"SLN"}));
  EXPECT_EQ(r[0].peak_words, 16);
  f.plan.resolved.tensors[static_cast<size_t>(f.run.point.problem.find_tensor("SLN"))].home =
      TensorHome::GlobalBuffer;
  EXPECT_TRUE(register_occupancy(f.run.point.problem, f.run.point.arch, f.plan, f.shapes(), f.serial()).empty());
}

}  // namespace
}  // namespace cascade
