// Independent fp64 reference implementations of every attention variant of
// VARIANTS.md (the project's shared design notes), written as plain C++ loops in double (never through the
// cascade IR). They are the ground truth the functional executor is tested against and
// what `cascade check` compares with. Everything works on ONE (batch, head) at a time.
//
// Layout (row-major in the order of the cascades' declared ranks):
//   Q   [E][P]   q(e, p) = Q[e * P + p]
//   K   [E][M]   k(e, m) = K[e * M + m]
//   V   [F][M]   v(f, m) = V[f * M + m]
//   out [F][P]   o(f, p) = out[f * P + p]
// Neighborhood attention 1D: P = M = L, i.e. Q [E][L], K [E][L], V [F][L], out [F][L].
// Neighborhood attention 2D: Q [E][Y][X], K [E][Y][X], V [F][Y][X], out [F][Y][X];
//   token (y, x) is flattened row-major as y * X + x.
//
// Every function checks its arguments (shape entries >= 1, span sizes matching the
// shape, parameter ranges) and throws cascade::Error with a message naming the bad
// parameter.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "arch/support/error.h"

namespace cascade::reference {

// Sizes of one (batch, head) attention problem.
struct AttentionShape {
  int64_t P = 0;  // queries
  int64_t M = 0;  // keys / values
  int64_t E = 0;  // query/key head dimension
  int64_t F = 0;  // value head dimension
};

// 1 / sqrt(E): the default softmax and neighborhood-attention scale.
double default_scale(int64_t E);

// ---------------------------------------------------------------------------------
// Softmax attention
// ---------------------------------------------------------------------------------

// out[f,p] = Σ_m softmax_m(scale · Σ_e q(e,p) k(e,m)) · v(f,m), numerically stable
// (the row max is subtracted before std::exp). scale is applied as given (pass
// default_scale(E) for 1/sqrt(E), 1.0 for FuseMax's cascade).
// causal: bottom-right aligned as in FlashAttention: key m is masked for query p when
// m > p + M − P. A query whose keys are all masked (only possible when P > M) outputs
// 0, as FlashAttention-2 does.
std::vector<double> softmax_attention(const AttentionShape& shape, std::span<const double> Q,
                                      std::span<const double> K, std::span<const double> V,
                                      double scale, bool causal);

// ---------------------------------------------------------------------------------
// Linear attention (Katharopoulos et al. 2020)
// ---------------------------------------------------------------------------------

enum class FeatureMap {
  elu1,      // phi(x) = elu(x) + 1 = x + 1 for x > 0, exp(x) otherwise (the default)
  identity,  // phi(x) = x
  relu,      // phi(x) = max(x, 0)
};
double apply_feature_map(FeatureMap phi, double x);
const char* feature_map_name(FeatureMap phi);  // "elu1", "identity", "relu"

constexpr double kLinearAttentionEps = 1e-6;

// Non-causal: KV[e,f] = Σ_m phi(k(e,m)) v(f,m); Z[e] = Σ_m phi(k(e,m));
//   out[f,p] = Σ_e phi(q(e,p)) KV[e,f] / (Σ_e phi(q(e,p)) Z[e] + eps).
// Causal (requires P == M): the same with inclusive prefixes over m <= p, computed in
//   the recurrent (prefix) form S += phi(k_p) v_pᵀ, z += phi(k_p), one step per p.
// No 1/sqrt(E) scale.
std::vector<double> linear_attention(const AttentionShape& shape, std::span<const double> Q,
                                     std::span<const double> K, std::span<const double> V,
                                     FeatureMap phi, double eps, bool causal);

// Causal linear attention (P == M) in chunked form: positions split into chunks of
// `chunk` (the last may be shorter); within a chunk a masked quadratic sum over
// m <= p, plus the running state (S, z) of all earlier chunks, updated after each chunk.
std::vector<double> linear_attention_causal_chunked(const AttentionShape& shape,
                                                    std::span<const double> Q,
                                                    std::span<const double> K,
                                                    std::span<const double> V, FeatureMap phi,
                                                    double eps, int64_t chunk);

// Causal linear attention (P == M) in quadratic masked form:
//   A[m,p] = phi(q_p)·phi(k_m) for m <= p, out[f,p] = Σ_m A v(f,m) / (Σ_m A + eps).
std::vector<double> linear_attention_causal_quadratic(const AttentionShape& shape,
                                                      std::span<const double> Q,
                                                      std::span<const double> K,
                                                      std::span<const double> V, FeatureMap phi,
                                                      double eps);

// ---------------------------------------------------------------------------------
// Lightning attention (Lightning Attention-2 / TransNormerLLM). P == M required.
// No scale, no softmax, no denominator. lambda must be finite.
// ---------------------------------------------------------------------------------

// Naive: out[f,i] = Σ_{j<=i} λ^(i−j) (q_i·k_j) v(f,j)   (λ^(i−j) via std::pow).
std::vector<double> lightning_attention_naive(const AttentionShape& shape,
                                              std::span<const double> Q,
                                              std::span<const double> K,
                                              std::span<const double> V, double lambda);

// Blocked (block size B >= 1), as VARIANTS.md: per block t of length b (b = B except
// possibly the last), offsets i, j in [0, b):
//   O_intra = (Q_t K_tᵀ ⊙ D_b) V_t,  D_b[i,j] = λ^(i−j) for j <= i
//   O_inter = (Q_t KV_t) ⊙ λ^(i+1) per row i
//   KV_{t+1} = λ^b KV_t + (K_t ⊙ λ^(b−1−j))ᵀ V_t         (KV_0 = 0, E×F, fp64 here)
// final_kv (optional): the state after the last block, [E][F] row-major,
//   Σ_m λ^(P−1−m) k_m v_mᵀ (what a decode step would continue from).
std::vector<double> lightning_attention_blocked(const AttentionShape& shape,
                                                std::span<const double> Q,
                                                std::span<const double> K,
                                                std::span<const double> V, double lambda,
                                                int64_t block,
                                                std::vector<double>* final_kv = nullptr);

// Recurrent (decode) form: kv = λ·kv + k_i v_iᵀ; o_i = q_i·kv, one step per position.
// final_kv (optional): kv after the last step, [E][F].
std::vector<double> lightning_attention_recurrent(const AttentionShape& shape,
                                                  std::span<const double> Q,
                                                  std::span<const double> K,
                                                  std::span<const double> V, double lambda,
                                                  std::vector<double>* final_kv = nullptr);

// ALiBi slopes s_h for H heads (H >= 1): power-of-two H: s_h = 2^(−8(h+1)/H);
// otherwise, with c the largest power of two below H: slopes(c) followed by every other
// slope of slopes(2c) (indices 0, 2, 4, ...), the first H − c of them.
std::vector<double> alibi_slopes(int64_t H);

// λ_h = exp(−s_h) with s_h = alibi_slopes(H)[h].
std::vector<double> lightning_decay_rates(int64_t H);

// TransNormerLLM per-layer decay: λ_h = exp(−s_h · (1 − l/(L−1) + 1e-5)) for layer l
// of L (0 <= l < L, L >= 2 since the published formula divides by L − 1).
std::vector<double> transnormer_decay_rates(int64_t H, int64_t layer, int64_t layers);

// ---------------------------------------------------------------------------------
// Neighborhood attention (NATTEN)
// ---------------------------------------------------------------------------------

// One axis of a neighborhood: length L, kernel size k, dilation d, stride s, causal.
struct NeighborhoodAxis {
  int64_t length = 0;    // L
  int64_t kernel = 0;    // k (2 <= k, k·d <= L)
  int64_t dilation = 1;  // d >= 1
  int64_t stride = 1;    // s >= 1
  bool causal = false;
};

// Throws cascade::Error naming the parameter when k < 2, k even while require_odd_kernel,
// d < 1, s < 1, k·d > L or L < 1. `what` prefixes the message (e.g. "axis Y").
void validate_neighborhood_axis(const NeighborhoodAxis& axis, bool require_odd_kernel = false,
                                const char* what = "neighborhood attention");

// Key positions of query i (in the ORIGINAL axis): first, first + step, ..., last
// with step = d. All of them lie in i's dilation group (same position mod d).
struct NeighborhoodWindow {
  int64_t first = 0;
  int64_t last = 0;
  int64_t step = 1;
  int64_t count() const { return (last - first) / step + 1; }
  bool contains(int64_t position) const {
    return position >= first && position <= last && (position - first) % step == 0;
  }
  std::vector<int64_t> positions() const;
};

// The window rule of VARIANTS.md for query i of one axis (validates the axis):
//   group g = i mod d, group index ig = i div d, group length L_g = ceil((L − g)/d);
//   wl = k div 2, wr = k div 2 + (k mod 2) − 1;
//   non-causal: leader = min((ig div s)·s + s div 2, L_g − 1),
//               c = clamp(leader, wl, L_g − 1 − wr), group keys [c − wl, c + wr] (k keys);
//   causal:     leader = min((ig div s)·s + s − 1, L_g − 1),
//               group keys [max(leader − k + 1, 0), ig];
//   group index j maps back to position g + j·d.
NeighborhoodWindow neighborhood_window(int64_t i, const NeighborhoodAxis& axis);
NeighborhoodWindow neighborhood_window(int64_t i, int64_t L, int64_t k, int64_t d = 1,
                                       bool causal = false, int64_t s = 1);

// 1D: Q [E][L], K [E][L], V [F][L] -> out [F][L], L = axis.length.
// out[f,i] = Σ_{m in window(i)} softmax(scale · q_i·k_m) v(f,m).
std::vector<double> neighborhood_attention_1d(const NeighborhoodAxis& axis, int64_t E, int64_t F,
                                              std::span<const double> Q,
                                              std::span<const double> K,
                                              std::span<const double> V, double scale);

// 2D: Q [E][Y][X], K [E][Y][X], V [F][Y][X] -> out [F][Y][X], Y = y_axis.length,
// X = x_axis.length. Key (ky, kx) is a neighbor of query (y, x) when ky is in
// window(y, y_axis) and kx in window(x, x_axis); causality is per axis.
std::vector<double> neighborhood_attention_2d(const NeighborhoodAxis& y_axis,
                                              const NeighborhoodAxis& x_axis, int64_t E,
                                              int64_t F, std::span<const double> Q,
                                              std::span<const double> K,
                                              std::span<const double> V, double scale);

}  // namespace cascade::reference
