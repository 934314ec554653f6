// The fp32 divider: sim/functional/hardware_divide.h (the C++ model) against an IEEE fp32
// division on tens of millions of operands (measured error: 0 ulp, i.e. correctly rounded),
// and the Verilated divider (hdl/fp32_div.sv) against the model bit for bit, with its fixed
// latency (27 cycles), divisions streaming one per cycle, and back-pressure.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <array>
#include <cstdio>
#include <vector>

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
  // One division into an empty divider; returns the quotient and the cycles from acceptance
  // to out_valid_o.
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
      EXPECT_TRUE(m_.busy_o);
      tick();
      ++latency;
    }
    EXPECT_FALSE(m_.busy_o);
    const uint32_t q = m_.q_o;
    tick();  // taken
    return q;
  }
  Vfp32_div& io() { return m_; }

 private:
  Vfp32_div m_;
};

struct Timed {
  uint32_t q;
  long accepted, offered;  // cycles: accepted, first offered
};

// Offers the pairs back to back (each as soon as in_ready_o), takes the results when
// `ready(cycle)`; returns each result with its cycles.
template <class Ready>
std::vector<Timed> stream(Div& div, const std::vector<std::pair<uint32_t, uint32_t>>& pairs, Ready ready) {
  auto& io = div.io();
  std::vector<Timed> out;
  std::vector<long> accepted;
  long offered = -1;
  size_t next = 0;
  for (long c = 0; out.size() < pairs.size() && c < 30 * static_cast<long>(pairs.size()) + 100; ++c) {
    io.in_valid_i = next < pairs.size();
    if (io.in_valid_i) {
      io.a_i = pairs[next].first;
      io.b_i = pairs[next].second;
    }
    io.out_ready_i = ready(c);
    io.eval();
    if (io.out_valid_o && offered < 0) offered = c;
    if (io.out_valid_o && io.out_ready_i) {
      out.push_back({io.q_o, accepted.at(out.size()), offered});
      offered = -1;
    }
    if (io.in_valid_i && io.in_ready_o) {
      accepted.push_back(c);
      ++next;
    }
    div.tick();
  }
  io.in_valid_i = 0;
  io.eval();
  EXPECT_EQ(out.size(), pairs.size()) << "divider hung";
  return out;
}

TEST(Fp32Div, RtlEqualsModel) {
  Div div;
  Rng rng(72);
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  for (uint32_t a : special_fp32())
    for (uint32_t b : special_fp32()) pairs.emplace_back(a, b);
  for (int i = 0; i < 300000; ++i) pairs.push_back(random_pair(rng));
  // back to back, results taken at once: one accepted and one offered every cycle
  const std::vector<Timed> out = stream(div, pairs, [](long) { return true; });
  ASSERT_EQ(out.size(), pairs.size());
  long bad = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const auto [a, b] = pairs[i];
    const uint32_t m = model_div(a, b);
    if ((out[i].accepted != static_cast<long>(i) || out[i].offered != out[i].accepted + 27 ||
         !same_result(out[i].q, m)) && ++bad <= 5)
      ADD_FAILURE() << std::hex << a << " / " << b << ": rtl " << out[i].q << ", model " << m << std::dec
                    << ", accepted " << out[i].accepted << ", offered " << out[i].offered;
    if (is_nan_bits(out[i].q) && out[i].q != 0x7FC00000u && ++bad <= 5) ADD_FAILURE() << "non-canonical NaN";
  }
  EXPECT_EQ(bad, 0) << "of " << out.size();
  // specials by name, one at a time (latency 27 into an empty divider)
  const std::vector<std::array<uint32_t, 3>> named = {
      {0x3F800000u, 0x00000000u, 0x7F800000u},  // 1 / +0 = +inf
      {0x3F800000u, 0x80000000u, 0xFF800000u},  // 1 / -0 = -inf
      {0x00000000u, 0x00000000u, 0x7FC00000u},  // 0 / 0 = NaN
      {0x7F800000u, 0xFF800000u, 0x7FC00000u},  // inf / inf = NaN
      {0x80000000u, 0x40000000u, 0x80000000u},  // -0 / 2 = -0
      {0x3F800000u, 0xFF800000u, 0x80000000u},  // 1 / -inf = -0
      {0x7F7FFFFFu, 0x3F000000u, 0x7F800000u},  // max / 0.5 overflows
      {0x00000001u, 0x40000000u, 0x00000000u},  // 2^-150: tie to even 0
      {0x00000003u, 0x40000000u, 0x00000002u},  // 1.5 * 2^-149 -> 2 * 2^-149
      {0x00800000u, 0x40000000u, 0x00400000u},  // normal -> subnormal, exact
  };
  for (const auto& [a, b, q] : named) {
    int latency = 0;
    EXPECT_EQ(div.divide(a, b, latency), q) << std::hex << a << " / " << b;
    EXPECT_EQ(latency, 27);
  }
}

