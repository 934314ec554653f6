// RegisterBudget (sim/systemc/register_budget.h) on FuseMax's mapping of the 1-pass cascade
// on the 4 x 4 test architecture at P = M = 64 (F = 16 words per PE per BQK run, 16 entries),
// walked by hand: BQK allocates, SLN takes over BQK's entries in place, LM / SLD / SLN V
// allocate nothing; the next M1 tile's BQK fits only once this tile's SLN V has finished;
// everything is free at the end; a mapping whose one run needs more than the entries is an
// error.
#include "sim/systemc/register_budget.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "arch/arch_spec.h"
#include "arch/support/error.h"
#include "mappings/cascade/parser.h"
#include "mappings/problem/workload.h"
#include "tests/support/design_run.h"

namespace cascade {
namespace {

const std::string kRoot = CASCADE_SOURCE_DIR;

struct Fixture {
  explicit Fixture(int64_t seq)
      : run(testing_support::run_design_point(
            load_arch(kRoot + "/tests/data/rtl/fusemax-4x4-per-fold.yaml"),
            load_workload(kRoot + "/configs/workloads/bert-base.yaml"),
            parse_cascade_file(kRoot + "/configs/cascades/softmax-1pass.yaml"), seq, "", 1, 1)),
        plan(build_plan(run.point.problem, run.point.arch, run.result.mapping, 0)) {
    for (size_t e = 0; e < run.point.problem.einsums.size(); ++e)
      shapes.push_back(fold_shape(run.point.problem, plan.resolved, static_cast<int>(e)));
  }
  std::string name(size_t op) const {
    return plan.ops[op].kind == PlanOp::Kind::Compute
               ? run.point.problem.einsums[static_cast<size_t>(plan.ops[op].einsum)].name
               : "";
  }
  testing_support::DesignRun run;
  Plan plan;
  std::vector<FoldShape> shapes;
};

TEST(RegisterBudget, InPlaceReaderTakesOverAndTheNextTileWaitsForTheLastReader) {
  const Fixture f(64);
  RegisterBudget budget(f.run.point.problem, f.run.point.arch, f.plan, f.shapes);
  std::vector<int> bqk;
  for (size_t i = 0; i < f.plan.ops.size(); ++i) {
    const std::string n = f.name(i);
    EXPECT_EQ(budget.allocates(static_cast<int>(i)), n == "BQK") << i << " " << n;
    if (n == "BQK") bqk.push_back(static_cast<int>(i));
  }
  ASSERT_EQ(bqk.size(), 16u);
  const int array = f.plan.ops[static_cast<size_t>(bqk[0])].unit;
  // Program order, one at a time: the next BQK fits exactly when this tile's SLN V is done.
  size_t next_bqk = 1;
  for (size_t i = 0; i < f.plan.ops.size(); ++i) {
    const int op = static_cast<int>(i);
    if (budget.allocates(op)) {
      ASSERT_TRUE(budget.fits(op)) << i;
    }
    budget.started(op);
    EXPECT_LE(budget.held(array), 16);
    if (next_bqk < bqk.size() && f.name(i) == "BQK") {
      EXPECT_FALSE(budget.fits(bqk[next_bqk])) << i;
    }
    if (f.name(i) == "SLN") {
      EXPECT_EQ(budget.held(array), 16) << "in place, no more words";
    }
    budget.finished(op);
    if (f.name(i) == "SLNV") {
      EXPECT_EQ(budget.held(array), 0) << i;
      if (next_bqk < bqk.size()) {
        EXPECT_TRUE(budget.fits(bqk[next_bqk++]));
      }
    }
  }
  EXPECT_EQ(next_bqk, 16u);
  EXPECT_EQ(budget.held(array), 0);
}

TEST(RegisterBudget, ARunLargerThanTheEntriesIsAnError) {
  const Fixture f(128);  // F = 128 / 4 = 32 words per PE per BQK run
  EXPECT_THROW(RegisterBudget(f.run.point.problem, f.run.point.arch, f.plan, f.shapes), Error);
}

}  // namespace
}  // namespace cascade
