// The fp64 linear and lightning attention references against hand-computed values, brute
// force and each other's forms.
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


}  // namespace
