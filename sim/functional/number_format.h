// Number formats of the functional executor: rounding a double to fp64 / fp32 / bf16 / fp16,
// and the hardware exp datapath that the RTL implements.
//
// Values are carried as doubles everywhere; "a value in format F" means a double that is
// exactly representable in F. `round_to(F, x)` / `round_as<F>(x)` return the representable
// value nearest to x (IEEE 754 round-to-nearest, ties-to-even), with gradual underflow
// (subnormals), overflow to +-inf, NaN kept NaN, inf and signed zero kept. They round the
// double directly (a single rounding), never through float first, so bf16/fp16 results are
// correct also for inputs that are not fp32 values.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace cascade {

enum class NumberFormat { FP64, FP32, BF16, FP16 };

// "fp64", "fp32", "bf16", "fp16" (exactly these, lower case); anything else throws
// cascade::Error naming the valid formats.
NumberFormat parse_number_format(const std::string& name);
const char* to_string(NumberFormat format);

// Explicitly stored fraction bits, WITHOUT the hidden leading 1:
// fp64 52, fp32 23, bf16 7, fp16 10. Precision p = mantissa_bits + 1.
constexpr int mantissa_bits(NumberFormat format) {
  switch (format) {
    case NumberFormat::FP64: return 52;
    case NumberFormat::FP32: return 23;
    case NumberFormat::BF16: return 7;
    case NumberFormat::FP16: return 10;
  }
  return 52;
}

// Exponent field width: fp64 11, fp32 8, bf16 8, fp16 5.
constexpr int exponent_bits(NumberFormat format) {
  switch (format) {
    case NumberFormat::FP64: return 11;
    case NumberFormat::FP32: return 8;
    case NumberFormat::BF16: return 8;
    case NumberFormat::FP16: return 5;
  }
  return 11;
}

// Unit roundoff u = 2^-p (p = mantissa_bits + 1): fp64 2^-53, fp32 2^-24, bf16 2^-8,
// fp16 2^-11. |round_to(F, x) - x| <= u |x| for x in F's normal range.
constexpr double unit_roundoff(NumberFormat format) {
  double u = 1.0;
  for (int k = 0; k <= mantissa_bits(format); ++k) u *= 0.5;
  return u;
}

namespace detail {

// Round a double to the binary format with `ExponentBits` exponent bits and `FractionBits`
// stored fraction bits (IEEE layout: bias 2^(E-1)-1, subnormals, inf/NaN), RNE.
// Integer manipulation of the double's bits, no loops; the selects compile to cmov.
template <int ExponentBits, int FractionBits>
constexpr double round_to_binary(double x) {
  static_assert(ExponentBits >= 2 && ExponentBits <= 10, "format must have fewer exponent bits than double");
  static_assert(FractionBits >= 1 && FractionBits <= 51, "format must have fewer fraction bits than double");
  constexpr int kBias = (1 << (ExponentBits - 1)) - 1;
  constexpr int kMinNormalExponent = 1 - kBias;                          // 2^emin, smallest normal
  constexpr int kSubnormalExponent = kMinNormalExponent - FractionBits;  // smallest subnormal
  constexpr std::uint64_t kSignMask = std::uint64_t{1} << 63;
  constexpr std::uint64_t kHiddenBit = std::uint64_t{1} << 52;
  constexpr std::uint64_t kInfBits = std::uint64_t{0x7FF} << 52;
  // Bits of the double 2^e (e in the double's normal range).
  constexpr auto pow2_bits = [](int e) { return static_cast<std::uint64_t>(e + 1023) << 52; };
  constexpr std::uint64_t kOverflowBits = pow2_bits(kBias + 1);  // 2^(emax+1): rounds to inf
  constexpr std::uint64_t kSmallestBits = pow2_bits(kSubnormalExponent);
  constexpr std::uint64_t kHalfSmallestBits = pow2_bits(kSubnormalExponent - 1);

  const std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
  const std::uint64_t sign = bits & kSignMask;
  const std::uint64_t magnitude = bits ^ sign;
  const int exponent = static_cast<int>(magnitude >> 52) - 1023;
  // Low bits of the double to drop: 52 - FractionBits in the normal range, one more per
  // binade below the smallest normal, up to 52 (for |x| in [2^kSubnormalExponent, 2x that)).
  const int drop = 52 - FractionBits + std::clamp(kMinNormalExponent - exponent, 0, FractionBits);
  const std::uint64_t half = std::uint64_t{1} << (drop - 1);
  // LSB of the kept significand; with drop == 52 only the hidden 1 is kept (odd).
  const std::uint64_t kept_lsb = ((magnitude | kHiddenBit) >> drop) & 1;
  // A carry out of the fraction increments the exponent: exactly the next binade.
  std::uint64_t rounded = (magnitude + (half - 1) + kept_lsb) & ~((std::uint64_t{1} << drop) - 1);
  // Below the smallest subnormal: 0 or the smallest subnormal (exact half ties to 0, even).
  rounded = magnitude < kSmallestBits ? (magnitude > kHalfSmallestBits ? kSmallestBits : 0) : rounded;
  rounded = rounded >= kOverflowBits ? kInfBits : rounded;  // also maps inf to inf
  rounded = magnitude > kInfBits ? magnitude : rounded;     // NaN stays (the same) NaN
  return std::bit_cast<double>(rounded | sign);
}

}  // namespace detail

