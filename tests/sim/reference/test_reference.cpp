// Tests of the fp64 attention references (sim/reference). Each test compares against
// something independent: a hand-computed value, a brute-force formula written here, an
// invariance, or another form of the same algorithm.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "arch/support/error.h"
#include "sim/reference/attention_reference.h"

namespace {

using cascade::reference::AttentionShape;
using cascade::reference::FeatureMap;
using cascade::reference::NeighborhoodAxis;
using cascade::reference::NeighborhoodWindow;
namespace ref = cascade::reference;
using Vec = std::vector<double>;

std::vector<double> random_vector(std::mt19937_64& rng, int64_t n, double lo = -1.0,
                                  double hi = 1.0) {
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (double& x : v) x = dist(rng);
  return v;
}

struct Inputs {
  std::vector<double> Q, K, V;
};

Inputs random_inputs(std::mt19937_64& rng, const AttentionShape& s, double lo = -1.0,
                     double hi = 1.0) {
  return {random_vector(rng, s.E * s.P, lo, hi), random_vector(rng, s.E * s.M, lo, hi),
          random_vector(rng, s.F * s.M, lo, hi)};
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    worst = std::max(worst, std::abs(a[i] - b[i]));
  }
  return worst;
}

// Runs `call`, expects a cascade::Error whose message contains every `needle`.
void expect_error_naming(const std::function<void()>& call,
                         const std::vector<std::string>& needles) {
  try {
    call();
    ADD_FAILURE() << "expected cascade::Error";
  } catch (const cascade::Error& error) {
    const std::string message = error.what();
    for (const std::string& needle : needles) {
      EXPECT_NE(message.find(needle), std::string::npos)
          << "message '" << message << "' does not name '" << needle << "'";
    }
  }
}

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

// ---------------------------------------------------------------------------------
// Linear attention
// ---------------------------------------------------------------------------------

