// Golden model and test vectors for the bf16 x bf16 + fp32 datapath (hdl/bf16_fma.sv):
// C's fmaf rounds the exact a * b + c once, as the RTL must.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace cascade::rtl_test {

inline float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline uint32_t float_to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
// bf16 is the top half of an fp32: widening is exact.
inline float bf16_to_float(uint16_t h) {
  return bits_to_float(static_cast<uint32_t>(h) << 16);
}

inline uint32_t golden_fma(uint16_t a, uint16_t b, uint32_t c) {
  return float_to_bits(std::fmaf(bf16_to_float(a), bf16_to_float(b), bits_to_float(c)));
}

// Equal bit for bit, or both NaN (the RTL returns one canonical quiet NaN).
inline bool same_result(uint32_t rtl, uint32_t golden) {
  const bool rtl_nan = (rtl & 0x7F800000u) == 0x7F800000u && (rtl & 0x007FFFFFu) != 0;
  const bool golden_nan = (golden & 0x7F800000u) == 0x7F800000u && (golden & 0x007FFFFFu) != 0;
  if (rtl_nan || golden_nan) return rtl_nan && golden_nan;
  return rtl == golden;
}

// SplitMix64: the same vectors on every machine.
struct Rng {
  uint64_t state;
  explicit Rng(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

}  // namespace cascade::rtl_test