// Fast path for hot loops: the format is a template argument, everything inlines.
//   FP64: identity. FP32: (double)(float)x -- the hardware conversion is one IEEE RNE
//   rounding with subnormals (a cvtsd2ss/cvtss2sd pair; assumes FTZ/DAZ are off, the
//   default). BF16 / FP16: detail::round_to_binary (bf16 = 8/7 bits, fp16 = 5/10 bits).
template <NumberFormat F>
constexpr double round_as(double x) {
  if constexpr (F == NumberFormat::FP64) {
    return x;
  } else if constexpr (F == NumberFormat::FP32) {
    return static_cast<double>(static_cast<float>(x));
  } else if constexpr (F == NumberFormat::BF16) {
    return detail::round_to_binary<8, 7>(x);
  } else {
    return detail::round_to_binary<5, 10>(x);
  }
}

// Nearest value of `format` to x (see the top of this file). Dispatches to round_as<F>.
double round_to(NumberFormat format, double x);

// ---------------------------------------------------------------------------------------
// Hardware exp: the datapath the RTL implements.
//
//   t = x * log2(e)            1 multiply   (log2(e) stored in the compute format)
//   i = floor(t)               integer part (no arithmetic op: exponent/shift logic)
//   f = t - i, f in [0, 1]     1 add (rounded; in a narrow format f may round up to 1)
//   p = c5                     5 Horner MACs: p = p*f + c_k, k = 4..0
//   result = 2^i * p           exponent add (ldexp), no arithmetic op
//
// Cost: 6 MACs (the x*log2e multiply + 5 Horner steps) + 1 add, as FuseMax charges exp on
// its 2D PE. Every multiply and every add is rounded to the compute format separately
// (a MAC is a rounded multiply followed by a rounded add, not a fused multiply-add), the
// coefficients and log2(e) are rounded to the compute format, and the final 2^i * p is
// rounded to it (which gives gradual underflow and overflow to inf). With compute = FP64
// only the polynomial's own error remains.
//
// The coefficients are the minimax (Remez) fit of 2^f on [0, 1] for relative error, by
// experiments/hardware_exp_fit.py: max |p(f)/2^f - 1| = 7.49e-8, reached with the same sign
// at f = 0 and f = 1, so p(1) = 2 p(0) and the result is continuous where t crosses an
// integer. Note p(0) = c0 = 1 - 7.5e-8, so hardware_exp(0) is not exactly 1 (fp64:
// 1 - 7.5e-8, fp32: 1 - 2^-24; bf16/fp16: 1).
//
// Special values: NaN -> NaN, -inf -> +0, +inf -> +inf, large negative x -> 0 (through
// the compute format's subnormals), large positive x -> +inf.
//
// Measured max relative error vs std::exp (tests/test_number_format.cpp, dense jittered
// grid over [-87, 88], the fp32 range; fp16 over [-9.5, 11], its range):
//   fp64 datapath: 7.49e-8 everywhere (hardware_exp_max_relative_error() = 7.6e-8).
//   fp32 datapath: 1.9e-7 for |x| <= 1, 3.9e-6 over [-87, 88].
//   bf16 datapath: 8.3e-3 for |x| <= 1, 0.39 over [-87, 88].
//   fp16 datapath: 1.2e-3 for |x| <= 1, 5.4e-3 over [-9.5, 11].
// In the narrow datapaths the rounding of t = x*log2(e) (and of log2(e) itself) costs a
// relative error of up to about ln2 * |t| * 2u, growing with |x| (u = unit_roundoff): t
// keeps only p bits, so its fraction f loses log2|t| of them (bf16 at |x| = 88: t ~ 127
// has ulp 0.5, f has one bit left). Exact rigorous bound, derived and checked in the test:
//   |hw/exp - 1| <= 2^(|x| log2(e) (2u + u^2) + u) (1 + E)(1 + u)^2 (1 + H) - 1,
//   E = hardware_exp_max_relative_error(), H ~= 2.4u (Horner rounding with positive
//   coefficients and f in [0, 1]); i.e. E + 7.1u at |x| <= 1, E + 181u at |x| = 88 (fp32).
namespace detail {
inline constexpr double kExp2C0 = 0.9999999250635262;
inline constexpr double kExp2C1 = 0.6931530732001686;
inline constexpr double kExp2C2 = 0.24015361704435498;
inline constexpr double kExp2C3 = 0.05582631805338218;
inline constexpr double kExp2C4 = 0.008989340090378833;
inline constexpr double kExp2C5 = 0.0018775766752414662;
inline constexpr double kLog2E = 1.4426950408889634;  // log2(e) rounded to double
}  // namespace detail