TEST(LinearReference, FeatureMapsByHand) {
  EXPECT_DOUBLE_EQ(ref::apply_feature_map(FeatureMap::elu1, 2.0), 3.0);
  EXPECT_DOUBLE_EQ(ref::apply_feature_map(FeatureMap::elu1, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(ref::apply_feature_map(FeatureMap::elu1, -1.0), std::exp(-1.0));
  EXPECT_DOUBLE_EQ(ref::apply_feature_map(FeatureMap::identity, -1.5), -1.5);
  EXPECT_DOUBLE_EQ(ref::apply_feature_map(FeatureMap::relu, -1.5), 0.0);
  EXPECT_DOUBLE_EQ(ref::apply_feature_map(FeatureMap::relu, 1.5), 1.5);
  EXPECT_STREQ(ref::feature_map_name(FeatureMap::elu1), "elu1");

  // P = 1, M = 2, E = F = 1: q = 0 -> phi 1; k = (-1, 1) -> phi (1/e, 2); v = (3, 5).
  const AttentionShape shape{1, 2, 1, 1};
  const double eps = 1e-6, inv_e = std::exp(-1.0);
  const std::vector<double> elu =
      ref::linear_attention(shape, Vec{0.0}, Vec{-1, 1}, Vec{3, 5}, FeatureMap::elu1, eps, false);
  EXPECT_NEAR(elu[0], (3 * inv_e + 10) / (inv_e + 2 + eps), 1e-14);
  // relu: q = 2, k = (-1, 1) -> phi(k) = (0, 1): out = 2*5 / (2 + eps).
  const std::vector<double> relu =
      ref::linear_attention(shape, Vec{2.0}, Vec{-1, 1}, Vec{3, 5}, FeatureMap::relu, eps, false);
  EXPECT_NEAR(relu[0], 10 / (2 + eps), 1e-14);
  // identity: q = 2, k = (-1, 3): numerator 2*(-3 + 15) = 24, denominator 2*2 = 4.
  const std::vector<double> id =
      ref::linear_attention(shape, Vec{2.0}, Vec{-1, 3}, Vec{3, 5}, FeatureMap::identity, eps, false);
  EXPECT_NEAR(id[0], 24 / (4 + eps), 1e-14);
}

TEST(LinearReference, NonCausalMatchesBruteForce) {
  std::mt19937_64 rng(17);
  const AttentionShape shape{7, 11, 5, 4};
  const Inputs in = random_inputs(rng, shape);
  const double eps = 1e-6;
  for (FeatureMap phi : {FeatureMap::elu1, FeatureMap::relu, FeatureMap::identity}) {
    const std::vector<double> out = ref::linear_attention(shape, in.Q, in.K, in.V, phi, eps, false);
    for (int64_t p = 0; p < shape.P; ++p) {
      for (int64_t f = 0; f < shape.F; ++f) {
        double numerator = 0.0, denominator = 0.0;
        for (int64_t m = 0; m < shape.M; ++m) {
          double a = 0.0;
          for (int64_t e = 0; e < shape.E; ++e) {
            a += ref::apply_feature_map(phi, in.Q[e * shape.P + p]) *
                 ref::apply_feature_map(phi, in.K[e * shape.M + m]);
          }
          numerator += a * in.V[f * shape.M + m];
          denominator += a;
        }
        EXPECT_NEAR(out[f * shape.P + p], numerator / (denominator + eps), 1e-12)
            << ref::feature_map_name(phi);
      }
    }
  }
}

TEST(LinearReference, ThreeCausalFormsAgree) {
  std::mt19937_64 rng(19);
  const double eps = ref::kLinearAttentionEps;
  for (int trial = 0; trial < 20; ++trial) {
    const int64_t n = 1 + static_cast<int64_t>(rng() % 40);
    const AttentionShape shape{n, n, 1 + static_cast<int64_t>(rng() % 6),
                               1 + static_cast<int64_t>(rng() % 5)};
    // Positive-ish inputs for relu/identity keep denominators away from 0.
    const Inputs in = random_inputs(rng, shape, -0.5, 1.0);
    for (FeatureMap phi : {FeatureMap::elu1, FeatureMap::relu}) {
      const std::vector<double> prefix =
          ref::linear_attention(shape, in.Q, in.K, in.V, phi, eps, true);
      const std::vector<double> quadratic =
          ref::linear_attention_causal_quadratic(shape, in.Q, in.K, in.V, phi, eps);
      EXPECT_LE(max_abs_diff(prefix, quadratic), 1e-12) << "n=" << n;
      for (int64_t chunk : {int64_t{1}, int64_t{3}, int64_t{4}, n, n + 5}) {
        const std::vector<double> chunked =
            ref::linear_attention_causal_chunked(shape, in.Q, in.K, in.V, phi, eps, chunk);
        EXPECT_LE(max_abs_diff(chunked, quadratic), 1e-12) << "n=" << n << " chunk=" << chunk;
      }
    }
  }
  // Identity map on positive inputs (denominators > 0).
  const AttentionShape shape{13, 13, 3, 2};
  const Inputs in = random_inputs(rng, shape, 0.1, 1.0);
  const std::vector<double> quadratic =
      ref::linear_attention_causal_quadratic(shape, in.Q, in.K, in.V, FeatureMap::identity, eps);
  EXPECT_LE(max_abs_diff(ref::linear_attention(shape, in.Q, in.K, in.V, FeatureMap::identity,
                                               eps, true),
                         quadratic),
            1e-12);
  EXPECT_LE(max_abs_diff(ref::linear_attention_causal_chunked(shape, in.Q, in.K, in.V,
                                                              FeatureMap::identity, eps, 5),
                         quadratic),
            1e-12);
}

TEST(LinearReference, CausalFirstRowSeesOnlyFirstKey) {
  // Query 0 attends to key 0 only: out = phi(q0)·phi(k0) v0 / (phi(q0)·phi(k0) + eps).
  const AttentionShape shape{2, 2, 1, 1};
  const double eps = 1e-6;
  const std::vector<double> out =
      ref::linear_attention(shape, Vec{1.0, 1.0}, Vec{0.0, 5.0}, Vec{4.0, 100.0}, FeatureMap::elu1, eps,
                            true);
  EXPECT_NEAR(out[0], 2.0 * 4.0 / (2.0 + eps), 1e-14);
}

TEST(LinearReference, NonCausalEqualsCausalAtLastQuery) {
  std::mt19937_64 rng(23);
  const AttentionShape shape{9, 9, 4, 3};
  const Inputs in = random_inputs(rng, shape);
  for (FeatureMap phi : {FeatureMap::elu1, FeatureMap::relu}) {
    const std::vector<double> full = ref::linear_attention(shape, in.Q, in.K, in.V, phi, 1e-6,
                                                           false);
    const std::vector<double> causal = ref::linear_attention(shape, in.Q, in.K, in.V, phi, 1e-6,
                                                             true);
    const int64_t last = shape.P - 1;
    for (int64_t f = 0; f < shape.F; ++f) {
      EXPECT_NEAR(full[f * shape.P + last], causal[f * shape.P + last], 1e-12);
    }
    // ... and differs at earlier queries (the mask does something).
    EXPECT_GT(std::abs(full[0] - causal[0]), 1e-6);
  }
}

TEST(LinearReference, RejectsBadArguments) {
  const AttentionShape shape{2, 3, 1, 1};
  const std::vector<double> Q{1, 2}, K{1, 2, 3}, V{1, 2, 3};
  expect_error_naming(
      [&] { ref::linear_attention(shape, Q, K, V, FeatureMap::elu1, 1e-6, true); }, {"P == M"});
  const AttentionShape square{3, 3, 1, 1};
  expect_error_naming(
      [&] {
        ref::linear_attention_causal_chunked(square, K, K, V, FeatureMap::elu1, 1e-6, 0);
      },
      {"chunk size C"});
}

// ---------------------------------------------------------------------------------
// Lightning attention
// ---------------------------------------------------------------------------------

TEST(LightningReference, HandComputed) {
  // P = 2, E = F = 1, q = k = (1, 1), v = (1, 2), λ = 0.5: o0 = 1, o1 = 0.5*1 + 2.
  const AttentionShape shape{2, 2, 1, 1};
  const std::vector<double> Q{1, 1}, K{1, 1}, V{1, 2};
  for (const std::vector<double>& out :
       {ref::lightning_attention_naive(shape, Q, K, V, 0.5),
        ref::lightning_attention_blocked(shape, Q, K, V, 0.5, 1),
        ref::lightning_attention_recurrent(shape, Q, K, V, 0.5)}) {
    EXPECT_NEAR(out[0], 1.0, 1e-15);
    EXPECT_NEAR(out[1], 2.5, 1e-15);
  }
}

TEST(LightningReference, NaiveEqualsBlockedEqualsRecurrent) {
  std::mt19937_64 rng(29);
  std::uniform_real_distribution<double> lambda_dist(0.5, 1.0);
  int checked_partial = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const int64_t n = 1 + static_cast<int64_t>(rng() % 50);
    const AttentionShape shape{n, n, 1 + static_cast<int64_t>(rng() % 8),
                               1 + static_cast<int64_t>(rng() % 8)};
    const Inputs in = random_inputs(rng, shape);
    const double lambda = trial % 10 == 0 ? 1.0 : lambda_dist(rng);
    const int64_t block = 1 + static_cast<int64_t>(rng() % (n + 3));
    if (n % block != 0) ++checked_partial;
    const std::vector<double> naive = ref::lightning_attention_naive(shape, in.Q, in.K, in.V,
                                                                     lambda);
    const std::vector<double> blocked =
        ref::lightning_attention_blocked(shape, in.Q, in.K, in.V, lambda, block);
    const std::vector<double> recurrent =
        ref::lightning_attention_recurrent(shape, in.Q, in.K, in.V, lambda);
    EXPECT_LE(max_abs_diff(naive, blocked), 1e-12)
        << "n=" << n << " B=" << block << " lambda=" << lambda;
    EXPECT_LE(max_abs_diff(naive, recurrent), 1e-12) << "n=" << n << " lambda=" << lambda;
  }
  EXPECT_GT(checked_partial, 10);  // P not a multiple of B is exercised
}

TEST(LightningReference, FinalStateIsDecayedKeyValueSum) {
  // Final KV = Σ_m λ^(P-1-m) k_m v_mᵀ, whether or not P is a multiple of B (the last,
  // partial block must decay the state by λ^b, not λ^B).
  std::mt19937_64 rng(47);
  const double lambda = 0.9;
  for (const auto& [n, block] : std::vector<std::pair<int64_t, int64_t>>{
           {12, 4}, {13, 4}, {14, 4}, {15, 4}, {7, 10}, {1, 1}}) {
    const AttentionShape shape{n, n, 3, 2};
    const Inputs in = random_inputs(rng, shape);
    std::vector<double> blocked_kv, recurrent_kv;
    ref::lightning_attention_blocked(shape, in.Q, in.K, in.V, lambda, block, &blocked_kv);
    ref::lightning_attention_recurrent(shape, in.Q, in.K, in.V, lambda, &recurrent_kv);
    std::vector<double> expected(static_cast<std::size_t>(shape.E * shape.F), 0.0);
    for (int64_t e = 0; e < shape.E; ++e) {
      for (int64_t f = 0; f < shape.F; ++f) {
        for (int64_t m = 0; m < n; ++m) {
          expected[e * shape.F + f] += std::pow(lambda, static_cast<double>(n - 1 - m)) *
                                       in.K[e * n + m] * in.V[f * n + m];
        }
      }
    }
    EXPECT_LE(max_abs_diff(blocked_kv, expected), 1e-13) << "n=" << n << " B=" << block;
    EXPECT_LE(max_abs_diff(recurrent_kv, expected), 1e-13) << "n=" << n;
  }
}

TEST(LightningReference, LambdaOneIsUnnormalizedCausalLinear) {
  std::mt19937_64 rng(31);
  const AttentionShape shape{17, 17, 4, 3};
  const Inputs in = random_inputs(rng, shape, 0.05, 1.0);  // positive: denominators > 0
  const std::vector<double> out =
      ref::lightning_attention_blocked(shape, in.Q, in.K, in.V, 1.0, 5);
  const double eps = 1e-6;
  const std::vector<double> linear =
      ref::linear_attention(shape, in.Q, in.K, in.V, FeatureMap::identity, eps, true);
  for (int64_t p = 0; p < shape.P; ++p) {
    double denominator = 0.0;
    for (int64_t f = 0; f < shape.F; ++f) {
      double numerator = 0.0;  // Σ_{m<=p} (q·k_m) v_m
      denominator = 0.0;
      for (int64_t m = 0; m <= p; ++m) {
        double dot = 0.0;
        for (int64_t e = 0; e < shape.E; ++e) {
          dot += in.Q[e * shape.P + p] * in.K[e * shape.M + m];
        }
        numerator += dot * in.V[f * shape.M + m];
        denominator += dot;
      }
      EXPECT_NEAR(out[f * shape.P + p], numerator, 1e-12);
      // Normalized, it is causal linear attention with the identity feature map.
      EXPECT_NEAR(out[f * shape.P + p] / (denominator + eps), linear[f * shape.P + p], 1e-12);
    }
  }
}

TEST(LightningReference, DecayFactorMatchesPowersByHand) {
  // One-hot keys: out[i] = Σ_{j<=i} λ^(i-j) v_j with q = k = 1, E = F = 1.
  const int64_t n = 9;
  const AttentionShape shape{n, n, 1, 1};
  const std::vector<double> ones(static_cast<std::size_t>(n), 1.0);
  std::vector<double> V(static_cast<std::size_t>(n));
  for (int64_t j = 0; j < n; ++j) V[j] = static_cast<double>(j + 1);
  const double lambda = 0.8;
  const std::vector<double> out = ref::lightning_attention_blocked(shape, ones, ones, V, lambda, 4);
  double expected = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    expected = lambda * expected + V[i];  // Horner
    EXPECT_NEAR(out[i], expected, 1e-13) << i;
  }
}

