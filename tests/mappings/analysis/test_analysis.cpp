// Analyses of shipped and inline cascades, against counts derived by hand from the
// Einsums (closed forms), and the pass counts FuseMax (MICRO'24, Sec. 3) gives.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "mappings/analysis/evaluation_order.h"
#include "mappings/analysis/operator_counts.h"
#include "mappings/analysis/passes.h"
#include "mappings/cascade/parser.h"

namespace cascade {
namespace {

Cascade load(const std::string& name) {
  return parse_cascade_file(std::string(CASCADE_SOURCE_DIR) + "/configs/cascades/" + name);
}

int passes_over(const Cascade& c, const std::string& rank) {
  const PassReport r = analyze_passes(c);
  const RankPasses* p = r.find(rank);
  return p ? p->passes : -1;
}

TEST(PassAnalysis, SoftmaxFormsNeedThreeTwoAndOnePassOverM) {
  EXPECT_EQ(passes_over(load("softmax-3pass.yaml"), "M"), 3);
  EXPECT_EQ(passes_over(load("softmax-2pass.yaml"), "M"), 2);
  EXPECT_EQ(passes_over(load("softmax-deferred-division.yaml"), "M"), 2);
  EXPECT_EQ(passes_over(load("softmax-1pass.yaml"), "M"), 1);
  // Every other rank is traversed once.
  for (const char* rank : {"P", "E", "F"}) {
    EXPECT_EQ(passes_over(load("softmax-3pass.yaml"), rank), 1) << rank;
    EXPECT_EQ(passes_over(load("softmax-1pass.yaml"), rank), 1) << rank;
  }
  EXPECT_EQ(analyze_passes(load("softmax-3pass.yaml")).max_passes(), 3);
}

TEST(PassAnalysis, ThreePassCausesAreTheMaxAndTheDenominator) {
  const Cascade c = load("softmax-3pass.yaml");
  const PassReport report = analyze_passes(c);
  const RankPasses* m = report.find("M");
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->causes.size(), 2u);
  EXPECT_EQ(m->causes[0].pass, 2);
  EXPECT_EQ(c.einsums[m->causes[0].einsum].output, "SN");
  EXPECT_EQ(m->causes[0].tensor, "GM");
  EXPECT_EQ(c.einsums[m->causes[0].reducer].output, "GM");
  EXPECT_EQ(m->causes[1].pass, 3);
  EXPECT_EQ(c.einsums[m->causes[1].einsum].output, "A");
  EXPECT_EQ(m->causes[1].tensor, "SD");
}

TEST(PassAnalysis, AChainOfFullReductionsAddsAPassEach) {
  // Each Einsum needs a full reduction of the previous one: 4 passes.
  const Cascade c = parse_cascade_text(R"(name: chain
inputs: {X: [M, P]}
shapes: {M: 8, P: 4}
einsums: |
  S1[p] = X[m, p]
  Y1[m, p] = X[m, p] - S1[p]
  S2[p] = Y1[m, p]
  Y2[m, p] = Y1[m, p] * S2[p]
  S3[p] = max(m: Y2[m, p])
  Y3[m, p] = Y2[m, p] / S3[p]
outputs: [Y3]
)", "chain.yaml");
  EXPECT_EQ(passes_over(c, "M"), 4);
}

// A per-tile recurrence merged through its last step (RM[m1, M0, p]) and the same merge
// through an explicit max(m0: ...) have the same dependencies, so the same passes: two over M
// (the max, then the normalised sum), as the 2-pass softmax.
TEST(PassAnalysis, EquivalentSpellingsOfATileMergeHaveTheSamePasses) {
  const std::string head = R"(name: merge
inputs: {S: [M, P]}
partition: {M: [M1, M0]}
shapes: {P: 4, M: 16, M0: 4}
einsums: |
)";
  const std::string tail = R"(  SN[m, p] = exp(S[m, p] - GM[p])
  SD[p] = SN[m, p]
outputs: [SD]
)";
  const Cascade recurrence = parse_cascade_text(
      head +
          "  RM[m1, m0+1, p] = max(RM[m1, m0, p], S[m1*M0 + m0, p])  init RM[m1, 0, p] = -inf\n"
          "  GM[p] = max(m1: RM[m1, M0, p])\n" +
          tail,
      "merge.yaml");
  const Cascade explicit_max = parse_cascade_text(
      head + "  LM[m1, p] = max(m0: S[m1*M0 + m0, p])\n  GM[p] = max(m1: LM[m1, p])\n" + tail,
      "merge.yaml");
  EXPECT_EQ(passes_over(explicit_max, "M"), 2);
  EXPECT_EQ(passes_over(recurrence, "M"), 2);
  // Reading a whole finished traversal at a constant still costs a pass: the max of the last
  // tile's running values only, after every tile has run.
  const Cascade finished = parse_cascade_text(
      head +
          "  RM[m1, m0+1, p] = max(RM[m1, m0, p], S[m1*M0 + m0, p])  init RM[m1, 0, p] = -inf\n"
          "  GM[p] = RM[M1 - 1, M0, p]\n" +
          tail,
      "merge.yaml");
  EXPECT_EQ(passes_over(finished, "M"), 2);
}

