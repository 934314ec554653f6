// Which 2D Einsums per-PE mode runs as programs on resident tiles (tile_program.h): the
// FuseMax mapping of the 1-pass cascade (LM, SLN, SLD; not the GEMMs, not the 1D array's),
// the same with a tensor out of the register files (then not), the linear family (none),
// and the programs' steps and cycles against the tile's closed forms (F folds on R x C
// PEs: a column op F + R + C - 1, exp(x - b) with its narrow F (L + 2), exp F (L + 1)).
#include "sim/systemc/tile_program.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "arch/arch_spec.h"
#include "arch/support/error.h"
#include "mappings/cascade/parser.h"
#include "mappings/problem/workload.h"
#include "sim/systemc/plan.h"
#include "tests/support/design_run.h"

namespace cascade {
namespace {

const std::string kRoot = CASCADE_SOURCE_DIR;

struct Mapped {
  testing_support::DesignRun run;
  Plan plan;
};

Mapped map_design(const std::string& cascade, int64_t seq, const std::string& mapper = "") {
  Mapped m{testing_support::run_design_point(
               load_arch(kRoot + "/tests/data/rtl/fusemax-4x4-per-fold.yaml"),
               load_workload(kRoot + "/configs/workloads/bert-base.yaml"),
               parse_cascade_file(kRoot + "/configs/cascades/" + cascade + ".yaml"), seq, mapper, 1, 1),
           {}};
  m.plan = build_plan(m.run.point.problem, m.run.point.arch, m.run.result.mapping, 0);
  return m;
}

// Einsum name -> its role, with `mapping`'s tensor homes.
std::map<std::string, std::string> roles_of(const Mapped& m, const ResolvedMapping& mapping) {
  const Problem& problem = m.run.point.problem;
  std::vector<FoldShape> shapes;
  for (size_t e = 0; e < problem.einsums.size(); ++e)
    shapes.push_back(fold_shape(problem, mapping, static_cast<int>(e)));
  const std::vector<TileRole> roles = tile_roles(problem, mapping, shapes);
  std::map<std::string, std::string> out;
  for (size_t e = 0; e < roles.size(); ++e) out[problem.einsums[e].name] = to_string(roles[e]);
  return out;
}

TEST(TileProgram, FuseMaxOnePassRolesOnTheTwoDArray) {
  const Mapped m = map_design("softmax-1pass", 64);
  const auto r = roles_of(m, m.plan.resolved);
  EXPECT_EQ(r.at("LM"), "column_max");
  EXPECT_EQ(r.at("SLN"), "exp_of_difference");
  EXPECT_EQ(r.at("SLD"), "column_sum");
  for (const char* other : {"BQK", "SLNV", "RM", "PRM", "SPD", "RD", "SPNV", "RNV", "AV"})
    EXPECT_EQ(r.at(other), "none") << other;
}

TEST(TileProgram, OnlyTilesKeptInTheRegisterFiles) {
  const Mapped m = map_design("softmax-1pass", 64);
  const Problem& problem = m.run.point.problem;
  ResolvedMapping mapping = m.plan.resolved;
  mapping.tensors[static_cast<size_t>(problem.find_tensor("BQK"))].home = TensorHome::GlobalBuffer;
  auto r = roles_of(m, mapping);
  EXPECT_EQ(r.at("LM"), "none");
  EXPECT_EQ(r.at("SLN"), "none");
  EXPECT_EQ(r.at("SLD"), "column_sum");  // SLN is still resident
  mapping = m.plan.resolved;
  mapping.tensors[static_cast<size_t>(problem.find_tensor("SLN"))].home = TensorHome::GlobalBuffer;
  r = roles_of(m, mapping);
  EXPECT_EQ(r.at("LM"), "column_max");
  EXPECT_EQ(r.at("SLN"), "none");  // its result would have to leave the array
  EXPECT_EQ(r.at("SLD"), "none");
}

TEST(TileProgram, LinearFamilyHasNone) {
  for (const char* cascade : {"linear", "linear-causal-chunked"}) {
    const Mapped m = map_design(cascade, 64, "generic");
    for (const auto& [einsum, role] : roles_of(m, m.plan.resolved)) EXPECT_EQ(role, "none") << cascade << " " << einsum;
  }
}

TEST(TileProgram, StepsNameTheFoldsEntries) {
  const std::vector<TileStep> p = tile_program(TileRole::ExpOfDifference, 20, 16);
  ASSERT_EQ(p.size(), 40u);
  for (size_t k = 0; k < p.size(); ++k) {
    EXPECT_EQ(p[k].op, k % 2 == 0 ? TileOp::SubExp : TileOp::Narrow);
    EXPECT_TRUE(p[k].flag);
    EXPECT_EQ(p[k].entry, static_cast<int>(k / 2 % 16));
  }
  const std::vector<TileStep> c = tile_program(TileRole::ColumnSum, 3, 2);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[2].op, TileOp::ColSum);
  EXPECT_EQ(c[2].entry, 0);
  EXPECT_THROW(tile_program(TileRole::None, 3, 16), Error);
}

TEST(TileProgram, CyclesOnTheResidentArrayAreTheTilesClosedForms) {
  for (ExpMode exp : {ExpMode::Hardware, ExpMode::Fast}) {
    const int64_t l = exp == ExpMode::Fast ? 4 : 8;
    for (auto [r, c, f] : {std::tuple<int64_t, int64_t, int64_t>{4, 4, 16}, {8, 8, 1}, {3, 5, 7}}) {
      SCOPED_TRACE(std::to_string(r) + "x" + std::to_string(c) + " F=" + std::to_string(f));
      ResidentArray array(r, c, NumberFormat::BF16, exp);
      EXPECT_EQ(array.run(tile_program(TileRole::ColumnMax, f, 16)).cycles, f + r + c - 1);
      EXPECT_EQ(array.run(tile_program(TileRole::ColumnSum, f, 16)).cycles, f + r + c - 1);
      EXPECT_EQ(array.run(tile_program(TileRole::ExpOfDifference, f, 16)).cycles, f * (l + 2));
      EXPECT_EQ(array.run(tile_program(TileRole::Exp, f, 16)).cycles, f * (l + 1));
    }
  }
}

}  // namespace
}  // namespace cascade