TEST(LightningReference, DecayRatesPowerOfTwo) {
  const std::vector<double> slopes = ref::alibi_slopes(8);
  const std::vector<double> rates = ref::lightning_decay_rates(8);
  ASSERT_EQ(slopes.size(), 8u);
  ASSERT_EQ(rates.size(), 8u);
  double expected = 0.5;  // 1/2, 1/4, ..., 1/256
  for (int h = 0; h < 8; ++h, expected /= 2) {
    EXPECT_DOUBLE_EQ(slopes[h], expected) << h;
    EXPECT_DOUBLE_EQ(rates[h], std::exp(-expected)) << h;
  }
  EXPECT_EQ(ref::alibi_slopes(1), std::vector<double>{1.0 / 256});
  // H = 2: 2^-4, 2^-8.
  EXPECT_EQ(ref::alibi_slopes(2), (std::vector<double>{1.0 / 16, 1.0 / 256}));
}

TEST(LightningReference, DecayRatesNonPowerOfTwo) {
  // H = 12: c = 8 -> slopes(8) = 2^-1..2^-8, then slopes(16) = 2^-0.5, 2^-1, 2^-1.5, ...
  // every other (indices 0, 2, 4, 6): 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5.
  std::vector<double> expected;
  for (int h = 1; h <= 8; ++h) expected.push_back(std::pow(2.0, -h));
  for (double x : {-0.5, -1.5, -2.5, -3.5}) expected.push_back(std::pow(2.0, x));
  const std::vector<double> slopes = ref::alibi_slopes(12);
  const std::vector<double> rates = ref::lightning_decay_rates(12);
  ASSERT_EQ(slopes.size(), 12u);
  for (int h = 0; h < 12; ++h) {
    EXPECT_NEAR(slopes[h], expected[h], 1e-15) << h;
    EXPECT_NEAR(rates[h], std::exp(-expected[h]), 1e-15) << h;
  }
  // H = 6: c = 4 -> 2^-2, 2^-4, 2^-6, 2^-8, then slopes(8)[0], slopes(8)[2] = 2^-1, 2^-3.
  const std::vector<double> six = ref::alibi_slopes(6);
  const std::vector<double> six_expected{0.25, 1.0 / 16, 1.0 / 64, 1.0 / 256, 0.5, 0.125};
  ASSERT_EQ(six.size(), 6u);
  for (int h = 0; h < 6; ++h) EXPECT_NEAR(six[h], six_expected[h], 1e-15) << h;
  // H = 3: c = 2 -> 2^-4, 2^-8, then slopes(4)[0] = 2^-2.
  const std::vector<double> three = ref::alibi_slopes(3);
  ASSERT_EQ(three.size(), 3u);
  EXPECT_NEAR(three[2], 0.25, 1e-15);
  expect_error_naming([] { ref::alibi_slopes(0); }, {"H"});
}

