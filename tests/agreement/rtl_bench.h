// What the SystemC testbenches of tests/agreement that drive a C++ model and its Verilated
// kernel share: a seeded generator (the same cases on every machine), fp32 equality of
// results (NaN as "is NaN"), and the command line `[gtest flags] [--rtl-pe VARIANT]`.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace cascade::rtl_bench {

struct Rng {  // SplitMix64
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int64_t in(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1)); }
  double unit() { return static_cast<double>(next() >> 11) * 0x1p-53; }
};

// The same fp32 value (bit for bit), or both NaN.
inline bool same(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::bit_cast<uint32_t>(static_cast<float>(a)) == std::bit_cast<uint32_t>(static_cast<float>(b));
}

// Reads `--rtl-pe VARIANT` (after testing::InitGoogleTest took its flags) into `variant`;
// false, with the usage on stderr, for anything else.
inline bool parse_rtl_pe(int argc, char** argv, const char* program, std::string& variant) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--rtl-pe" && i + 1 < argc) {
      variant = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [gtest flags] [--rtl-pe VARIANT]\n", program);
      return false;
    }
  }
  return true;
}

}  // namespace cascade::rtl_bench
