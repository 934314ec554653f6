// The fp32 divider: sim/functional/hardware_divide.h (the C++ model) against an IEEE fp32
// division on tens of millions of operands (measured error: 0 ulp, i.e. correctly rounded),
// and the Verilated divider (hdl/fp32_div.sv) against the model bit for bit, with its fixed
// latency (27 cycles), its handshake and back-to-back divisions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "Vfp32_div.h"
#include "sim/functional/hardware_divide.h"
#include "tests/hdl/fp32_golden.h"

namespace cascade::rtl_test {
namespace {

uint32_t model_div(uint32_t a, uint32_t b) { return bits_of(hardware_divide_fp32(f32(a), f32(b))); }
uint32_t ieee_div(uint32_t a, uint32_t b) { return float_to_bits(f32(a) / f32(b)); }

// Distance in ulps between two non-NaN fp32 patterns (on the ordered integer line).
long ulps(uint32_t x, uint32_t y) {
  auto key = [](uint32_t u) { return (u & 0x80000000u) ? -static_cast<long>(u & 0x7FFFFFFFu) : static_cast<long>(u); };
  return std::labs(key(x) - key(y));
}

// Operand pairs: random of every kind, quotients near the subnormal range and overflow,
// exact quotients, and divisors near the dividend.
std::pair<uint32_t, uint32_t> random_pair(Rng& rng) {
  const uint64_t r = rng.next();
  uint32_t a = random_fp32(rng), b = random_fp32(rng);
  switch (r % 6) {
    case 0: b = (b & 0x807FFFFFu) | (static_cast<uint32_t>(std::clamp<int>(((a >> 23) & 0xFF) + 100 + static_cast<int>((r >> 8) % 60), 1, 254)) << 23); break;  // tiny quotient
    case 1: b = (b & 0x807FFFFFu) | (static_cast<uint32_t>(std::clamp<int>(((a >> 23) & 0xFF) - 100 - static_cast<int>((r >> 8) % 60), 1, 254)) << 23); break;  // huge quotient
    case 2: {  // a = q * b exactly (short q)
      const float q = static_cast<float>(static_cast<int>((r >> 8) % 4096) - 2048) * 0.125f;
      const float p = q * f32(b);
      a = float_to_bits(p);
      break;
    }
    case 3: b = a + static_cast<uint32_t>((r >> 8) % 7) - 3; break;
    default: break;
  }
  return {a, b};
}

TEST(Fp32Div, ModelIsCorrectlyRounded) {
  Rng rng(71);
  long worst = 0, vectors = 0, bad = 0;
  auto check = [&](uint32_t a, uint32_t b) {
    ++vectors;
    const uint32_t m = model_div(a, b), g = ieee_div(a, b);
    if (is_nan_bits(m) || is_nan_bits(g)) {
      if (is_nan_bits(m) != is_nan_bits(g) && ++bad <= 5) ADD_FAILURE() << std::hex << a << " / " << b;
      return;
    }
    worst = std::max(worst, ulps(m, g));
    if (m != g && ++bad <= 5)
      ADD_FAILURE() << std::hex << a << " / " << b << ": model " << m << ", IEEE " << g;
  };
  for (uint32_t a : special_fp32())
    for (uint32_t b : special_fp32()) check(a, b);
  for (int i = 0; i < 20000000; ++i) {
    const auto [a, b] = random_pair(rng);
    check(a, b);
  }
  EXPECT_EQ(bad, 0);
  std::printf("hardware_divide_fp32 vs IEEE fp32 division: %ld operand pairs, max error %ld ulp\n", vectors, worst);
}

class Div {
 public:
  Div() {
    m_.clk_i = 0;
    m_.rst_ni = 0;
    m_.in_valid_i = 0;
    m_.out_ready_i = 0;
    m_.eval();
    m_.rst_ni = 1;
    m_.eval();
  }
  void tick() {
    m_.clk_i = 1;
    m_.eval();
    m_.clk_i = 0;
    m_.eval();
  }
  // One division; returns the quotient and the cycles from acceptance to out_valid_o.
  uint32_t divide(uint32_t a, uint32_t b, int& latency) {
    m_.in_valid_i = 1;
    m_.a_i = a;
    m_.b_i = b;
    m_.out_ready_i = 1;
    m_.eval();
    EXPECT_TRUE(m_.in_ready_o);
    tick();
    m_.in_valid_i = 0;
    m_.eval();
    latency = 1;
    while (!m_.out_valid_o && latency < 100) {
      EXPECT_FALSE(m_.in_ready_o);
      tick();
      ++latency;
    }
    return m_.q_o;
  }
  Vfp32_div& io() { return m_; }