TEST(LightningReference, TransNormerLayerScaling) {
  const std::vector<double> slopes = ref::alibi_slopes(8);
  const std::vector<double> first = ref::transnormer_decay_rates(8, 0, 4);
  const std::vector<double> middle = ref::transnormer_decay_rates(8, 2, 5);  // factor 0.5
  const std::vector<double> last = ref::transnormer_decay_rates(8, 3, 4);
  for (int h = 0; h < 8; ++h) {
    EXPECT_NEAR(first[h], std::exp(-slopes[h] * (1 + 1e-5)), 1e-15);
    EXPECT_NEAR(middle[h], std::exp(-slopes[h] * (0.5 + 1e-5)), 1e-15);
    EXPECT_NEAR(last[h], std::exp(-slopes[h] * 1e-5), 1e-15);
  }
  expect_error_naming([] { ref::transnormer_decay_rates(8, 0, 1); }, {"layer count L"});
  expect_error_naming([] { ref::transnormer_decay_rates(8, 4, 4); }, {"layer l"});
}

TEST(LightningReference, RejectsBadArguments) {
  const AttentionShape shape{2, 3, 1, 1};
  const std::vector<double> Q{1, 2}, K{1, 2, 3}, V{1, 2, 3};
  expect_error_naming([&] { ref::lightning_attention_naive(shape, Q, K, V, 0.9); }, {"P == M"});
  const AttentionShape square{3, 3, 1, 1};
  expect_error_naming([&] { ref::lightning_attention_blocked(square, K, K, V, 0.9, 0); },
                      {"block size B"});
  expect_error_naming([&] { ref::lightning_attention_recurrent(square, K, K, V, NAN); },
                      {"lambda"});
}