TEST(EvaluationOrder, RecurrencesOfTheOnePassCascadeAreGroupedAndOrdered) {
  const Cascade c = load("softmax-1pass.yaml");
  const std::vector<EinsumGroup> groups = evaluation_order(c);
  std::map<std::string, size_t> position;
  std::map<std::string, std::string> variable;
  for (size_t g = 0; g < groups.size(); ++g)
    for (int e : groups[g].einsums) {
      position[c.einsums[e].output] = g;
      variable[c.einsums[e].output] = groups[g].iterative_variable;
    }
  EXPECT_EQ(variable["RM"], "m1");
  EXPECT_EQ(variable["RD"], "m1");
  EXPECT_EQ(variable["SPD"], "m1");
  EXPECT_EQ(variable["RNV"], "m1");
  EXPECT_EQ(variable["BQK"], "");
  EXPECT_EQ(position["RD"], position["SPD"]);
  EXPECT_EQ(position["RNV"], position["SPNV"]);
  EXPECT_LT(position["RM"], position["PRM"]);
  EXPECT_LT(position["PRM"], position["RD"]);
  EXPECT_LT(position["RNV"], position["AV"]);
  // Inside the RD group, SPD (reads RD[m1]) runs before RD[m1+1] (reads SPD[m1]).
  for (const EinsumGroup& g : groups) {
    if (g.einsums.size() != 2) continue;
    EXPECT_TRUE(c.einsums[g.einsums[0]].output.rfind("SP", 0) == 0);
  }
}

TEST(EvaluationOrder, ACycleWithoutIterativeRankIsAnError) {
  EXPECT_THROW(parse_cascade_text(R"(name: cycle
inputs: {X: [M]}
shapes: {M: 4}
einsums: |
  A[m] = X[m] + B[m]
  B[m] = A[m] * 2
outputs: [B]
)", "cycle.yaml"),
               Error);
}

const EinsumCost& cost_of(const Cascade& c, const std::vector<EinsumCost>& costs,
                          const std::string& name) {
  for (const EinsumCost& k : costs)
    if (c.einsums[k.einsum].output == name) return k;
  throw Error("no Einsum " + name);
}

TEST(OperatorCounts, ThreePassMatchesClosedForms) {
  const Cascade c = load("softmax-3pass.yaml");
  const double P = 48, M = 80, E = 16, F = 24;
  const Bindings b = resolve_bindings(c, {{"P", "48"}, {"M", "80"}, {"E", "16"}, {"F", "24"}});
  const auto costs = operator_counts(c, b);
  const EinsumCost& qk = cost_of(c, costs, "QK");
  EXPECT_EQ(qk.total.of("mac"), P * M * E);
  EXPECT_EQ(qk.total.of("mul"), P * M);  // the scale, hoisted: once per output point
  EXPECT_EQ(qk.total.of("add"), 0);
  EXPECT_EQ(qk.total.operand_reads, 2 * P * M * E);  // Q and K per point; the scale is no read
  EXPECT_EQ(qk.total.accumulator_accesses, P * M * E);
  EXPECT_TRUE(qk.contraction);
  EXPECT_EQ(qk.points_formula, "M*P*E");
  EXPECT_EQ(cost_of(c, costs, "GM").total.of("max"), P * M);
  EXPECT_EQ(cost_of(c, costs, "SN").total.of("exp"), P * M);
  EXPECT_EQ(cost_of(c, costs, "SN").total.of("sub"), P * M);
  EXPECT_EQ(cost_of(c, costs, "SD").total.of("add"), P * M);
  EXPECT_EQ(cost_of(c, costs, "A").total.of("div"), P * M);
  EXPECT_EQ(cost_of(c, costs, "AV").total.of("mac"), P * M * F);
  EXPECT_EQ(cost_of(c, costs, "AV").total.of("mul"), 0);
}

