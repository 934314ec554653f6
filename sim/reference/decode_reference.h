// Independent fp64 reference for decode attention with grouped-query heads: one query per
// query head against a KV cache, a plain softmax over all keys (no splits, no tiles, never
// through the cascade IR), so it is independent of the split form of
// configs/cascades/decode-gqa-split.yaml. One batch element at a time.
//
// Layout (row-major in the order of the decode cascade's declared ranks):
//   Q   [E][H]        q(e, h)    = Q[e * H + h]
//   K   [E][M][HK]    k(e, m, j) = K[(e * M + m) * HK + j]
//   V   [F][M][HK]    v(f, m, j) = V[(f * M + m) * HK + j]
//   out [F][H]        o(f, h)    = out[f * H + h]
// HK = H / G KV heads; query head h reads KV head j = h / G (PyTorch's enable_gqa and
// repeat_interleave(G) map heads the same way).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "arch/support/error.h"

namespace cascade::reference {

struct DecodeShape {
  int64_t M = 0;  // keys in the cache
  int64_t E = 0;  // query/key head dimension
  int64_t F = 0;  // value head dimension
  int64_t H = 0;  // query heads
  int64_t G = 1;  // query heads per KV head (H % G == 0)
  int64_t kv_heads() const { return G > 0 ? H / G : 0; }
};

// out[f,h] = Σ_m softmax_m(scale · Σ_e q(e,h) k(e,m,h/G)) · v(f,m,h/G), the row max
// subtracted before std::exp. Throws cascade::Error naming the bad argument (a shape entry
// < 1, H not a multiple of G, a span of the wrong size, a non-finite scale).
std::vector<double> decode_attention(const DecodeShape& shape, std::span<const double> Q,
                                     std::span<const double> K, std::span<const double> V,
                                     double scale);

}  // namespace cascade::reference
