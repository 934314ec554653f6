// The combinational fp32 multiplier (hdl/fp32_mul.sv, with its exponent offset) and adder
// (hdl/fp32_add.sv) against C float arithmetic, bit for bit (NaN: any NaN): every pair of
// special values, random operands of every kind, near-total cancellation, ties at the
// rounding position, products and sums in the subnormal range and beyond the top.
#include <gtest/gtest.h>

#include "Vfp32_add.h"
#include "Vfp32_mul.h"
#include "tests/hdl/fp32_golden.h"

namespace cascade::rtl_test {
namespace {

struct Mul {
  Vfp32_mul model;
  uint32_t operator()(uint32_t a, uint32_t b, int scale = 0) {
    model.a_i = a;
    model.b_i = b;
    model.scale_i = static_cast<uint16_t>(scale) & 0x1FFF;
    model.eval();
    return model.r_o;
  }
};

struct Add {
  Vfp32_add model;
  uint32_t operator()(uint32_t a, uint32_t b) {
    model.a_i = a;
    model.b_i = b;
    model.eval();
    return model.r_o;
  }
};

// Counts vectors and mismatches; reports the first few.
struct Tally {
  const char* what;
  long vectors = 0, mismatches = 0;
  void check(uint32_t rtl, uint32_t golden, uint32_t a, uint32_t b, int scale = 0) {
    ++vectors;
    if (same_result(rtl, golden)) return;
    if (++mismatches <= 5)
      ADD_FAILURE() << what << std::hex << " a=" << a << " b=" << b << std::dec << " scale=" << scale
                    << std::hex << ": rtl " << rtl << ", golden " << golden;
  }
};

TEST(Fp32Arith, SpecialValuePairs) {
  Mul mul;
  Add add;
  Tally m{"mul"}, s{"add"};
  for (uint32_t a : special_fp32())
    for (uint32_t b : special_fp32()) {
      m.check(mul(a, b), mul_golden(a, b), a, b);
      s.check(add(a, b), add_golden(a, b), a, b);
    }
  EXPECT_EQ(m.mismatches + s.mismatches, 0);
  // canonical NaN; exact cancellation +0; -0 + -0 = -0; inf - inf NaN; inf * 0 NaN
  EXPECT_EQ(add(0x3F800000u, 0xBF800000u), 0u);
  EXPECT_EQ(add(0x80000000u, 0x80000000u), 0x80000000u);
  EXPECT_EQ(add(0x7F800000u, 0xFF800000u), 0x7FC00000u);
  EXPECT_EQ(mul(0x7F800000u, 0x80000000u), 0x7FC00000u);
  EXPECT_EQ(mul(0xFFC00001u, 0x3F800000u), 0x7FC00000u);
  // ties to even: 1 + 2^-24 -> 1, (1 + 2^-23) + 2^-24 -> 1 + 2^-22
  EXPECT_EQ(add(0x3F800000u, 0x33800000u), 0x3F800000u);
  EXPECT_EQ(add(0x3F800001u, 0x33800000u), 0x3F800002u);
}

TEST(Fp32Arith, RandomMultiplies) {
  Mul mul;
  Tally t{"mul"};
  Rng rng(101);
  for (int i = 0; i < 1500000; ++i) {
    const uint32_t a = random_fp32(rng), b = random_fp32(rng);
    t.check(mul(a, b), mul_golden(a, b), a, b);
  }
  EXPECT_EQ(t.mismatches, 0) << "of " << t.vectors;
}

TEST(Fp32Arith, RandomAdds) {
  Add add;
  Tally t{"add"};
  Rng rng(202);
  for (int i = 0; i < 1500000; ++i) {
    const uint32_t a = random_fp32(rng), b = partner_fp32(rng, a);
    t.check(add(a, b), add_golden(a, b), a, b);
    t.check(add(b, a), add_golden(b, a), b, a);
  }
  EXPECT_EQ(t.mismatches, 0) << "of " << t.vectors;
}

// The exponent offset: round(a * b * 2^scale), one rounding, for the offsets the exp
// datapath uses (p in [1, 2), scale in [-2048, 2047]) and random operands.
TEST(Fp32Arith, ScaledMultiplies) {
  Mul mul;
  Tally t{"mul scaled"};
  Rng rng(303);
  for (int i = 0; i < 500000; ++i) {
    const uint32_t a = random_fp32(rng), b = (i % 2) ? 0x3F800000u : random_fp32(rng);
    const int scale = static_cast<int>(rng.next() % 601) - 300;
    t.check(mul(a, b, scale), mul_scaled_golden(a, b, scale), a, b, scale);
    // p in [1, 2) times 2^i over the exp's whole offset range
    const uint32_t p = 0x3F800000u | (static_cast<uint32_t>(rng.next()) & 0x7FFFFFu);
    const int big = static_cast<int>(rng.next() % 4096) - 2048;
    const uint32_t golden = big > 200 ? 0x7F800000u : big < -200 ? 0u : mul_scaled_golden(p, 0x3F800000u, big);
    t.check(mul(p, 0x3F800000u, big), golden, p, 0x3F800000u, big);
  }
  EXPECT_EQ(t.mismatches, 0) << "of " << t.vectors;
}

}  // namespace
}  // namespace cascade::rtl_test