TEST(OperatorCounts, OnePassWithPartialLastTileCountsExactlyM) {
  const Cascade c = load("softmax-1pass.yaml");
  // M = 100 with M0 = 32: tiles of 32, 32, 32, 4.
  const Bindings b = resolve_bindings(c, {{"P", "7"}, {"M", "100"}, {"E", "8"}, {"F", "5"}, {"M0", "32"}});
  const double P = 7, M = 100, E = 8, F = 5, M1 = 4;
  const auto costs = operator_counts(c, b);
  EXPECT_EQ(cost_of(c, costs, "BQK").total.of("mac"), P * M * E);
  EXPECT_EQ(cost_of(c, costs, "BQK").total.of("mul"), P * M);  // the scale, per output point
  EXPECT_EQ(cost_of(c, costs, "BQK").points_formula, "M*P*E");
  EXPECT_EQ(cost_of(c, costs, "LM").total.of("max"), P * M);
  EXPECT_EQ(cost_of(c, costs, "RM").total.of("max"), P * M1);
  EXPECT_EQ(cost_of(c, costs, "SLN").total.of("exp"), P * M);
  EXPECT_EQ(cost_of(c, costs, "SLD").total.of("add"), P * M);
  EXPECT_EQ(cost_of(c, costs, "SLNV").total.of("mac"), P * M * F);
  EXPECT_EQ(cost_of(c, costs, "PRM").total.of("exp"), P * M1);
  EXPECT_EQ(cost_of(c, costs, "SPNV").total.of("mul"), P * M1 * F);
  EXPECT_EQ(cost_of(c, costs, "RNV").total.of("add"), P * M1 * F);
  EXPECT_EQ(cost_of(c, costs, "AV").total.of("div"), P * F);
}

// The counting rule of mappings/README.md ("Operator counts"), one case per clause, on
// P = 5 outputs summed over E = 3.
TEST(OperatorCounts, FactorsThatDoNotDependOnTheSummedVariablesAreHoisted) {
  struct Case {
    const char* einsum;
    std::map<std::string, double> ops;  // every operator counted
    double reads;
    bool contraction;
  };
  const double P = 5, E = 3;
  const Case cases[] = {
      // Two dependent factors: one MAC per point; the scale once per output.
      {"Y[p] = X[e, p] * W[e] * s", {{"mac", P * E}, {"mul", P}}, 2 * P * E, true},
      // The same with the scale written first or between them.
      {"Y[p] = s * X[e, p] * W[e]", {{"mac", P * E}, {"mul", P}}, 2 * P * E, true},
      {"Y[p] = X[e, p] * (s * W[e])", {{"mac", P * E}, {"mul", P}}, 2 * P * E, true},
      // A read indexed only by output variables is hoisted too (and read once per output).
      {"Y[p] = X[e, p] * W[e] * B[p]", {{"mac", P * E}, {"mul", P}}, 2 * P * E + P, true},
      // Three dependent factors: a MAC and a multiply per point.
      {"Y[p] = X[e, p] * W[e] * X[e, p]", {{"mac", P * E}, {"mul", P * E}}, 3 * P * E, true},
      // One dependent factor: an add per point (no MAC), the scale per output.
      {"Y[p] = X[e, p] * s", {{"add", P * E}, {"mul", P}}, P * E, false},
      // An explicit sum hoists the same way; the + 1 is per output.
      {"Y[p] = sum(e: X[e, p] * W[e] * 2) + 1", {{"mac", P * E}, {"mul", P}, {"add", P}},
       2 * P * E, true},
      // A quotient is not a product: divided per point, then added.
      {"Y[p] = X[e, p] * W[e] / s", {{"add", P * E}, {"mul", P * E}, {"div", P * E}},
       2 * P * E, false},
      // max is not a sum: nothing is hoisted.
      {"Y[p] = max(e: X[e, p] * s)", {{"max", P * E}, {"mul", P * E}}, P * E, false},
  };
  for (const Case& k : cases) {
    const std::string text = std::string(R"(name: hoisting
inputs: {X: [E, P], W: [E], B: [P]}
shapes: {P: 5, E: 3}
parameters: {s: 0.5}
einsums: |
  )") + k.einsum + "\noutputs: [Y]\n";
    const Cascade c = parse_cascade_text(text, "hoisting.yaml");
    const auto costs = operator_counts(c, resolve_bindings(c, {}));
    const EinsumCost& y = cost_of(c, costs, "Y");
    EXPECT_EQ(y.total.ops, k.ops) << k.einsum;
    EXPECT_EQ(y.total.operand_reads, k.reads) << k.einsum;
    EXPECT_EQ(y.contraction, k.contraction) << k.einsum;
    EXPECT_EQ(y.points, P * E) << k.einsum;
  }
}