// Results held until taken, in order; while one waits the pipeline stands still
// (in_ready_o low), and it moves on in the cycle the result is taken.
TEST(Fp32Div, BackPressure) {
  Div div;
  Rng rng(73), stalls(74);
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  for (int i = 0; i < 20000; ++i) pairs.push_back(random_pair(rng));
  // the ready pattern: long and short stalls
  std::vector<bool> ready;
  while (ready.size() < 30 * pairs.size() + 100) {
    const uint64_t r = stalls.next();
    for (uint64_t k = 0; k < 1 + (r >> 8) % (r % 4 == 0 ? 40 : 4); ++k) ready.push_back(r % 3 != 0);
  }
  const std::vector<Timed> out = stream(div, pairs, [&](long c) { return static_cast<bool>(ready[static_cast<size_t>(c)]); });
  ASSERT_EQ(out.size(), pairs.size());
  long bad = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const uint32_t m = model_div(pairs[i].first, pairs[i].second);
    if (!same_result(out[i].q, m) && ++bad <= 5) ADD_FAILURE() << "division " << i << ": rtl " << std::hex << out[i].q << ", model " << m;
  }
  // The contract's timing, from the ready pattern alone: 27 slots (the input register and
  // the 26 steps) that all move in a cycle unless the last holds a result not taken, a new
  // division entering whenever they move.
  std::array<long, 27> slot;
  slot.fill(-1);
  std::vector<long> accepted(pairs.size(), -1), offered(pairs.size(), -1);
  long next = 0, stalled = 0;
  for (size_t c = 0; c < ready.size() && (next < static_cast<long>(pairs.size()) ||
                                          std::any_of(slot.begin(), slot.end(), [](long v) { return v >= 0; })); ++c) {
    const long head = slot.back();
    if (head >= 0 && offered[static_cast<size_t>(head)] < 0) offered[static_cast<size_t>(head)] = static_cast<long>(c);
    const bool moves = head < 0 || ready[c];
    stalled += !moves;
    if (!moves) continue;
    for (size_t k = slot.size() - 1; k > 0; --k) slot[k] = slot[k - 1];
    slot[0] = next < static_cast<long>(pairs.size()) ? next : -1;
    if (slot[0] >= 0) accepted[static_cast<size_t>(next++)] = static_cast<long>(c);
  }
  for (size_t i = 0; i < out.size(); ++i)
    if ((out[i].accepted != accepted[i] || out[i].offered != offered[i]) && ++bad <= 5)
      ADD_FAILURE() << "division " << i << ": accepted " << out[i].accepted << " (expected " << accepted[i]
                    << "), offered " << out[i].offered << " (expected " << offered[i] << ")";
  EXPECT_EQ(bad, 0);
  EXPECT_GT(stalled, 10000);
  std::printf("%zu divisions under back-pressure: %ld of %ld cycles stalled\n", out.size(), stalled, out.back().offered);
}

}  // namespace
}  // namespace cascade::rtl_test
