// Design points (sim/model/design_point.h): how a cascade's own head and batch ranks bind to
// the workload's (`workload_ranks`), against the one-head shipped cascade as the reference.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/shipped_configs.h"

namespace cascade {
namespace {

using testing_support::cascade_file;
using testing_support::workload;

// softmax-3pass.yaml with every tensor carrying a head rank H.
std::string multi_head(const std::string& workload_ranks) {
  return "name: softmax-heads\n" + workload_ranks + R"(inputs: {Q: [H, E, P], K: [H, E, M], V: [H, F, M]}
shapes: {H: 2, P: 256, M: 256, E: 64, F: 64}
parameters: {scale: 1/sqrt(E)}
einsums: |
  QK[h, m, p] = Q[h, e, p] * K[h, e, m] * scale
  GM[h, p]    = max(m: QK[h, m, p])
  SN[h, m, p] = exp(QK[h, m, p] - GM[h, p])
  SD[h, p]    = SN[h, m, p]
  A[h, m, p]  = SN[h, m, p] / SD[h, p]
  AV[h, f, p] = A[h, m, p] * V[h, f, m]
outputs: [AV]
)";
}

// Iteration points of every Einsum over the whole workload (batch x heads included).
std::vector<double> total_points(const DesignPoint& p) {
  std::vector<double> out;
  for (const ProblemEinsum& e : p.problem.einsums)
    out.push_back(e.points * static_cast<double>(p.problem.batch * p.problem.heads));
  return out;
}

DesignPoint point(const Cascade& c, int64_t heads = 0,
                  const std::map<std::string, std::string>& overrides = {}) {
  DesignPointSettings s;
  s.seq = 1024;
  s.heads = heads;
  s.overrides = overrides;
  return make_design_point(testing_support::arch("fusemax"), workload("bert-base"), c, s);
}

TEST(WorkloadRanks, TheCascadesHeadRankTakesTheWorkloadsHeads) {
  const DesignPoint one_head = point(cascade_file("softmax-3pass"));
  ASSERT_EQ(one_head.heads, 12);
  const DesignPoint declared =
      point(parse_cascade_text(multi_head("workload_ranks: {heads: H}\n"), "heads.yaml"));
  EXPECT_EQ(declared.bindings.shape("H"), 12);
  EXPECT_EQ(declared.problem.heads, 1);
  EXPECT_EQ(declared.heads, 12);  // reported as the workload's
  EXPECT_EQ(total_points(declared), total_points(one_head));
  for (const Mapping& m : declared.candidates)
    for (const std::string& note : m.notes) EXPECT_EQ(note.find("rank H"), std::string::npos);

  // --heads sets the rank too; a conflicting --set H is an error naming both.
  EXPECT_EQ(point(declared.cascade, 3).bindings.shape("H"), 3);
  EXPECT_EQ(point(declared.cascade, 3, {{"H", "3"}}).bindings.shape("H"), 3);
  const std::string err =
      testing_support::error_message([&] { point(declared.cascade, 3, {{"H", "4"}}); });
  EXPECT_NE(err.find("heads rank H (workload_ranks) is set to 4 but the workload has 3 heads"),
            std::string::npos)
      << err;
}

TEST(WorkloadRanks, WithoutTheKeyTheWorkloadsHeadsMultiplyAndANoteSaysSo) {
  const DesignPoint one_head = point(cascade_file("softmax-3pass"));
  const DesignPoint undeclared = point(parse_cascade_text(multi_head(""), "heads.yaml"));
  EXPECT_EQ(undeclared.bindings.shape("H"), 2);
  EXPECT_EQ(undeclared.problem.heads, 12);
  const std::vector<double> a = total_points(undeclared), b = total_points(one_head);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], 2 * b[i]) << i;
  ASSERT_FALSE(undeclared.candidates.empty());
  bool noted = false;
  for (const std::string& note : undeclared.candidates[0].notes)
    noted = noted || note.find("declare 'workload_ranks: {heads: H}'") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(WorkloadRanks, FileErrorsAndRoundTrip) {
  const Cascade c = parse_cascade_text(multi_head("workload_ranks: {heads: H}\n"), "heads.yaml");
  EXPECT_EQ(parse_cascade_text(print_cascade(c), "printed.yaml"), c);
  auto error = [](const std::string& key) {
    return testing_support::error_message(
        [&] { parse_cascade_text(multi_head("workload_ranks: " + key + "\n"), "heads.yaml"); });
  };
  EXPECT_NE(error("{head: H}").find("unknown workload_ranks key 'head'"), std::string::npos);
  EXPECT_NE(error("{heads: G}").find("names rank G, which no input uses"), std::string::npos);
  EXPECT_NE(error("{heads: H, batch: H}").find("both name rank H"), std::string::npos);
  EXPECT_NE(error("{heads: h}").find("must be an upper-case name"), std::string::npos);
}

}  // namespace
}  // namespace cascade