// ---------------------------------------------------------------------------------
// Neighborhood attention
// ---------------------------------------------------------------------------------

// Window start of the original NATTEN kernels (natten_commons, odd kernel sizes,
// neighborhood_size = k / 2), written here as an independent check of the group rule.
int64_t legacy_natten_window_start(int64_t index, int64_t length, int64_t kernel_size,
                                   int64_t dilation) {
  const int64_t ns = kernel_size / 2;
  if (dilation <= 1) {
    return std::max<int64_t>(index - ns, 0) +
           (index + ns >= length ? length - index - ns - 1 : 0);
  }
  const int64_t ni = index - ns * dilation;
  if (ni < 0) return index % dilation;
  if (index + ns * dilation >= length) {
    const int64_t imodd = index % dilation;
    const int64_t a = (length / dilation) * dilation;
    const int64_t b = length - a;
    if (imodd < b) return length - b + imodd - 2 * ns * dilation;
    return a + imodd - kernel_size * dilation;
  }
  return ni;
}

TEST(NeighborhoodReference, WindowExampleFromVariants) {
  // L = 7, k = 3, d = 1: starts 0, 0, 1, 2, 3, 4, 4.
  const std::vector<int64_t> expected{0, 0, 1, 2, 3, 4, 4};
  for (int64_t i = 0; i < 7; ++i) {
    const NeighborhoodWindow w = ref::neighborhood_window(i, 7, 3);
    EXPECT_EQ(w.first, expected[i]) << i;
    EXPECT_EQ(w.last, expected[i] + 2) << i;
    EXPECT_EQ(w.step, 1);
    EXPECT_EQ(w.positions(), (std::vector<int64_t>{expected[i], expected[i] + 1,
                                                    expected[i] + 2}));
  }
}

