// The Verilated bf16 x bf16 + fp32 datapath (hdl/bf16_fma.sv) against C's fmaf, bit for
// bit: special values, every bf16 first operand, random operands, near-cancellation,
// products that underflow into fp32 subnormals or overflow.
#include <gtest/gtest.h>

#include <cstdio>
#include <limits>
#include <vector>

#include "Vbf16_fma.h"
#include "tests/hdl/fma_golden.h"

namespace cascade::rtl_test {
namespace {

class Fma {
 public:
  uint32_t operator()(uint16_t a, uint16_t b, uint32_t c) {
    model_.a_i = a;
    model_.b_i = b;
    model_.c_i = c;
    model_.eval();
    return model_.r_o;
  }

 private:
  Vbf16_fma model_;
};

// Runs the vectors, reports the first mismatches, returns how many there were.
struct Checker {
  Fma fma;
  long vectors = 0, mismatches = 0;
  void operator()(uint16_t a, uint16_t b, uint32_t c) {
    ++vectors;
    const uint32_t rtl = fma(a, b, c), golden = golden_fma(a, b, c);
    if (same_result(rtl, golden)) return;
    if (++mismatches <= 5)
      ADD_FAILURE() << std::hex << "a=" << a << " b=" << b << " c=" << c << ": rtl " << rtl
                    << ", fmaf " << golden;
  }
};

uint16_t bf16_of(float f) {
  return static_cast<uint16_t>(float_to_bits(f) >> 16);
}

TEST(Bf16Fma, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float min_sub = std::numeric_limits<float>::denorm_min();
  const float min_norm = std::numeric_limits<float>::min();
  const float max = std::numeric_limits<float>::max();
  const std::vector<float> ab = {0.0f, -0.0f,   1.0f,     -1.0f,  1.5f,    inf, -inf,
                                 nan,  3.0e38f, -3.0e38f, 1e-38f, 9.2e-41f /* bf16 subnormal */};
  const std::vector<float> cs = {0.0f,      -0.0f, 1.0f, -1.0f,   -1.5f,    -2.25f,
                                 inf,       -inf,  nan,  min_sub, -min_sub, min_norm,
                                 -min_norm, max,   -max, 1e-45f,  3.0e-39f};
  Checker check;
  for (float a : ab)
    for (float b : ab)
      for (float c : cs) check(bf16_of(a), bf16_of(b), float_to_bits(c));
  EXPECT_EQ(check.mismatches, 0) << "of " << check.vectors;
  Fma fma;
  // Exact cancellation rounds to +0; -0 + -0 stays -0; inf - inf and inf * 0 are NaN.
  EXPECT_EQ(fma(bf16_of(1.5f), bf16_of(1.5f), float_to_bits(-2.25f)), 0u);
  EXPECT_EQ(fma(bf16_of(-0.0f), bf16_of(1.0f), float_to_bits(-0.0f)), 0x80000000u);
  EXPECT_EQ(fma(bf16_of(inf), bf16_of(1.0f), float_to_bits(-inf)), 0x7FC00000u);
  EXPECT_EQ(fma(bf16_of(inf), bf16_of(0.0f), 0u), 0x7FC00000u);
  // 3e38 * 3e38 overflows to +inf.
  EXPECT_EQ(fma(bf16_of(3.0e38f), bf16_of(3.0e38f), 0u), 0x7F800000u);
}

TEST(Bf16Fma, EveryFirstOperandAgainstRandomOthers) {
  Checker check;
  Rng rng(2026);
  for (uint32_t a = 0; a < 65536; ++a)
    for (int k = 0; k < 4; ++k) {
      const uint64_t x = rng.next();
      check(static_cast<uint16_t>(a), static_cast<uint16_t>(x), static_cast<uint32_t>(x >> 16));
    }
  EXPECT_EQ(check.mismatches, 0) << "of " << check.vectors;
}

TEST(Bf16Fma, RandomCancellationUnderflowOverflow) {
  Checker check;
  Rng rng(11);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t x = rng.next();
    const auto a = static_cast<uint16_t>(x), b = static_cast<uint16_t>(x >> 16);
    check(a, b, static_cast<uint32_t>(x >> 32));
    // c within a few ulps of -a*b: massive cancellation
    const float p = bf16_to_float(a) * bf16_to_float(b);
    check(a, b, float_to_bits(-p) ^ static_cast<uint32_t>(rng.next() & 0x1F));
    // products below the fp32 normal range (bf16 exponents 0..39), with tiny addends
    const auto tiny = static_cast<uint16_t>((x & 0x807F) | (((x >> 20) % 40) << 7));
    check(a, tiny, static_cast<uint32_t>(x >> 32) & 0x81FFFFFFu);
    check(a, tiny, 0u);
    check(a, tiny, 0x80000000u);
    // products near or above the top of the range
    const auto huge = static_cast<uint16_t>((x & 0x807F) | ((200 + (x >> 24) % 55) << 7));
    check(a, huge, static_cast<uint32_t>(x >> 32));
  }
  EXPECT_EQ(check.mismatches, 0) << "of " << check.vectors;
}

}  // namespace
}  // namespace cascade::rtl_test
