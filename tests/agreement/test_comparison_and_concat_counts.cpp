// Closed forms, written from the Einsums by hand, for what tests/agreement/
// test_operator_counts.cpp does not cover: the comparisons of `where` conditions (cmp:
// one per condition and point of its scope, the output variables and the condition's own,
// before masking; counted, not priced) for every shipped cascade, and the operators of the
// concat cascade (linear-hedgehog: concat itself is data movement, no operator), also as
// the analytical model charges them.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>

#include "mappings/analysis/operator_counts.h"
#include "mappings/cascade/parser.h"
#include "mappings/mappers/registry.h"
#include "mappings/problem/problem.h"
#include "sim/analytical/analytical_model.h"

namespace cascade {
namespace {

using Settings = std::map<std::string, std::string>;
const std::string kRoot = CASCADE_SOURCE_DIR;

Cascade cascade_named(const std::string& name) {
  return parse_cascade_file(kRoot + "/configs/cascades/" + name + ".yaml");
}

double comparisons(const Cascade& c, const Bindings& b) {
  double n = 0;
  for (const EinsumCost& cost : operator_counts(c, b)) n += cost.total.comparisons;
  return n;
}

// cmp per (batch, head); shapes by name from the bindings.
double cmp_closed_form(const std::string& cascade, const Bindings& b) {
  auto s = [&](const char* r) { return static_cast<double>(b.shape(r)); };
  if (cascade == "softmax-causal")  // QK GM SN SD A over (m, p); AV over (f, p, m)
    return 5 * s("P") * s("M") + s("F") * s("P") * s("M");
  if (cascade == "softmax-1pass-causal")  // BQK LM SLN SLD over (m1, m0, p) = M*P; SLNV adds f
    return 4 * s("M") * s("P") + s("M") * s("F") * s("P");
  if (cascade == "neighborhood-1d-causal")  // QK GM SN SD A over (w, p); AV adds f
    return 5 * s("W") * s("P") + s("F") * s("W") * s("P");
  if (cascade == "linear-causal-chunked") {  // P = T x C; J a rank of its own
    const double P = s("P"), T = s("T"), J = s("J"), E = s("E"), F = s("F");
    return T * J * E        // PHIK
           + P * J          // A
           + P * F * J      // INUM
           + P * J          // IDEN
           + T * E * F * J  // CKV
           + T * E * J;     // CZ
  }
  if (cascade == "lightning") {  // P = T x B; J a rank of its own
    const double P = s("P"), T = s("T"), B = s("B"), J = s("J"), E = s("E"), F = s("F");
    return B * J            // DB
           + 2 * P * J      // QK, DQK
           + P * F * J      // INTRA
           + T * J          // KD
           + T * J * E      // DK
           + T * E * F * J; // BKV
  }
  if (cascade == "decode-gqa-split") {  // key(s, t, m0) < M over the whole tile box
    const double box = s("S") * s("T") * s("M0") * s("H");
    return 4 * box               // BQK, LM, SLN, SLD
           + box * s("F");       // SLNV
  }
  return 0;  // no `where`
}

TEST(ComparisonCounts, EveryShippedCascadeIsItsClosedForm) {
  int with_conditions = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kRoot + "/configs/cascades")) {
    if (entry.path().extension() != ".yaml") continue;
    const std::string name = entry.path().stem().string();
    const Cascade c = cascade_named(name);
    bool has_where = false;
    for (const Einsum& e : c.einsums) has_where = has_where || !e.where.empty();
    with_conditions += has_where;
    const Bindings b = resolve_bindings(c, {});
    const double want = cmp_closed_form(name, b);
    EXPECT_EQ(comparisons(c, b), want) << name;
    EXPECT_EQ(want != 0, has_where) << name << ": a closed form for every cascade with `where`";
  }
  EXPECT_EQ(with_conditions, 6);
  // At other shapes too (P != M, partial tiles).
  const Cascade sc = cascade_named("softmax-causal");
  const Bindings b1 = resolve_bindings(sc, {{"P", "37"}, {"M", "200"}, {"F", "5"}});
  EXPECT_EQ(comparisons(sc, b1), cmp_closed_form("softmax-causal", b1));
  const Cascade oc = cascade_named("softmax-1pass-causal");
  const Bindings b2 = resolve_bindings(oc, {{"P", "64"}, {"M", "200"}, {"M0", "48"}});
  EXPECT_EQ(comparisons(oc, b2), cmp_closed_form("softmax-1pass-causal", b2));
  const Cascade lc = cascade_named("linear-causal-chunked");
  const Bindings b3 = resolve_bindings(lc, {{"P", "100"}, {"C", "16"}});
  EXPECT_EQ(comparisons(lc, b3), cmp_closed_form("linear-causal-chunked", b3));
}