TEST(NeighborhoodReference, NonCausalWindowsHaveExactlyKKeysInTheQueryGroup) {
  int cases = 0;
  for (int64_t L = 2; L <= 23; ++L) {
    for (int64_t d = 1; d <= L / 2; ++d) {
      for (int64_t k = 2; k * d <= L; ++k) {
        for (int64_t s = 1; s <= std::min<int64_t>(k, 3); ++s) {
          ++cases;
          for (int64_t i = 0; i < L; ++i) {
            const NeighborhoodWindow w = ref::neighborhood_window(i, L, k, d, false, s);
            const std::vector<int64_t> keys = w.positions();
            ASSERT_EQ(static_cast<int64_t>(keys.size()), k)
                << "L=" << L << " k=" << k << " d=" << d << " s=" << s << " i=" << i;
            for (int64_t key : keys) {
              EXPECT_GE(key, 0);
              EXPECT_LT(key, L);
              EXPECT_EQ(key % d, i % d) << "key outside the query's dilation group";
            }
            EXPECT_EQ(w.step, d);
            if (s == 1) {
              EXPECT_TRUE(w.contains(i)) << "L=" << L << " k=" << k << " d=" << d << " i=" << i;
            }
            // Queries of one stride tile share a window.
            const int64_t tile_first = ((i / d) / s) * s * d + i % d;
            const NeighborhoodWindow leader = ref::neighborhood_window(tile_first, L, k, d, false, s);
            EXPECT_EQ(w.first, leader.first);
          }
        }
      }
    }
  }
  EXPECT_GT(cases, 500);
}

TEST(NeighborhoodReference, MatchesLegacyNattenStartForOddKernels) {
  for (int64_t L = 3; L <= 30; ++L) {
    for (int64_t d = 1; d <= L / 3; ++d) {
      for (int64_t k = 3; k * d <= L; k += 2) {
        for (int64_t i = 0; i < L; ++i) {
          EXPECT_EQ(ref::neighborhood_window(i, L, k, d).first,
                    legacy_natten_window_start(i, L, k, d))
              << "L=" << L << " k=" << k << " d=" << d << " i=" << i;
        }
      }
    }
  }
}

TEST(NeighborhoodReference, DilationWithLengthNotDivisible) {
  // L = 10, d = 3, k = 3: groups {0,3,6,9} (length 4), {1,4,7}, {2,5,8} (length 3).
  const int64_t L = 10, k = 3, d = 3;
  const std::vector<std::vector<int64_t>> expected{
      {0, 3, 6}, {1, 4, 7}, {2, 5, 8}, {0, 3, 6}, {1, 4, 7},
      {2, 5, 8}, {3, 6, 9}, {1, 4, 7}, {2, 5, 8}, {3, 6, 9}};
  for (int64_t i = 0; i < L; ++i) {
    EXPECT_EQ(ref::neighborhood_window(i, L, k, d).positions(), expected[i]) << i;
  }
  // Even kernel, k = 4 on L = 9, d = 2: wl = 2, wr = 1. Group 0 = {0,2,4,6,8} (5),
  // group 1 = {1,3,5,7} (4 = k: everyone sees the whole group).
  EXPECT_EQ(ref::neighborhood_window(4, 9, 4, 2).positions(),
            (std::vector<int64_t>{0, 2, 4, 6}));  // index 2: c = 2 -> [0, 3]
  EXPECT_EQ(ref::neighborhood_window(6, 9, 4, 2).positions(),
            (std::vector<int64_t>{2, 4, 6, 8}));  // index 3: c = clamp(3, 2, 3) = 3 -> [1, 4]
  EXPECT_EQ(ref::neighborhood_window(1, 9, 4, 2).positions(),
            (std::vector<int64_t>{1, 3, 5, 7}));
}

TEST(NeighborhoodReference, StrideSharesTheTileCenterWindow) {
  // L = 10, k = 3, s = 3, d = 1: leader = (i div 3)*3 + 1 -> 1, 4, 7, then min(10, 9) = 9
  // for the last tile; c = clamp(leader, 1, 8).
  const std::vector<int64_t> first{0, 0, 0, 3, 3, 3, 6, 6, 6, 7};
  for (int64_t i = 0; i < 10; ++i) {
    EXPECT_EQ(ref::neighborhood_window(i, 10, 3, 1, false, 3).first, first[i]) << i;
  }
  // s = 2, k = 5, L = 9: leader = (i div 2)*2 + 1 -> 1, 3, 5, 7, min(9, 8) = 8;
  // c = clamp(leader, 2, 6) -> 2, 3, 5, 6, 6.
  const std::vector<int64_t> first2{0, 0, 1, 1, 3, 3, 4, 4, 4};
  for (int64_t i = 0; i < 9; ++i) {
    EXPECT_EQ(ref::neighborhood_window(i, 9, 5, 1, false, 2).first, first2[i]) << i;
  }
}

