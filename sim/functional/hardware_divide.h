// Hardware divide: the fp32 divider of the RTL (hdl/fp32_div.sv), bit for bit, modelled
// from its algorithm. Header-only, pure C++20.
//
//   hardware_divide_fp32(a, b): a and b are values exactly representable in fp32 (as
//   doubles); returns the fp32 quotient as a double.
//
// Algorithm (radix-2 restoring division of the significands, one quotient bit per cycle):
//   1. Special values: NaN operand, 0/0, inf/inf -> NaN; inf/x and x/0 (x != 0) -> inf;
//      0/x and x/inf -> 0; the sign of every non-NaN result is sign(a) xor sign(b).
//   2. Both significands are normalised to integers in [2^23, 2^24) (subnormals included):
//      |a| = A * 2^(ea - 23), |b| = B * 2^(eb - 23), so A / B lies in (1/2, 2).
//   3. 26 restoring steps from r = A:  q = 2q + (r >= B);  if (r >= B) r -= B;  r = 2r.
//      Then q = floor(2^25 A / B) (25 or 26 significant bits) and r != 0 iff the division
//      is inexact: |a / b| lies in [q, q + 1) * 2^(ea - eb - 25), strictly inside when
//      r != 0.
//   4. q and the sticky bit (r != 0) are rounded to fp32 once: nearest, ties to even, with
//      gradual underflow and overflow to inf. Because the sticky bit sits below every bit
//      the rounding looks at, this is the rounding of the exact quotient: the divider is
//      correctly rounded (0 ulp from an IEEE fp32 division; tests/hdl measure it).
//
// The RTL (fp32_div.sv) is pipelined: latency 27 cycles per division, whatever the
// operands, one division accepted per cycle.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace cascade {

namespace detail {

// The exponent ea and significand A in [2^23, 2^24) of a finite nonzero fp32:
// |x| = A * 2^(ea - 23).
constexpr void normalised_fp32(std::uint32_t bits, std::uint32_t& sig, int& exp) {
  const std::uint32_t field = (bits >> 23) & 0xFFu;
  sig = bits & 0x7FFFFFu;
  if (field != 0) {
    sig |= 0x800000u;
    exp = static_cast<int>(field) - 127;
  } else {
    exp = -126;
    while ((sig & 0x800000u) == 0) {
      sig <<= 1;
      --exp;
    }
  }
}

}  // namespace detail

inline double hardware_divide_fp32(double a, double b) {
  const float fa = static_cast<float>(a), fb = static_cast<float>(b);
  const std::uint32_t ua = std::bit_cast<std::uint32_t>(fa), ub = std::bit_cast<std::uint32_t>(fb);
  const bool negative = ((ua ^ ub) >> 31) != 0;
  const double sign = negative ? -1.0 : 1.0;
  if (std::isnan(fa) || std::isnan(fb) || (std::isinf(fa) && std::isinf(fb)) ||
      (fa == 0.0f && fb == 0.0f))
    return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(fa) || fb == 0.0f) return sign * std::numeric_limits<double>::infinity();
  if (fa == 0.0f || std::isinf(fb)) return sign * 0.0;

  std::uint32_t sig_a = 0, sig_b = 0;
  int exp_a = 0, exp_b = 0;
  detail::normalised_fp32(ua, sig_a, exp_a);
  detail::normalised_fp32(ub, sig_b, exp_b);

  std::uint32_t r = sig_a, q = 0;
  for (int step = 0; step < 26; ++step) {
    const bool ge = r >= sig_b;
    q = (q << 1) | (ge ? 1u : 0u);
    if (ge) r -= sig_b;
    r <<= 1;
  }
  const bool sticky = r != 0;

  // (2q + sticky) * 2^(ea - eb - 26) is exact in double (27 bits, exponent far inside the
  // double range) and lies in the same fp32 rounding interval as the exact quotient; the
  // conversion to float is the single IEEE rounding (nearest even, subnormals, overflow).
  const double truncated =
      std::ldexp(static_cast<double>(2 * static_cast<std::uint64_t>(q) + (sticky ? 1 : 0)),
                 exp_a - exp_b - 26);
  return sign * static_cast<double>(static_cast<float>(truncated));
}

}  // namespace cascade
