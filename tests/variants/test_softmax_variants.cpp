// Softmax-like variants beyond the four softmax cascades of tests/sim/functional: causal
// softmax with a bottom-right aligned mask (m <= p + M - P), in the 3-pass form and on
// FuseMax's 1-pass cascade. Checked through the functional executor against the
// independent fp64 reference over seeded random shapes (P > M too), in every format; pass
// and operator counts against closed forms.
#include "tests/variants/variant_support.h"

namespace cascade {
namespace {

using namespace variants;

std::vector<Variant> softmax_variants() {
  return {
      {"softmax-causal.yaml", cross_shapes},  // P > M too: fully masked queries give 0
      {"softmax-1pass-causal.yaml",
       [](Rng& r) {  // P <= M; tiles of 1..9 keys: some emptied by the mask for early queries
         Settings s = heads(r);
         const int64_t m = pick(r, 1, 50);
         s["M"] = std::to_string(m);
         s["P"] = std::to_string(pick(r, 1, m));
         s["M0"] = std::to_string(pick(r, 1, 9));
         return s;
       }},
  };
}

VARIANT_CHECKS(SoftmaxVariants, softmax_variants)

TEST(SoftmaxVariants, Bf16BoundStillCatchesAPlausibleBug) {
  // The buggy texts default to P != M, where the two mask alignments differ.
  const std::pair<const char*, const char*> causal_shapes = {"shapes: {P: 64, M: 64",
                                                             "shapes: {P: 40, M: 64"};
  const std::pair<const char*, const char*> online_shapes = {"shapes: {P: 256, M: 256",
                                                             "shapes: {P: 100, M: 256"};
  expect_bugs_caught({
      // top-left instead of bottom-right aligned mask
      {"softmax-causal.yaml", "where m <= p + M - P", "where m <= p", true, {causal_shapes}},
      {"softmax-1pass-causal.yaml", "<= p + M - P", "<= p", true, {online_shapes}},
      // the running numerator not rescaled when the running max grows
      {"softmax-1pass-causal.yaml",
       "RNV[m1, f, p] * PRM[m1, p]",
       "RNV[m1, f, p]",
       true,
       {online_shapes}},
  });
}

TEST(Passes, CausalSoftmax) {
  EXPECT_EQ(passes_over(load("softmax-causal.yaml"), "M"), 3);
  EXPECT_EQ(passes_over(load("softmax-1pass-causal.yaml"), "M"), 1);
}

// Operator counts against closed forms: only the unmasked (query, key) pairs are counted,
// and the scale multiplies each of their scores once.
TEST(OperatorCounts, CausalSoftmaxCountsTheBottomRightTriangle) {
  for (const auto& [P, M] :
       std::vector<std::pair<int64_t, int64_t>>{{16, 16}, {10, 30}, {30, 10}}) {
    const double p = static_cast<double>(P), m = static_cast<double>(M);
    const double pairs = P <= M ? p * (m - p) + p * (p + 1) / 2 : m * (m + 1) / 2;
    const Counts c =
        count(load("softmax-causal.yaml"),
              {{"P", std::to_string(P)}, {"M", std::to_string(M)}, {"E", "4"}, {"F", "3"}});
    EXPECT_EQ(c.total.of("mac"), pairs * (4 + 3)) << P << " " << M;
    EXPECT_EQ(c.total.of("exp"), pairs);
    EXPECT_EQ(c.of("QK", "mul"), pairs);  // the scale
    EXPECT_EQ(c.total.of("mul"), pairs);
    if (P > M) continue;  // the online form needs P <= M
    // The online form: the same pairs, plus one rescaling exp per query and key tile.
    const double M1 = std::ceil(m / 4), F = 3;
    const Counts online = count(
        load("softmax-1pass-causal.yaml"),
        {{"P", std::to_string(P)}, {"M", std::to_string(M)}, {"M0", "4"}, {"E", "4"}, {"F", "3"}});
    EXPECT_EQ(online.total.of("mac"), pairs * (4 + 3)) << P << " " << M;
    EXPECT_EQ(online.total.of("exp"), pairs + p * M1) << P << " " << M;
    // The scale once per unmasked score; SPD and SPNV once per query and key tile.
    EXPECT_EQ(online.of("BQK", "mul"), pairs);
    EXPECT_EQ(online.total.of("mul"), pairs + p * M1 * (1 + F));
  }
}

}  // namespace
}  // namespace cascade