TEST(NeighborhoodReference, CausalWindowsEndAtTheQuery) {
  for (int64_t L = 2; L <= 20; ++L) {
    for (int64_t d = 1; d <= L / 2; ++d) {
      for (int64_t k = 2; k * d <= L; ++k) {
        for (int64_t i = 0; i < L; ++i) {
          const NeighborhoodWindow w = ref::neighborhood_window(i, L, k, d, true);
          EXPECT_EQ(w.last, i);
          EXPECT_EQ(w.count(), std::min(i / d + 1, k)) << "L=" << L << " k=" << k << " i=" << i;
          EXPECT_EQ(w.first % d, i % d);
        }
      }
    }
  }
  // Stride 2, k = 3, L = 8 (d = 1): leader = (i div 2)*2 + 1, first = max(leader - 2, 0).
  const std::vector<int64_t> first{0, 0, 1, 1, 3, 3, 5, 5};
  for (int64_t i = 0; i < 8; ++i) {
    const NeighborhoodWindow w = ref::neighborhood_window(i, 8, 3, 1, true, 2);
    EXPECT_EQ(w.first, first[i]) << i;
    EXPECT_EQ(w.last, i) << i;
  }
}

TEST(NeighborhoodReference, FullWindowEqualsSoftmaxAttention) {
  std::mt19937_64 rng(37);
  for (int64_t L : {2, 5, 16}) {
    const AttentionShape shape{L, L, 6, 5};
    const Inputs in = random_inputs(rng, shape, -2.0, 2.0);
    const double scale = ref::default_scale(shape.E);
    const std::vector<double> natten =
        ref::neighborhood_attention_1d({L, L, 1, 1, false}, shape.E, shape.F, in.Q, in.K, in.V,
                                       scale);
    const std::vector<double> softmax =
        ref::softmax_attention(shape, in.Q, in.K, in.V, scale, false);
    EXPECT_LE(max_abs_diff(natten, softmax), 1e-12) << L;
    // Causal with k = L is causal softmax attention.
    const std::vector<double> causal_natten =
        ref::neighborhood_attention_1d({L, L, 1, 1, true}, shape.E, shape.F, in.Q, in.K, in.V,
                                       scale);
    EXPECT_LE(max_abs_diff(causal_natten,
                           ref::softmax_attention(shape, in.Q, in.K, in.V, scale, true)),
              1e-12);
  }
}

// Brute force: softmax over all keys that `is_neighbor` accepts.
std::vector<double> masked_softmax_brute_force(int64_t N, int64_t E, int64_t F,
                                               const std::vector<double>& Q,
                                               const std::vector<double>& K,
                                               const std::vector<double>& V, double scale,
                                               const std::function<bool(int64_t, int64_t)>&
                                                   is_neighbor) {
  std::vector<double> out(static_cast<std::size_t>(F * N), 0.0);
  for (int64_t q = 0; q < N; ++q) {
    std::vector<double> weights(static_cast<std::size_t>(N), 0.0);
    double max = -INFINITY;
    for (int64_t k = 0; k < N; ++k) {
      if (!is_neighbor(q, k)) continue;
      double dot = 0.0;
      for (int64_t e = 0; e < E; ++e) dot += Q[e * N + q] * K[e * N + k];
      max = std::max(max, dot * scale);
    }
    double sum = 0.0;
    for (int64_t k = 0; k < N; ++k) {
      if (!is_neighbor(q, k)) continue;
      double dot = 0.0;
      for (int64_t e = 0; e < E; ++e) dot += Q[e * N + q] * K[e * N + k];
      weights[k] = std::exp(dot * scale - max);
      sum += weights[k];
    }
    for (int64_t f = 0; f < F; ++f) {
      double acc = 0.0;
      for (int64_t k = 0; k < N; ++k) acc += weights[k] * V[f * N + k];
      out[f * N + q] = acc / sum;
    }
  }
  return out;
}

