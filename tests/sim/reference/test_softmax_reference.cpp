// The fp64 softmax reference (sim/reference) against hand-computed values, invariances and
// brute force.
#include "tests/sim/reference/reference_support.h"

namespace {

using namespace cascade::reference_test;
using cascade::reference::AttentionShape;
using cascade::reference::FeatureMap;
using cascade::reference::NeighborhoodAxis;
using cascade::reference::NeighborhoodWindow;
namespace ref = cascade::reference;
using Vec = std::vector<double>;

// ---------------------------------------------------------------------------------
// Softmax attention
// ---------------------------------------------------------------------------------

TEST(SoftmaxReference, HandComputedTwoByTwo) {
  // P = M = 2, E = F = 1. q = (1, 2), k = (0, 1), v = (10, 20), scale 1:
  // row 0 scores (0, 1) -> weights (1, e)/(1 + e); row 1 scores (0, 2).
  const AttentionShape shape{2, 2, 1, 1};
  const std::vector<double> Q{1, 2}, K{0, 1}, V{10, 20};
  const double e = std::exp(1.0), e2 = std::exp(2.0);
  const std::vector<double> out = ref::softmax_attention(shape, Q, K, V, 1.0, false);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NEAR(out[0], (10 + 20 * e) / (1 + e), 1e-13);
  EXPECT_NEAR(out[1], (10 + 20 * e2) / (1 + e2), 1e-13);

  // scale 0.5 halves the scores: row 1 becomes (0, 1).
  const std::vector<double> half = ref::softmax_attention(shape, Q, K, V, 0.5, false);
  EXPECT_NEAR(half[1], (10 + 20 * e) / (1 + e), 1e-13);

  // Causal (P == M): query 0 sees key 0 only.
  const std::vector<double> causal = ref::softmax_attention(shape, Q, K, V, 1.0, true);
  EXPECT_NEAR(causal[0], 10.0, 1e-13);
  EXPECT_NEAR(causal[1], (10 + 20 * e2) / (1 + e2), 1e-13);
}

TEST(SoftmaxReference, HandComputedTwoOutputColumns) {
  // P = 1, M = 3, E = 2, F = 2. q = (1, -1); k_m = (m, 0) -> scores (0, 1, 2) (scale 1).
  const AttentionShape shape{1, 3, 2, 2};
  const std::vector<double> Q{1, -1};
  const std::vector<double> K{0, 1, 2,   // e = 0
                              0, 0, 0};  // e = 1
  const std::vector<double> V{1, 2, 3,   // f = 0
                              -1, 0, 5};  // f = 1
  const double w0 = 1.0, w1 = std::exp(1.0), w2 = std::exp(2.0), s = w0 + w1 + w2;
  const std::vector<double> out = ref::softmax_attention(shape, Q, K, V, 1.0, false);
  EXPECT_NEAR(out[0], (1 * w0 + 2 * w1 + 3 * w2) / s, 1e-13);
  EXPECT_NEAR(out[1], (-1 * w0 + 0 * w1 + 5 * w2) / s, 1e-13);
}

TEST(SoftmaxReference, CausalIsBottomRightAligned) {
  std::mt19937_64 rng(7);
  for (const auto& [P, M] : std::vector<std::pair<int64_t, int64_t>>{{3, 5}, {5, 3}, {4, 4}}) {
    const AttentionShape shape{P, M, 3, 2};
    const Inputs in = random_inputs(rng, shape);
    const double scale = 0.7;
    const std::vector<double> out = ref::softmax_attention(shape, in.Q, in.K, in.V, scale, true);
    for (int64_t p = 0; p < P; ++p) {
      const int64_t last = p + M - P;  // last visible key
      for (int64_t f = 0; f < shape.F; ++f) {
        double numerator = 0.0, denominator = 0.0;  // brute force, no max subtraction
        for (int64_t m = 0; m <= std::min(last, M - 1); ++m) {
          double dot = 0.0;
          for (int64_t e = 0; e < shape.E; ++e) dot += in.Q[e * P + p] * in.K[e * M + m];
          const double w = std::exp(scale * dot);
          numerator += w * in.V[f * M + m];
          denominator += w;
        }
        const double expected = denominator > 0 ? numerator / denominator : 0.0;
        EXPECT_NEAR(out[f * P + p], expected, 1e-13) << "P=" << P << " M=" << M << " p=" << p;
      }
    }
  }
}

TEST(SoftmaxReference, ShiftOfRowScoresLeavesOutputUnchanged) {
  // Adding c_p to every score of row p: append a dimension with q = c_p / scale, k = 1.
  std::mt19937_64 rng(11);
  const AttentionShape shape{6, 9, 4, 3};
  const Inputs in = random_inputs(rng, shape);
  const double scale = ref::default_scale(shape.E);
  const std::vector<double> base = ref::softmax_attention(shape, in.Q, in.K, in.V, scale, false);

  const AttentionShape wide{shape.P, shape.M, shape.E + 1, shape.F};
  std::vector<double> Q = in.Q, K = in.K;
  for (int64_t p = 0; p < shape.P; ++p) Q.push_back((50.0 + 100.0 * p) / scale);  // big shifts
  for (int64_t m = 0; m < shape.M; ++m) K.push_back(1.0);
  for (bool causal : {false, true}) {
    const std::vector<double> expected =
        ref::softmax_attention(shape, in.Q, in.K, in.V, scale, causal);
    const std::vector<double> shifted = ref::softmax_attention(wide, Q, K, in.V, scale, causal);
    EXPECT_LE(max_abs_diff(shifted, expected), 1e-12);
  }
  EXPECT_LE(max_abs_diff(ref::softmax_attention(wide, Q, K, in.V, scale, false), base), 1e-12);
}

TEST(SoftmaxReference, LargeScoresStayFinite) {
  // Scores around 1e4 overflow a naive exp; the stable form must not.
  const AttentionShape shape{2, 3, 1, 1};
  const std::vector<double> Q{100, -100}, K{100, 99, 98}, V{1, 2, 3};
  const std::vector<double> out = ref::softmax_attention(shape, Q, K, V, 1.0, false);
  // Row 0: scores 1e4, 9900, 9800 -> key 0 dominates. Row 1: key 2 dominates.
  EXPECT_NEAR(out[0], 1.0, 1e-12);
  EXPECT_NEAR(out[1], 3.0, 1e-12);
}

TEST(SoftmaxReference, KeyPermutationAndValueScaling) {
  std::mt19937_64 rng(13);
  const AttentionShape shape{5, 8, 4, 3};
  const Inputs in = random_inputs(rng, shape);
  const double scale = ref::default_scale(shape.E);
  const std::vector<double> base = ref::softmax_attention(shape, in.Q, in.K, in.V, scale, false);

  // Permute keys (columns of K and V together).
  std::vector<int64_t> perm(static_cast<std::size_t>(shape.M));
  for (int64_t m = 0; m < shape.M; ++m) perm[m] = (m * 3 + 5) % shape.M;  // 3 coprime to 8
  std::vector<double> K(in.K.size()), V(in.V.size());
  for (int64_t m = 0; m < shape.M; ++m) {
    for (int64_t e = 0; e < shape.E; ++e) K[e * shape.M + perm[m]] = in.K[e * shape.M + m];
    for (int64_t f = 0; f < shape.F; ++f) V[f * shape.M + perm[m]] = in.V[f * shape.M + m];
  }
  EXPECT_LE(max_abs_diff(ref::softmax_attention(shape, in.Q, K, V, scale, false), base), 1e-13);

  // Scaling V by alpha scales the output.
  const double alpha = -3.25;
  std::vector<double> scaled_v = in.V;
  for (double& v : scaled_v) v *= alpha;
  const std::vector<double> scaled =
      ref::softmax_attention(shape, in.Q, in.K, scaled_v, scale, false);
  for (std::size_t i = 0; i < base.size(); ++i) EXPECT_NEAR(scaled[i], alpha * base[i], 1e-13);

  // A single key returns its value.
  const AttentionShape one{3, 1, 2, 2};
  const std::vector<double> out =
      ref::softmax_attention(one, Vec{1, 2, 3, 4, 5, 6}, Vec{0.5, -2}, Vec{7, -8}, 1.0, false);
  EXPECT_EQ(out, (std::vector<double>{7, 7, 7, -8, -8, -8}));
}

TEST(SoftmaxReference, RejectsBadArguments) {
  const AttentionShape shape{2, 2, 1, 1};
  expect_error_naming(
      [&] { ref::softmax_attention(shape, Vec{1, 2, 3}, Vec{0, 1}, Vec{1, 2}, 1.0, false); },
      {"Q", "E*P"});
  expect_error_naming(
      [&] { ref::softmax_attention({0, 2, 1, 1}, Vec{}, Vec{0, 1}, Vec{1, 2}, 1.0, false); }, {"P"});
  expect_error_naming([&] { ref::default_scale(0); }, {"E"});
}


}  // namespace