// Max relative error of the fp64 hardware-exp datapath vs std::exp over [-87, 88]
// (measured 7.4936e-8 on a 2^22-point grid; equals the fit's minimax error), rounded up.
constexpr double hardware_exp_max_relative_error() { return 7.6e-8; }

namespace detail {
// The exp's range reduction and scaling, shared by the hardware and the fast exp, each step
// rounded to F: t = round(x * log2(e)); NaN -> NaN; |t| >= 2048 (2^t beyond every format,
// also t = +-inf) -> +inf or +0; i = floor(t), f = round(t - i); p = exp2_of_f(f) in [1, 2];
// round(2^i * p), exact in double when 2^i is a normal double, else one correctly rounded
// ldexp (double's subnormals, 0 or inf).
template <NumberFormat F, typename Exp2OfFraction>
inline double exp_by_exp2(double x, Exp2OfFraction exp2_of_f) {
  constexpr double kLog2E = round_as<F>(detail::kLog2E);
  if (std::isnan(x)) return x;
  const double t = round_as<F>(x * kLog2E);
  if (!(std::fabs(t) < 2048.0)) return t > 0 ? std::numeric_limits<double>::infinity() : 0.0;
  std::int64_t i = static_cast<std::int64_t>(t);  // truncation, then floor:
  i -= static_cast<double>(i) > t ? 1 : 0;
  const double f = round_as<F>(t - static_cast<double>(i));
  const double p = exp2_of_f(f);
  const double scaled = (i >= -1022 && i <= 1023)
                            ? p * std::bit_cast<double>(static_cast<std::uint64_t>(i + 1023) << 52)
                            : std::ldexp(p, static_cast<int>(i));
  return round_as<F>(scaled);
}
}  // namespace detail

// Hot-loop form of hardware_exp with the compute format as a template argument.
template <NumberFormat F>
inline double hardware_exp_as(double x) {
  return detail::exp_by_exp2<F>(x, [](double f) {
    constexpr double c0 = round_as<F>(detail::kExp2C0);
    constexpr double c1 = round_as<F>(detail::kExp2C1);
    constexpr double c2 = round_as<F>(detail::kExp2C2);
    constexpr double c3 = round_as<F>(detail::kExp2C3);
    constexpr double c4 = round_as<F>(detail::kExp2C4);
    constexpr double c5 = round_as<F>(detail::kExp2C5);
    double p = c5;
    p = round_as<F>(round_as<F>(p * f) + c4);
    p = round_as<F>(round_as<F>(p * f) + c3);
    p = round_as<F>(round_as<F>(p * f) + c2);
    p = round_as<F>(round_as<F>(p * f) + c1);
    return round_as<F>(round_as<F>(p * f) + c0);
  });
}

double hardware_exp(double x, NumberFormat compute);