TEST(NeighborhoodReference, OneDimensionalMatchesBruteForce) {
  std::mt19937_64 rng(41);
  const int64_t E = 4, F = 3;
  for (const NeighborhoodAxis& axis :
       {NeighborhoodAxis{11, 3, 1, 1, false}, NeighborhoodAxis{11, 3, 3, 1, false},
        NeighborhoodAxis{12, 4, 2, 1, false}, NeighborhoodAxis{12, 5, 2, 1, true},
        NeighborhoodAxis{13, 5, 1, 2, false}, NeighborhoodAxis{13, 3, 2, 3, true}}) {
    const int64_t L = axis.length;
    const std::vector<double> Q = random_vector(rng, E * L), K = random_vector(rng, E * L),
                              V = random_vector(rng, F * L);
    const double scale = ref::default_scale(E);
    const std::vector<double> out = ref::neighborhood_attention_1d(axis, E, F, Q, K, V, scale);
    const std::vector<double> expected =
        masked_softmax_brute_force(L, E, F, Q, K, V, scale, [&](int64_t q, int64_t k) {
          return ref::neighborhood_window(q, axis).contains(k);
        });
    EXPECT_LE(max_abs_diff(out, expected), 1e-13) << "L=" << L << " k=" << axis.kernel;
  }
}

TEST(NeighborhoodReference, TwoDimensionalNonSquareMatchesBruteForce) {
  std::mt19937_64 rng(43);
  const int64_t E = 5, F = 3;
  struct Case {
    NeighborhoodAxis y, x;
  };
  for (const Case& c : {Case{{5, 3, 1, 1, false}, {8, 5, 1, 1, false}},
                        Case{{6, 3, 2, 1, false}, {9, 3, 3, 1, false}},
                        Case{{5, 3, 1, 1, true}, {8, 5, 1, 1, false}},
                        Case{{7, 3, 2, 1, false}, {4, 2, 1, 1, true}},
                        Case{{6, 4, 1, 2, false}, {9, 3, 1, 3, true}}}) {
    const int64_t Y = c.y.length, X = c.x.length, N = Y * X;
    const std::vector<double> Q = random_vector(rng, E * N), K = random_vector(rng, E * N),
                              V = random_vector(rng, F * N);
    const double scale = ref::default_scale(E);
    const std::vector<double> out = ref::neighborhood_attention_2d(c.y, c.x, E, F, Q, K, V, scale);
    const std::vector<double> expected =
        masked_softmax_brute_force(N, E, F, Q, K, V, scale, [&](int64_t q, int64_t k) {
          return ref::neighborhood_window(q / X, c.y).contains(k / X) &&
                 ref::neighborhood_window(q % X, c.x).contains(k % X);
        });
    EXPECT_LE(max_abs_diff(out, expected), 1e-13) << "Y=" << Y << " X=" << X;
  }
}

TEST(NeighborhoodReference, BadParametersThrowNamingTheParameter) {
  expect_error_naming([] { ref::neighborhood_window(0, 7, 1); }, {"kernel size k"});
  expect_error_naming([] { ref::neighborhood_window(0, 7, 3, 0); }, {"dilation d"});
  expect_error_naming([] { ref::neighborhood_window(0, 7, 3, 3); },
                      {"kernel size k * dilation d", "axis length L"});
  expect_error_naming([] { ref::neighborhood_window(0, 7, 8); }, {"axis length L"});
  expect_error_naming([] { ref::neighborhood_window(0, 7, 3, 1, false, 0); }, {"stride s"});
  expect_error_naming([] { ref::neighborhood_window(0, 7, 3, 1, false, 4); }, {"stride s"});
  expect_error_naming([] { ref::neighborhood_window(7, 7, 3); }, {"query index i"});
  expect_error_naming(
      [] { ref::validate_neighborhood_axis({7, 4, 1, 1, false}, true, "axis X"); },
      {"axis X", "kernel size k", "odd"});
  EXPECT_NO_THROW(ref::validate_neighborhood_axis({7, 4, 1, 1, false}, false));
  const std::vector<double> data(14, 0.0);
  expect_error_naming(
      [&] {
        ref::neighborhood_attention_2d({2, 2, 1, 1, false}, {7, 3, 3, 1, false}, 1, 1, data,
                                       data, data, 1.0);
      },
      {"axis X", "dilation d"});
  expect_error_naming(
      [&] {
        ref::neighborhood_attention_1d({7, 3, 1, 1, false}, 2, 1, data, data,
                                       std::vector<double>(6), 1.0);
      },
      {"V", "F*L"});
}

}  // namespace
