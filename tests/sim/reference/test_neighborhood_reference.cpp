// The fp64 neighborhood attention reference against NATTEN's window rule written here,
// brute force and full softmax.
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