TEST(OperatorCounts, CausalMaskCountsTheTriangle) {
  const Cascade c = parse_cascade_text(R"(name: causal-scores
inputs: {Q: [E, P], K: [E, M]}
shapes: {P: 37, M: 37, E: 3}
einsums: |
  QK[m, p] = Q[e, p] * K[e, m]   where m <= p
  GM[p] = max(m: QK[m, p])       where m <= p
outputs: [GM]
)", "causal.yaml");
  const Bindings b = resolve_bindings(c, {});
  const auto costs = operator_counts(c, b);
  const double P = 37, E = 3;
  EXPECT_EQ(cost_of(c, costs, "QK").total.of("mac"), P * (P + 1) / 2 * E);
  EXPECT_EQ(cost_of(c, costs, "GM").total.of("max"), P * (P + 1) / 2);
  EXPECT_EQ(cost_of(c, costs, "QK").points_formula, "");
}

TEST(OperatorCounts, CausalMaskAtAMillionPositions) {
  // Variables no condition reads (e) multiply instead of being enumerated: a 1M x 1M
  // triangle with E = 128 is counted by walking p once.
  const Cascade c = parse_cascade_text(R"(name: causal-scores
inputs: {Q: [E, P], K: [E, M]}
shapes: {P: 1048576, M: 1048576, E: 128}
einsums: |
  QK[m, p] = Q[e, p] * K[e, m]   where m <= p
  GM[p] = max(m: QK[m, p])       where m <= p
outputs: [GM]
)", "causal.yaml");
  const auto costs = operator_counts(c, resolve_bindings(c, {}));
  const double P = 1048576, E = 128;
  EXPECT_EQ(cost_of(c, costs, "QK").total.of("mac"), P * (P + 1) / 2 * E);
  EXPECT_EQ(cost_of(c, costs, "QK").points, P * (P + 1) / 2 * E);
  EXPECT_EQ(cost_of(c, costs, "GM").total.of("max"), P * (P + 1) / 2);
}

TEST(OperatorCounts, ConstantConditionsStillApply) {
  // A condition on shapes alone (no variable) gates the whole space.
  const char* text = R"(name: gated
inputs: {X: [N]}
shapes: {N: 8, G: %d}
einsums: |
  Y[n] = X[n] * 2   where G > 1
outputs: [Y]
)";
  for (int g : {1, 2}) {
    char buffer[256];
    std::snprintf(buffer, sizeof buffer, text, g);
    const Cascade c = parse_cascade_text(buffer, "gated.yaml");
    const auto costs = operator_counts(c, resolve_bindings(c, {}));
    EXPECT_EQ(cost_of(c, costs, "Y").points, g > 1 ? 8 : 0) << g;
  }
}

}  // namespace
}  // namespace cascade
