// fp64 reference implementations of the attention variants (see the header and
// VARIANTS.md (the project's shared design notes)). Plain loops in double; inner loops run over contiguous
// memory (the M axis of K and V), and no loop allocates per element.
#include "sim/reference/attention_reference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

namespace cascade::reference {
namespace {

using std::int64_t;

[[noreturn]] void fail(const char* where, const std::string& message) {
  throw Error(std::string(where) + ": " + message);
}

void check_positive(const char* where, const char* name, int64_t value) {
  if (value < 1) fail(where, std::string(name) + " = " + std::to_string(value) + " must be >= 1");
}

void check_shape(const char* where, const AttentionShape& shape) {
  check_positive(where, "P", shape.P);
  check_positive(where, "M", shape.M);
  check_positive(where, "E", shape.E);
  check_positive(where, "F", shape.F);
}

void check_size(const char* where, const char* tensor, std::span<const double> data,
                int64_t expected, const char* formula) {
  if (static_cast<int64_t>(data.size()) != expected) {
    fail(where, std::string(tensor) + " has " + std::to_string(data.size()) +
                    " elements, expected " + formula + " = " + std::to_string(expected));
  }
}

void check_qkv(const char* where, const AttentionShape& shape, std::span<const double> Q,
               std::span<const double> K, std::span<const double> V) {
  check_shape(where, shape);
  check_size(where, "Q", Q, shape.E * shape.P, "E*P");
  check_size(where, "K", K, shape.E * shape.M, "E*M");
  check_size(where, "V", V, shape.F * shape.M, "F*M");
}

void check_square(const char* where, const AttentionShape& shape) {
  if (shape.P != shape.M) {
    fail(where, "causal form requires P == M (got P = " + std::to_string(shape.P) +
                    ", M = " + std::to_string(shape.M) + ")");
  }
}

void check_eps(const char* where, double eps) {
  if (!std::isfinite(eps)) fail(where, "eps must be finite");
}

void check_lambda(const char* where, double lambda) {
  if (!std::isfinite(lambda)) fail(where, "lambda must be finite");
}

// phi applied elementwise to a whole tensor.
std::vector<double> feature_mapped(FeatureMap phi, std::span<const double> x) {
  std::vector<double> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = apply_feature_map(phi, x[i]);
  return out;
}

// Softmax over scores[0..n) in place (max subtracted), returns the sum of exps; the
// scores become the unnormalized weights exp(s - max).
double exponentiate(double* scores, int64_t n) {
  double max = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) max = std::max(max, scores[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    scores[i] = std::exp(scores[i] - max);
    sum += scores[i];
  }
  return sum;
}

}  // namespace

double default_scale(int64_t E) {
  check_positive("default_scale", "E", E);
  return 1.0 / std::sqrt(static_cast<double>(E));
}

// ---------------------------------------------------------------------------------
// Softmax attention
// ---------------------------------------------------------------------------------

std::vector<double> softmax_attention(const AttentionShape& shape, std::span<const double> Q,
                                      std::span<const double> K, std::span<const double> V,
                                      double scale, bool causal) {
  constexpr const char* kWhere = "softmax_attention";
  check_qkv(kWhere, shape, Q, K, V);
  if (!std::isfinite(scale)) fail(kWhere, "scale must be finite");
  const int64_t P = shape.P, M = shape.M, E = shape.E, F = shape.F;  // (clang 15 cannot capture bindings)

  std::vector<double> out(static_cast<std::size_t>(F * P), 0.0);
  std::vector<double> scores(static_cast<std::size_t>(M));
  for (int64_t p = 0; p < P; ++p) {
    // Keys 0 .. count-1 are visible (bottom-right aligned causal mask: m <= p + M - P).
    const int64_t count = causal ? std::clamp<int64_t>(p + M - P + 1, 0, M) : M;
    if (count == 0) continue;  // fully masked row: 0, as FlashAttention-2
    std::fill(scores.begin(), scores.begin() + count, 0.0);
    for (int64_t e = 0; e < E; ++e) {
      const double q = Q[e * P + p];
      const double* k = &K[e * M];
      for (int64_t m = 0; m < count; ++m) scores[m] += q * k[m];
    }
    for (int64_t m = 0; m < count; ++m) scores[m] *= scale;
    const double sum = exponentiate(scores.data(), count);
    for (int64_t f = 0; f < F; ++f) {
      const double* v = &V[f * M];
      double acc = 0.0;
      for (int64_t m = 0; m < count; ++m) acc += scores[m] * v[m];
      out[f * P + p] = acc / sum;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------
// Linear attention
// ---------------------------------------------------------------------------------

double apply_feature_map(FeatureMap phi, double x) {
  switch (phi) {
    case FeatureMap::elu1:
      return x > 0.0 ? x + 1.0 : std::exp(x);  // elu(x) + 1, elu(x) = exp(x) - 1 for x <= 0
    case FeatureMap::identity:
      return x;
    case FeatureMap::relu:
      return x > 0.0 ? x : 0.0;
  }
  throw Error("apply_feature_map: unknown feature map");
}

const char* feature_map_name(FeatureMap phi) {
  switch (phi) {
    case FeatureMap::elu1:
      return "elu1";
    case FeatureMap::identity:
      return "identity";
    case FeatureMap::relu:
      return "relu";
  }
  return "unknown";
}

std::vector<double> linear_attention(const AttentionShape& shape, std::span<const double> Q,
                                     std::span<const double> K, std::span<const double> V,
                                     FeatureMap phi, double eps, bool causal) {
  constexpr const char* kWhere = "linear_attention";
  check_qkv(kWhere, shape, Q, K, V);
  check_eps(kWhere, eps);
  if (causal) check_square(kWhere, shape);
  const int64_t P = shape.P, M = shape.M, E = shape.E, F = shape.F;  // (clang 15 cannot capture bindings)
  const std::vector<double> phi_q = feature_mapped(phi, Q);
  const std::vector<double> phi_k = feature_mapped(phi, K);

  std::vector<double> out(static_cast<std::size_t>(F * P), 0.0);
  std::vector<double> kv(static_cast<std::size_t>(E * F), 0.0);  // [E][F]
  std::vector<double> z(static_cast<std::size_t>(E), 0.0);
  std::vector<double> numerator(static_cast<std::size_t>(F));

  // out[., p] from the current state (kv, z).
  auto emit = [&](int64_t p) {
    std::fill(numerator.begin(), numerator.end(), 0.0);
    double denominator = 0.0;
    for (int64_t e = 0; e < E; ++e) {
      const double q = phi_q[e * P + p];
      const double* kv_row = &kv[e * F];
      for (int64_t f = 0; f < F; ++f) numerator[f] += q * kv_row[f];
      denominator += q * z[e];
    }
    for (int64_t f = 0; f < F; ++f) out[f * P + p] = numerator[f] / (denominator + eps);
  };

  if (!causal) {
    for (int64_t e = 0; e < E; ++e) {
      const double* k = &phi_k[e * M];
      double z_e = 0.0;
      for (int64_t m = 0; m < M; ++m) z_e += k[m];
      z[e] = z_e;
      for (int64_t f = 0; f < F; ++f) {
        const double* v = &V[f * M];
        double acc = 0.0;
        for (int64_t m = 0; m < M; ++m) acc += k[m] * v[m];
        kv[e * F + f] = acc;
      }
    }
    for (int64_t p = 0; p < P; ++p) emit(p);
    return out;
  }

  // Causal, recurrent prefix form: S += phi(k_p) v_pᵀ, z += phi(k_p), then query p.
  for (int64_t p = 0; p < P; ++p) {
    for (int64_t e = 0; e < E; ++e) {
      const double k = phi_k[e * M + p];
      z[e] += k;
      for (int64_t f = 0; f < F; ++f) kv[e * F + f] += k * V[f * M + p];
    }
    emit(p);
  }
  return out;
}

std::vector<double> linear_attention_causal_chunked(const AttentionShape& shape,
                                                    std::span<const double> Q,
                                                    std::span<const double> K,
                                                    std::span<const double> V, FeatureMap phi,
                                                    double eps, int64_t chunk) {
  constexpr const char* kWhere = "linear_attention_causal_chunked";
  check_qkv(kWhere, shape, Q, K, V);
  check_eps(kWhere, eps);
  check_square(kWhere, shape);
  check_positive(kWhere, "chunk size C", chunk);
  const int64_t P = shape.P, M = shape.M, E = shape.E, F = shape.F;  // (clang 15 cannot capture bindings)
  const std::vector<double> phi_q = feature_mapped(phi, Q);
  const std::vector<double> phi_k = feature_mapped(phi, K);

  std::vector<double> out(static_cast<std::size_t>(F * P), 0.0);
  std::vector<double> state(static_cast<std::size_t>(E * F), 0.0);  // Σ over earlier chunks
  std::vector<double> z(static_cast<std::size_t>(E), 0.0);
  std::vector<double> numerator(static_cast<std::size_t>(F));

  for (int64_t begin = 0; begin < P; begin += chunk) {
    const int64_t end = std::min(begin + chunk, P);
    for (int64_t p = begin; p < end; ++p) {
      std::fill(numerator.begin(), numerator.end(), 0.0);
      double denominator = 0.0;
      // Inter-chunk: phi(q_p) against the state of chunks before this one.
      for (int64_t e = 0; e < E; ++e) {
        const double q = phi_q[e * P + p];
        for (int64_t f = 0; f < F; ++f) numerator[f] += q * state[e * F + f];
        denominator += q * z[e];
      }
      // Intra-chunk: masked quadratic over begin <= m <= p.
      for (int64_t m = begin; m <= p; ++m) {
        double a = 0.0;
        for (int64_t e = 0; e < E; ++e) a += phi_q[e * P + p] * phi_k[e * M + m];
        for (int64_t f = 0; f < F; ++f) numerator[f] += a * V[f * M + m];
        denominator += a;
      }
      for (int64_t f = 0; f < F; ++f) out[f * P + p] = numerator[f] / (denominator + eps);
    }
    // State update with the whole chunk.
    for (int64_t e = 0; e < E; ++e) {
      for (int64_t m = begin; m < end; ++m) {
        const double k = phi_k[e * M + m];
        z[e] += k;
        for (int64_t f = 0; f < F; ++f) state[e * F + f] += k * V[f * M + m];
      }
    }
  }
  return out;
}

std::vector<double> linear_attention_causal_quadratic(const AttentionShape& shape,
                                                      std::span<const double> Q,
                                                      std::span<const double> K,
                                                      std::span<const double> V, FeatureMap phi,
                                                      double eps) {
  constexpr const char* kWhere = "linear_attention_causal_quadratic";
  check_qkv(kWhere, shape, Q, K, V);
  check_eps(kWhere, eps);
  check_square(kWhere, shape);
  const int64_t P = shape.P, M = shape.M, E = shape.E, F = shape.F;  // (clang 15 cannot capture bindings)

  std::vector<double> out(static_cast<std::size_t>(F * P), 0.0);
  std::vector<double> a(static_cast<std::size_t>(M));
  for (int64_t p = 0; p < P; ++p) {
    double denominator = 0.0;
    for (int64_t m = 0; m <= p; ++m) {
      double dot = 0.0;
      for (int64_t e = 0; e < E; ++e) {
        dot += apply_feature_map(phi, Q[e * P + p]) * apply_feature_map(phi, K[e * M + m]);
      }
      a[m] = dot;
      denominator += dot;
    }
    for (int64_t f = 0; f < F; ++f) {
      double acc = 0.0;
      for (int64_t m = 0; m <= p; ++m) acc += a[m] * V[f * M + m];
      out[f * P + p] = acc / (denominator + eps);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------
// Lightning attention
// ---------------------------------------------------------------------------------

std::vector<double> lightning_attention_naive(const AttentionShape& shape,
                                              std::span<const double> Q,
                                              std::span<const double> K,
                                              std::span<const double> V, double lambda) {
  constexpr const char* kWhere = "lightning_attention_naive";
  check_qkv(kWhere, shape, Q, K, V);
  check_square(kWhere, shape);
  check_lambda(kWhere, lambda);
  const int64_t P = shape.P, M = shape.M, E = shape.E, F = shape.F;  // (clang 15 cannot capture bindings)

  std::vector<double> out(static_cast<std::size_t>(F * P), 0.0);
  std::vector<double> a(static_cast<std::size_t>(M));
  for (int64_t i = 0; i < P; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      double dot = 0.0;
      for (int64_t e = 0; e < E; ++e) dot += Q[e * P + i] * K[e * M + j];
      a[j] = dot * std::pow(lambda, static_cast<double>(i - j));
    }
    for (int64_t f = 0; f < F; ++f) {
      double acc = 0.0;
      for (int64_t j = 0; j <= i; ++j) acc += a[j] * V[f * M + j];
      out[f * P + i] = acc;
    }
  }
  return out;
}

std::vector<double> lightning_attention_blocked(const AttentionShape& shape,
                                                std::span<const double> Q,
                                                std::span<const double> K,
                                                std::span<const double> V, double lambda,
                                                int64_t block, std::vector<double>* final_kv) {
  constexpr const char* kWhere = "lightning_attention_blocked";
  check_qkv(kWhere, shape, Q, K, V);
  check_square(kWhere, shape);
  check_lambda(kWhere, lambda);
  check_positive(kWhere, "block size B", block);
  const int64_t P = shape.P, M = shape.M, E = shape.E, F = shape.F;  // (clang 15 cannot capture bindings)

  // power[n] = λ^n for n in [0, B].
  std::vector<double> power(static_cast<std::size_t>(block + 1));
  for (int64_t n = 0; n <= block; ++n) power[n] = std::pow(lambda, static_cast<double>(n));

  std::vector<double> out(static_cast<std::size_t>(F * P), 0.0);
  std::vector<double> kv(static_cast<std::size_t>(E * F), 0.0);  // KV_t [E][F]
  std::vector<double> a(static_cast<std::size_t>(block));
  for (int64_t start = 0; start < P; start += block) {
    const int64_t b = std::min(block, P - start);  // this block's length
    for (int64_t i = 0; i < b; ++i) {
      const int64_t p = start + i;
      // O_intra row i: Σ_{j<=i} λ^(i-j) (q_i·k_j) v_j.
      for (int64_t j = 0; j <= i; ++j) {
        double dot = 0.0;
        for (int64_t e = 0; e < E; ++e) dot += Q[e * P + p] * K[e * M + start + j];
        a[j] = dot * power[i - j];
      }
      for (int64_t f = 0; f < F; ++f) {
        double intra = 0.0;
        for (int64_t j = 0; j <= i; ++j) intra += a[j] * V[f * M + start + j];
        // O_inter row i: (q_i KV_t) λ^(i+1).
        double inter = 0.0;
        for (int64_t e = 0; e < E; ++e) inter += Q[e * P + p] * kv[e * F + f];
        out[f * P + p] = intra + inter * power[i + 1];
      }
    }
    // KV_{t+1} = λ^b KV_t + Σ_j λ^(b-1-j) k_j v_jᵀ.
    for (int64_t e = 0; e < E; ++e) {
      for (int64_t f = 0; f < F; ++f) {
        double acc = 0.0;
        for (int64_t j = 0; j < b; ++j) {
          acc += K[e * M + start + j] * power[b - 1 - j] * V[f * M + start + j];
        }
        kv[e * F + f] = power[b] * kv[e * F + f] + acc;
      }
    }
  }
  if (final_kv != nullptr) *final_kv = std::move(kv);
  return out;
}

std::vector<double> lightning_attention_recurrent(const AttentionShape& shape,
                                                  std::span<const double> Q,
                                                  std::span<const double> K,
                                                  std::span<const double> V, double lambda,
                                                  std::vector<double>* final_kv) {
  constexpr const char* kWhere = "lightning_attention_recurrent";
  check_qkv(kWhere, shape, Q, K, V);
  check_square(kWhere, shape);
  check_lambda(kWhere, lambda);
  const int64_t P = shape.P, M = shape.M, E = shape.E, F = shape.F;  // (clang 15 cannot capture bindings)

  std::vector<double> out(static_cast<std::size_t>(F * P), 0.0);
  std::vector<double> kv(static_cast<std::size_t>(E * F), 0.0);
  for (int64_t i = 0; i < P; ++i) {
    for (int64_t e = 0; e < E; ++e) {
      const double k = K[e * M + i];
      for (int64_t f = 0; f < F; ++f) kv[e * F + f] = lambda * kv[e * F + f] + k * V[f * M + i];
    }
    for (int64_t f = 0; f < F; ++f) {
      double acc = 0.0;
      for (int64_t e = 0; e < E; ++e) acc += Q[e * P + i] * kv[e * F + f];
      out[f * P + i] = acc;
    }
  }
  if (final_kv != nullptr) *final_kv = std::move(kv);
  return out;
}

std::vector<double> alibi_slopes(int64_t H) {
  check_positive("alibi_slopes", "head count H", H);
  auto power_of_two_slopes = [](int64_t n) {
    std::vector<double> slopes(static_cast<std::size_t>(n));
    for (int64_t h = 0; h < n; ++h) {
      slopes[h] = std::exp2(-8.0 * static_cast<double>(h + 1) / static_cast<double>(n));
    }
    return slopes;
  };
  int64_t c = 1;  // largest power of two <= H
  while (c * 2 <= H) c *= 2;
  if (c == H) return power_of_two_slopes(H);
  std::vector<double> slopes = power_of_two_slopes(c);
  const std::vector<double> finer = power_of_two_slopes(2 * c);
  for (int64_t n = 0; n < H - c; ++n) slopes.push_back(finer[2 * n]);
  return slopes;
}

std::vector<double> lightning_decay_rates(int64_t H) {
  std::vector<double> rates = alibi_slopes(H);
  for (double& r : rates) r = std::exp(-r);
  return rates;
}

std::vector<double> transnormer_decay_rates(int64_t H, int64_t layer, int64_t layers) {
  constexpr const char* kWhere = "transnormer_decay_rates";
  if (layers < 2) {
    fail(kWhere, "layer count L = " + std::to_string(layers) +
                     " must be >= 2 (the formula divides by L - 1)");
  }
  if (layer < 0 || layer >= layers) {
    fail(kWhere, "layer l = " + std::to_string(layer) + " must be in [0, L = " +
                     std::to_string(layers) + ")");
  }
  const double factor =
      1.0 - static_cast<double>(layer) / static_cast<double>(layers - 1) + 1e-5;
  std::vector<double> rates = alibi_slopes(H);
  for (double& r : rates) r = std::exp(-r * factor);
  return rates;
}

// ---------------------------------------------------------------------------------
// Neighborhood attention
// ---------------------------------------------------------------------------------

void validate_neighborhood_axis(const NeighborhoodAxis& axis, bool require_odd_kernel,
                                const char* what) {
  const int64_t L = axis.length, k = axis.kernel, d = axis.dilation, s = axis.stride;
  if (L < 1) fail(what, "axis length L = " + std::to_string(L) + " must be >= 1");
  if (k < 2) fail(what, "kernel size k = " + std::to_string(k) + " must be >= 2");
  if (require_odd_kernel && k % 2 == 0) {
    fail(what, "kernel size k = " + std::to_string(k) + " must be odd");
  }
  if (d < 1) fail(what, "dilation d = " + std::to_string(d) + " must be >= 1");
  if (s < 1) fail(what, "stride s = " + std::to_string(s) + " must be >= 1");
  if (s > k) {
    fail(what, "stride s = " + std::to_string(s) + " must be <= kernel size k = " +
                   std::to_string(k));
  }
  if (k * d > L) {
    fail(what, "kernel size k * dilation d = " + std::to_string(k) + " * " + std::to_string(d) +
                   " exceeds axis length L = " + std::to_string(L));
  }
}

std::vector<int64_t> NeighborhoodWindow::positions() const {
  std::vector<int64_t> out;
  for (int64_t x = first; x <= last; x += step) out.push_back(x);
  return out;
}

NeighborhoodWindow neighborhood_window(int64_t i, const NeighborhoodAxis& axis) {
  validate_neighborhood_axis(axis, false, "neighborhood_window");
  const int64_t L = axis.length, k = axis.kernel, d = axis.dilation, s = axis.stride;
  if (i < 0 || i >= L) {
    fail("neighborhood_window", "query index i = " + std::to_string(i) +
                                    " outside the axis [0, L = " + std::to_string(L) + ")");
  }
  const int64_t group = i % d;
  const int64_t index = i / d;                          // index within the group
  const int64_t group_length = (L - group + d - 1) / d;  // ceil((L - g) / d) >= k
  int64_t first = 0, last = 0;                          // group indices
  if (!axis.causal) {
    const int64_t wl = k / 2;
    const int64_t wr = k / 2 + (k % 2) - 1;
    const int64_t leader = std::min((index / s) * s + s / 2, group_length - 1);
    const int64_t center = std::clamp(leader, wl, group_length - 1 - wr);
    first = center - wl;
    last = center + wr;
  } else {
    const int64_t leader = std::min((index / s) * s + s - 1, group_length - 1);
    first = std::max<int64_t>(leader - k + 1, 0);
    last = index;
  }
  return NeighborhoodWindow{group + first * d, group + last * d, d};
}

NeighborhoodWindow neighborhood_window(int64_t i, int64_t L, int64_t k, int64_t d, bool causal,
                                       int64_t s) {
  return neighborhood_window(i, NeighborhoodAxis{L, k, d, s, causal});
}

std::vector<double> neighborhood_attention_1d(const NeighborhoodAxis& axis, int64_t E, int64_t F,
                                              std::span<const double> Q,
                                              std::span<const double> K,
                                              std::span<const double> V, double scale) {
  constexpr const char* kWhere = "neighborhood_attention_1d";
  validate_neighborhood_axis(axis, false, kWhere);
  check_positive(kWhere, "E", E);
  check_positive(kWhere, "F", F);
  if (!std::isfinite(scale)) fail(kWhere, "scale must be finite");
  const int64_t L = axis.length;
  check_size(kWhere, "Q", Q, E * L, "E*L");
  check_size(kWhere, "K", K, E * L, "E*L");
  check_size(kWhere, "V", V, F * L, "F*L");

  std::vector<double> out(static_cast<std::size_t>(F * L), 0.0);
  std::vector<double> scores(static_cast<std::size_t>(L));
  for (int64_t i = 0; i < L; ++i) {
    const NeighborhoodWindow window = neighborhood_window(i, axis);
    const int64_t n = window.count();
    for (int64_t w = 0; w < n; ++w) {
      const int64_t m = window.first + w * window.step;
      double dot = 0.0;
      for (int64_t e = 0; e < E; ++e) dot += Q[e * L + i] * K[e * L + m];
      scores[w] = dot * scale;
    }
    const double sum = exponentiate(scores.data(), n);
    for (int64_t f = 0; f < F; ++f) {
      double acc = 0.0;
      for (int64_t w = 0; w < n; ++w) acc += scores[w] * V[f * L + window.first + w * window.step];
      out[f * L + i] = acc / sum;
    }
  }
  return out;
}

std::vector<double> neighborhood_attention_2d(const NeighborhoodAxis& y_axis,
                                              const NeighborhoodAxis& x_axis, int64_t E,
                                              int64_t F, std::span<const double> Q,
                                              std::span<const double> K,
                                              std::span<const double> V, double scale) {
  constexpr const char* kWhere = "neighborhood_attention_2d";
  validate_neighborhood_axis(y_axis, false, "neighborhood_attention_2d (axis Y)");
  validate_neighborhood_axis(x_axis, false, "neighborhood_attention_2d (axis X)");
  check_positive(kWhere, "E", E);
  check_positive(kWhere, "F", F);
  if (!std::isfinite(scale)) fail(kWhere, "scale must be finite");
  const int64_t Y = y_axis.length, X = x_axis.length, N = Y * X;
  check_size(kWhere, "Q", Q, E * N, "E*Y*X");
  check_size(kWhere, "K", K, E * N, "E*Y*X");
  check_size(kWhere, "V", V, F * N, "F*Y*X");

  std::vector<NeighborhoodWindow> y_windows, x_windows;
  for (int64_t y = 0; y < Y; ++y) y_windows.push_back(neighborhood_window(y, y_axis));
  for (int64_t x = 0; x < X; ++x) x_windows.push_back(neighborhood_window(x, x_axis));

  std::vector<double> out(static_cast<std::size_t>(F * N), 0.0);
  std::vector<double> scores(static_cast<std::size_t>(N));
  std::vector<int64_t> keys(static_cast<std::size_t>(N));  // flattened key tokens
  for (int64_t y = 0; y < Y; ++y) {
    for (int64_t x = 0; x < X; ++x) {
      const int64_t query = y * X + x;
      const NeighborhoodWindow& wy = y_windows[y];
      const NeighborhoodWindow& wx = x_windows[x];
      int64_t n = 0;
      for (int64_t ky = wy.first; ky <= wy.last; ky += wy.step) {
        for (int64_t kx = wx.first; kx <= wx.last; kx += wx.step) keys[n++] = ky * X + kx;
      }
      for (int64_t w = 0; w < n; ++w) {
        double dot = 0.0;
        for (int64_t e = 0; e < E; ++e) dot += Q[e * N + query] * K[e * N + keys[w]];
        scores[w] = dot * scale;
      }
      const double sum = exponentiate(scores.data(), n);
      for (int64_t f = 0; f < F; ++f) {
        double acc = 0.0;
        for (int64_t w = 0; w < n; ++w) acc += scores[w] * V[f * N + keys[w]];
        out[f * N + query] = acc / sum;
      }
    }
  }
  return out;
}

}  // namespace cascade::reference
