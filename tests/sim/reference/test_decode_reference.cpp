// The fp64 decode reference (sim/reference/decode_reference.h) against closed forms and
// against the softmax reference (attention_reference.h), a separate implementation: each
// query head h is one-query softmax attention over KV head h / G.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "sim/reference/attention_reference.h"
#include "sim/reference/decode_reference.h"
#include "tests/sim/reference/reference_support.h"

namespace cascade {
namespace {

namespace ref = cascade::reference;
using reference_test::expect_error_naming;
using reference_test::max_abs_diff;
using reference_test::random_vector;

struct DecodeInputs {
  std::vector<double> Q, K, V;
};

DecodeInputs random_decode(std::mt19937_64& rng, const ref::DecodeShape& s) {
  const int64_t hk = s.kv_heads();
  return {random_vector(rng, s.E * s.H), random_vector(rng, s.E * s.M * hk),
          random_vector(rng, s.F * s.M * hk)};
}

TEST(DecodeReference, EveryQueryHeadIsSoftmaxAttentionOverItsKvHead) {
  std::mt19937_64 rng(21);
  for (const ref::DecodeShape& s : {ref::DecodeShape{50, 6, 5, 8, 4}, ref::DecodeShape{17, 3, 4, 6, 3},
                                    ref::DecodeShape{9, 4, 4, 3, 1}, ref::DecodeShape{1, 2, 3, 2, 2}}) {
    const DecodeInputs in = random_decode(rng, s);
    const double scale = ref::default_scale(s.E);
    const std::vector<double> out = ref::decode_attention(s, in.Q, in.K, in.V, scale);
    const int64_t hk = s.kv_heads();
    for (int64_t h = 0; h < s.H; ++h) {
      const int64_t j = h / s.G;
      std::vector<double> q(s.E), k(s.E * s.M), v(s.F * s.M);  // [E][1], [E][M], [F][M]
      for (int64_t e = 0; e < s.E; ++e) q[e] = in.Q[e * s.H + h];
      for (int64_t m = 0; m < s.M; ++m) {
        for (int64_t e = 0; e < s.E; ++e) k[e * s.M + m] = in.K[(e * s.M + m) * hk + j];
        for (int64_t f = 0; f < s.F; ++f) v[f * s.M + m] = in.V[(f * s.M + m) * hk + j];
      }
      const std::vector<double> want =
          ref::softmax_attention({1, s.M, s.E, s.F}, q, k, v, scale, false);
      for (int64_t f = 0; f < s.F; ++f)
        EXPECT_NEAR(out[f * s.H + h], want[f], 1e-14) << "h=" << h << " f=" << f;
    }
  }
}

TEST(DecodeReference, EqualKeysAverageTheValues) {
  // Every key the same: uniform weights 1/M, the output is the mean of the values.
  std::mt19937_64 rng(22);
  const ref::DecodeShape s{7, 3, 2, 4, 2};
  DecodeInputs in = random_decode(rng, s);
  for (int64_t e = 0; e < s.E; ++e)
    for (int64_t m = 0; m < s.M; ++m)
      for (int64_t j = 0; j < s.kv_heads(); ++j) in.K[(e * s.M + m) * s.kv_heads() + j] = 0.5 + e;
  const std::vector<double> out = ref::decode_attention(s, in.Q, in.K, in.V, 0.3);
  for (int64_t h = 0; h < s.H; ++h)
    for (int64_t f = 0; f < s.F; ++f) {
      double mean = 0;
      for (int64_t m = 0; m < s.M; ++m) mean += in.V[(f * s.M + m) * s.kv_heads() + h / s.G];
      EXPECT_NEAR(out[f * s.H + h], mean / s.M, 1e-14);
    }
}

TEST(DecodeReference, HeadsOfOneGroupShareTheirKeysButNotTheirQueries) {
  // Two query heads of one group with the same query give the same output; a head of
  // another group does not (its keys differ).
  std::mt19937_64 rng(23);
  const ref::DecodeShape s{12, 4, 3, 4, 2};
  DecodeInputs in = random_decode(rng, s);
  for (int64_t e = 0; e < s.E; ++e) in.Q[e * s.H + 1] = in.Q[e * s.H + 0];
  for (int64_t e = 0; e < s.E; ++e) in.Q[e * s.H + 2] = in.Q[e * s.H + 0];
  const std::vector<double> out = ref::decode_attention(s, in.Q, in.K, in.V, 1.0);
  double other = 0;
  for (int64_t f = 0; f < s.F; ++f) {
    EXPECT_EQ(out[f * s.H + 0], out[f * s.H + 1]);
    other = std::max(other, std::fabs(out[f * s.H + 0] - out[f * s.H + 2]));
  }
  EXPECT_GT(other, 1e-3);
}

TEST(DecodeReference, LargeScoresStayFinite) {
  const ref::DecodeShape s{3, 1, 1, 1, 1};
  const std::vector<double> Q{100}, K{100, 99, 98}, V{1, 2, 3};
  EXPECT_NEAR(ref::decode_attention(s, Q, K, V, 1.0)[0], 1.0, 1e-12);
}

TEST(DecodeReference, RejectsBadArgumentsNamingThem) {
  const std::vector<double> none;
  expect_error_naming([&] { ref::decode_attention({0, 1, 1, 1, 1}, none, none, none, 1.0); },
                      {"M = 0"});
  expect_error_naming([&] { ref::decode_attention({4, 1, 1, 6, 4}, none, none, none, 1.0); },
                      {"H = 6", "G = 4"});
  expect_error_naming(
      [&] {
        ref::decode_attention({2, 1, 1, 2, 1}, std::vector<double>(2), std::vector<double>(3),
                              std::vector<double>(4), 1.0);
      },
      {"K", "E*M*HK = 4"});
  const std::vector<double> one(1);
  expect_error_naming([&] { ref::decode_attention({1, 1, 1, 1, 1}, one, one, one, NAN); },
                      {"scale"});
}

}  // namespace
}  // namespace cascade