// ---------------------------------------------------------------------------------------
// The fast exp (`--exp fast`): the hardware exp with 2^f piecewise linear on 8 segments
// instead of the degree-5 polynomial, bit for bit the RTL's fp32_exp_pwl_seq (hdl/, in
// pe_2d_fastexp) with compute = FP32. In this order, each step rounded to `compute`:
//   t = round(x * log2(e))      log2(e) rounded to compute (as the hardware exp)
//   specials: NaN -> NaN; |t| >= 2048 (also t = +-inf) -> +inf for t > 0, +0 for t < 0
//   i = floor(t), f = round(t - i), f in [0, 1] (f may round up to 1)
//   k = min(floor(8 f), 7)      segment (f = 1 takes the last one)
//   p = round(round(b_k * f) + a_k)   a_k, b_k: kExpFastA/B rounded to compute
//   result = round(2^i * p)     gradual underflow, overflow to inf
// Cost: 2 MACs + 1 add (x*log2e, the line, t - i), against the hardware exp's 6 MACs + 1
// add; the RTL PE takes 4 cycles for exp, 5 for exp(x - m) (hardware: 8, 9).
// Segment k's line is the chord of 2^f on [k/8, (k+1)/8] scaled by 1 / (1 + e_k/2), e_k the
// chord's largest relative error, so the error alternates between about +-4.69e-4 in each
// segment; the coefficients are fp32 values (experiments/rtl/fast_exp_fit.py fits them).
// fast_exp_max_relative_error() bounds |p(f)/2^f - 1| with exact arithmetic; the fp32
// datapath adds the hardware exp's rounding of t (experiments/rtl/results-exp-accuracy-*.md
// has the measured errors).
namespace detail {
inline constexpr double kExpFastA[8] = {
    0x1.ffc2820000000p-1, 0x1.fb91500000000p-1, 0x1.f26caa0000000p-1, 0x1.e377ec0000000p-1,
    0x1.cdb8e40000000p-1, 0x1.b014460000000p-1, 0x1.8949be0000000p-1, 0x1.57ef8a0000000p-1};
inline constexpr double kExpFastB[8] = {
    0x1.728bb60000000p-1, 0x1.9415400000000p-1, 0x1.b8a7d80000000p-1, 0x1.e089d40000000p-1,
    0x1.0603f20000000p+0, 0x1.1dbad60000000p+0, 0x1.3797320000000p+0, 0x1.53cabe0000000p+0};
}  // namespace detail

constexpr double fast_exp_max_relative_error() { return 4.7e-4; }

template <NumberFormat F>
inline double fast_exp_as(double x) {
  return detail::exp_by_exp2<F>(x, [](double f) {
    const int k = f >= 1.0 ? 7 : static_cast<int>(f * 8.0);
    return round_as<F>(round_as<F>(round_as<F>(detail::kExpFastB[k]) * f) +
                       round_as<F>(detail::kExpFastA[k]));
  });
}

double fast_exp(double x, NumberFormat compute);

// ---------------------------------------------------------------------------------------
enum class ExpMode { Exact, Hardware, Fast };

// "exact", "hardware", "fast"; anything else throws cascade::Error naming the valid modes.
ExpMode parse_exp_mode(const std::string& name);
const char* to_string(ExpMode mode);

// Exact: round_to(compute, std::exp(x)). Hardware: hardware_exp(x, compute). Fast:
// fast_exp(x, compute).
double exp_in(ExpMode mode, NumberFormat compute, double x);

// The activation functions of value expressions, each a fixed sequence of rounded steps in
// `compute` (what a PE with an exp unit runs; mappings/README.md):
//   sigmoid(x)  = round(1 / round(1 + exp(-x)))                      (exp as exp_in)
//   softplus(x) = round(max(x, 0) + round(log1p(exp(-|x|))))         (exp as exp_in)
//   tanh(x)     = round(tanh(x))   one rounding of the double value, as sqrt and log
// NaN gives NaN; the limits are exact (sigmoid(-inf) = 0, softplus(+inf) = +inf).
double sigmoid_in(ExpMode mode, NumberFormat compute, double x);
double softplus_in(ExpMode mode, NumberFormat compute, double x);
double tanh_in(NumberFormat compute, double x);

template <ExpMode M, NumberFormat F>
inline double exp_as(double x) {
  if constexpr (M == ExpMode::Exact) {
    return round_as<F>(std::exp(x));
  } else if constexpr (M == ExpMode::Fast) {
    return fast_exp_as<F>(x);
  } else {
    return hardware_exp_as<F>(x);
  }
}

}  // namespace cascade