 private:
  Vfp32_div m_;
};

TEST(Fp32Div, RtlEqualsModel) {
  Div div;
  Rng rng(72);
  long vectors = 0, bad = 0;
  auto check = [&](uint32_t a, uint32_t b) {
    int latency = 0;
    const uint32_t q = div.divide(a, b, latency);
    ++vectors;
    const uint32_t m = model_div(a, b);
    if ((latency != 27 || !same_result(q, m)) && ++bad <= 5)
      ADD_FAILURE() << std::hex << a << " / " << b << ": rtl " << q << ", model " << m << std::dec
                    << ", latency " << latency;
    if (is_nan_bits(q) && q != 0x7FC00000u && ++bad <= 5) ADD_FAILURE() << "non-canonical NaN";
  };
  for (uint32_t a : special_fp32())
    for (uint32_t b : special_fp32()) check(a, b);
  for (int i = 0; i < 300000; ++i) {
    const auto [a, b] = random_pair(rng);
    check(a, b);
  }
  EXPECT_EQ(bad, 0) << "of " << vectors;
  // specials by name
  int l = 0;
  EXPECT_EQ(div.divide(0x3F800000u, 0x00000000u, l), 0x7F800000u);  // 1 / +0 = +inf
  EXPECT_EQ(div.divide(0x3F800000u, 0x80000000u, l), 0xFF800000u);  // 1 / -0 = -inf
  EXPECT_EQ(div.divide(0x00000000u, 0x00000000u, l), 0x7FC00000u);  // 0 / 0 = NaN
  EXPECT_EQ(div.divide(0x7F800000u, 0xFF800000u, l), 0x7FC00000u);  // inf / inf = NaN
  EXPECT_EQ(div.divide(0x80000000u, 0x40000000u, l), 0x80000000u);  // -0 / 2 = -0
  EXPECT_EQ(div.divide(0x3F800000u, 0xFF800000u, l), 0x80000000u);  // 1 / -inf = -0
  EXPECT_EQ(div.divide(0x7F7FFFFFu, 0x3F000000u, l), 0x7F800000u);  // max / 0.5 overflows
  EXPECT_EQ(div.divide(0x00000001u, 0x40000000u, l), 0x00000000u);  // 2^-150: tie to even 0
  EXPECT_EQ(div.divide(0x00000003u, 0x40000000u, l), 0x00000002u);  // 1.5 * 2^-149 -> 2 * 2^-149
  EXPECT_EQ(div.divide(0x00800000u, 0x40000000u, l), 0x00400000u);  // normal -> subnormal, exact
}

// Results held until taken; a new division may enter in the cycle the result is taken.
TEST(Fp32Div, HandshakeBackToBack) {
  Div div;
  auto& io = div.io();
  io.in_valid_i = 1;
  io.a_i = 0x40400000u;  // 3
  io.b_i = 0x40000000u;  // 2
  io.out_ready_i = 0;
  io.eval();
  div.tick();
  io.a_i = 0x3F800000u;  // 1 / 3, offered while busy
  io.b_i = 0x40400000u;
  for (int c = 1; c < 27; ++c) {
    io.eval();
    EXPECT_FALSE(io.in_ready_o);
    EXPECT_FALSE(io.out_valid_o);
    div.tick();
  }
  for (int c = 0; c < 5; ++c) {  // held
    io.eval();
    EXPECT_TRUE(io.out_valid_o);
    EXPECT_FALSE(io.in_ready_o);
    EXPECT_EQ(io.q_o, 0x3FC00000u);
    div.tick();
  }
  io.out_ready_i = 1;
  io.eval();
  EXPECT_TRUE(io.in_ready_o);  // taken and replaced in the same cycle
  div.tick();
  io.in_valid_i = 0;
  for (int c = 1; c < 27; ++c) {
    io.eval();
    EXPECT_FALSE(io.out_valid_o);
    div.tick();
  }
  io.eval();
  EXPECT_TRUE(io.out_valid_o);
  EXPECT_EQ(io.q_o, float_to_bits(1.0f / 3.0f));
}

}  // namespace
}  // namespace cascade::rtl_test