TEST(ComparisonCounts, AreNotPriced) {
  const Cascade c = cascade_named("softmax-causal");
  const Bindings b = resolve_bindings(c, {});
  const Problem problem = make_problem(c, b, 1, 1);
  for (const ProblemEinsum& pe : problem.einsums)
    for (const auto& [op, rate] : pe.ops_per_point) EXPECT_NE(op, "cmp") << pe.name;
}

// linear-hedgehog per (batch, head), J = 2D: WQ WK (macs over E), the two softmaxes of
// each of q and k (max, min, 2 sub, 2 exp, 2 sums over D, then 2 divides per part in the
// concat), KV Z NUM DEN over J, and AV.
std::map<std::string, double> hedgehog_closed_form(double P, double M, double E, double F,
                                                   double D) {
  const double J = 2 * D;
  return {{"mac", D * E * (P + M) + J * M * F + J * F * P + J * P},
          {"max", D * (P + M)},
          {"min", D * (P + M)},
          {"sub", 2 * D * (P + M)},
          {"exp", 2 * D * (P + M)},
          {"add", 2 * D * (P + M) + J * M},
          {"div", 2 * D * (P + M) + F * P}};
}

TEST(ConcatCounts, HedgehogIsItsClosedFormInTheCounterAndTheAnalyticalModel) {
  const Cascade c = cascade_named("linear-hedgehog");
  const ArchSpec arch = load_arch(kRoot + "/configs/arch/fusemax.yaml");
  for (const Settings& settings :
       {Settings{}, Settings{{"P", "100"}, {"M", "37"}, {"D", "3"}, {"E", "5"}, {"F", "2"}}}) {
    const Bindings b = resolve_bindings(c, settings);
    auto s = [&](const char* r) { return static_cast<double>(b.shape(r)); };
    EXPECT_EQ(s("J"), 2 * s("D"));
    const auto want = hedgehog_closed_form(s("P"), s("M"), s("E"), s("F"), s("D"));
    std::map<std::string, double> got;
    for (const EinsumCost& cost : operator_counts(c, b))
      for (const auto& [op, n] : cost.total.ops)
        if (n != 0) got[op] += n;
    EXPECT_EQ(got, want);
    // The analytical model prices the same counts (FuseMax: min and max both on the max
    // unit, sub on the adder, exp = 6 MACs + 1 add), batch and heads 1.
    const std::vector<Mapping> mappings =
        mapper_named("generic").candidates(make_problem(c, b, 1, 1), arch);
    ASSERT_FALSE(mappings.empty());
    const Stats st = AnalyticalModel(make_problem(c, b, 1, 1), arch).evaluate(mappings.front());
    auto action = [&](const char* component, const char* a) {
      const auto it = st.actions.find(component);
      if (it == st.actions.end()) return 0.0;
      const auto at = it->second.find(a);
      return at == it->second.end() ? 0.0 : at->second;
    };
    const double macs = action("mac_2d", "mac") + action("mac_1d", "mac");
    EXPECT_NEAR(macs, want.at("mac") + 6 * want.at("exp"), 1e-9 * macs);
    const double divides = action("divide_1d", "divide");
    EXPECT_NEAR(divides, want.at("div"), 1e-9 * divides);
  }
}

}  // namespace
}  // namespace cascade
