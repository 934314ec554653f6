// Independent golden models of the fp32 kernels (hdl/fp32_*.sv, pe_2d, tile_2d,
// softmax_1d), written from the functional executor's documented rounding order
// (sim/functional/executor.h): every arithmetic result rounded to fp32 on its own (plain C
// float arithmetic, IEEE round to nearest even; the build uses -ffp-contract=off, so no
// fused multiply-add), max exact, storage rounding through the executor's own round_as,
// exp through the executor's own hardware_exp_as<FP32>. Nothing here mirrors the RTL.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "sim/functional/number_format.h"
#include "tests/hdl/fma_golden.h"

namespace cascade::rtl_test {

inline float f32(uint32_t u) { return bits_to_float(u); }
// The fp32 pattern of x (x exactly representable in fp32, or rounded to it).
inline uint32_t bits_of(double x) { return float_to_bits(static_cast<float>(x)); }
inline bool is_nan_bits(uint32_t u) { return (u & 0x7F800000u) == 0x7F800000u && (u & 0x7FFFFFu) != 0; }

// ---- storage formats ------------------------------------------------------------------
// Value of a bf16 / fp16 pattern (decoded from its fields, not by widening bits).
inline double storage_value(uint16_t h, bool fp16) {
  const double sign = (h & 0x8000u) ? -1.0 : 1.0;
  if (!fp16) {
    const int e = (h >> 7) & 0xFF, f = h & 0x7F;
    if (e == 0xFF) return f ? std::numeric_limits<double>::quiet_NaN() : sign * INFINITY;
    if (e == 0) return sign * std::ldexp(f, -133);
    return sign * std::ldexp(128 + f, e - 134);
  }
  const int e = (h >> 10) & 0x1F, f = h & 0x3FF;
  if (e == 0x1F) return f ? std::numeric_limits<double>::quiet_NaN() : sign * INFINITY;
  if (e == 0) return sign * std::ldexp(f, -24);
  return sign * std::ldexp(1024 + f, e - 25);
}
inline uint32_t widen_golden(uint16_t h, bool fp16) { return bits_of(storage_value(h, fp16)); }
// fp32 -> storage -> fp32: the executor's round_as<BF16 / FP16>.
inline uint32_t narrow_golden(uint32_t x, bool fp16) {
  const double v = f32(x);
  return bits_of(fp16 ? round_as<NumberFormat::FP16>(v) : round_as<NumberFormat::BF16>(v));
}

// ---- fp32 operations --------------------------------------------------------------------
inline uint32_t mul_golden(uint32_t a, uint32_t b) { return float_to_bits(f32(a) * f32(b)); }
inline uint32_t add_golden(uint32_t a, uint32_t b) { return float_to_bits(f32(a) + f32(b)); }
inline uint32_t sub_golden(uint32_t a, uint32_t b) { return float_to_bits(f32(a) - f32(b)); }
// round(round(a * b) + c): the executor's MAC (a rounded product, then a rounded sum).
inline uint32_t mac_golden(uint32_t a, uint32_t b, uint32_t c) {
  const float product = f32(a) * f32(b);
  return float_to_bits(product + f32(c));
}
// round(a * b * 2^scale): the exact double product, scaled exactly, rounded once
// (|scale| small enough that the double stays normal).
inline uint32_t mul_scaled_golden(uint32_t a, uint32_t b, int scale) {
  const double exact = static_cast<double>(f32(a)) * static_cast<double>(f32(b));
  return bits_of(std::ldexp(exact, scale));
}
// The executor's max (executor.cpp, maximum): NaN if either is NaN, else a > b ? a : b.
inline uint32_t max_golden(uint32_t a, uint32_t b) {
  const float x = f32(a), y = f32(b);
  if (std::isnan(x) || std::isnan(y)) return 0x7FC00000u;
  return x > y ? a : b;
}
inline uint32_t exp_golden(uint32_t x) { return bits_of(hardware_exp_as<NumberFormat::FP32>(f32(x))); }

// ---- vectors ---------------------------------------------------------------------------
inline const std::vector<uint32_t>& special_fp32() {
  static const std::vector<uint32_t> v = {
      0x00000000u, 0x80000000u, 0x3F800000u, 0xBF800000u, 0x7F800000u, 0xFF800000u,
      0x7FC00000u, 0xFFC00001u, 0x7F800001u,              // NaNs (quiet, negative, signalling)
      0x7F7FFFFFu, 0xFF7FFFFFu, 0x00800000u, 0x80800000u,  // max, min normal
      0x00000001u, 0x80000001u, 0x007FFFFFu, 0x807FFFFFu,  // subnormals
      0x00400000u, 0x3F800001u, 0x3FFFFFFFu, 0x40000000u, 0x33800000u, 0x34000000u,
      0x3F000000u, 0x7F000000u, 0x0C800000u, 0x42B17218u, 0xC2CE8ED0u};
  return v;
}

// fp32 patterns: raw bits, moderate exponents, subnormals, the top and bottom of the
// range, specials, and short significands (whose products and sums tie often).
inline uint32_t random_fp32(Rng& rng) {
  const uint64_t x = rng.next();
  const uint32_t sign = static_cast<uint32_t>(x >> 63) << 31;
  const uint32_t frac = static_cast<uint32_t>(x) & 0x7FFFFFu;
  const uint32_t kind = static_cast<uint32_t>(x >> 32) % 16;
  const uint32_t e = static_cast<uint32_t>(x >> 40);
  switch (kind) {
    case 0: case 1: case 2: return static_cast<uint32_t>(x >> 8);
    case 3: return sign | frac;                                          // subnormal
    case 4: { const auto& s = special_fp32(); return s[e % s.size()] ^ (sign & (e << 8)); }
    case 5: return sign | ((1 + e % 40) << 23) | frac;                   // bottom of the range
    case 6: return sign | ((215 + e % 40) << 23) | frac;                 // top of the range
    case 7: case 8: return sign | ((100 + e % 56) << 23) | (frac & 0x7FF000u);  // short
    case 9: return sign | ((120 + e % 16) << 23) | (frac & 0x700001u);
    default: return sign | ((100 + e % 56) << 23) | frac;                // moderate
  }
}

// Nudges b to within a few ulps of a, or a fixed exponent distance below it (near-total
// cancellation, ties at the rounding position).
inline uint32_t partner_fp32(Rng& rng, uint32_t a) {
  const uint64_t x = rng.next();
  switch (x % 6) {
    case 0: return (a ^ 0x80000000u) + static_cast<uint32_t>((x >> 8) % 5) - 2;  // -a +- 2 ulp
    case 1: return a ^ 0x80000000u;                                               // -a
    case 2: {                                                // a power of two 22..27 below a
      const int ea = static_cast<int>((a >> 23) & 0xFF) - static_cast<int>(22 + (x >> 8) % 6);
      return (static_cast<uint32_t>(x >> 32) & 0x80000000u) | (static_cast<uint32_t>(std::max(ea, 0)) << 23);
    }
    case 3: {                                                // exponent distance 0..30
      const int ea = static_cast<int>((a >> 23) & 0xFF) - static_cast<int>((x >> 8) % 31);
      return (static_cast<uint32_t>(x >> 32) & 0x80000000u) |
             (static_cast<uint32_t>(std::max(ea, 0)) << 23) | (static_cast<uint32_t>(x >> 16) & 0x7FFFFFu);
    }
    default: return random_fp32(rng);
  }
}

}  // namespace cascade::rtl_test
