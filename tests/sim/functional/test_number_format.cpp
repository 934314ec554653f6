// Tests of sim/functional/number_format.h against independent references: the hardware
// double->float conversion, field decoders and a frexp/nearbyint rounding written here,
// std::exp, and error bounds derived below from the datapath's operation list.
#include "sim/functional/number_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "arch/support/error.h"

namespace cascade {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Bitwise equality: distinguishes -0 from +0; any NaN equals any NaN.
::testing::AssertionResult same_value(double expected, double actual) {
  if (std::isnan(expected) && std::isnan(actual)) return ::testing::AssertionSuccess();
  if (std::bit_cast<std::uint64_t>(expected) == std::bit_cast<std::uint64_t>(actual)) {
    return ::testing::AssertionSuccess();
  }
  char buffer[160];
  std::snprintf(buffer, sizeof buffer, "expected %a (%.17g), got %a (%.17g)", expected, expected, actual,
                actual);
  return ::testing::AssertionFailure() << buffer;
}

// ---- independent references ----------------------------------------------------------

// fp16: 1 sign, 5 exponent (bias 15), 10 fraction bits.
double decode_fp16(std::uint16_t bits) {
  const int sign = bits >> 15;
  const int exponent = (bits >> 10) & 0x1F;
  const int fraction = bits & 0x3FF;
  double magnitude;
  if (exponent == 0x1F) {
    magnitude = fraction != 0 ? std::numeric_limits<double>::quiet_NaN() : kInf;
  } else if (exponent == 0) {
    magnitude = std::ldexp(static_cast<double>(fraction), -24);  // subnormal: 0.f * 2^-14
  } else {
    magnitude = std::ldexp(static_cast<double>(1024 + fraction), exponent - 15 - 10);
  }
  return sign ? -magnitude : magnitude;
}

// bf16: 1 sign, 8 exponent (bias 127), 7 fraction bits.
double decode_bf16(std::uint16_t bits) {
  const int sign = bits >> 15;
  const int exponent = (bits >> 7) & 0xFF;
  const int fraction = bits & 0x7F;
  double magnitude;
  if (exponent == 0xFF) {
    magnitude = fraction != 0 ? std::numeric_limits<double>::quiet_NaN() : kInf;
  } else if (exponent == 0) {
    magnitude = std::ldexp(static_cast<double>(fraction), -133);  // 0.f * 2^-126
  } else {
    magnitude = std::ldexp(static_cast<double>(128 + fraction), exponent - 127 - 7);
  }
  return sign ? -magnitude : magnitude;
}

// Rounding written the textbook way: scale x so that the format's quantum at x is 1,
// round to an integer with nearbyint (RNE in the default rounding mode), scale back.
// precision = fraction bits + 1; emin/emax = exponents of the smallest/largest normal.
double reference_round(double x, int precision, int emin, int emax) {
  if (std::isnan(x) || std::isinf(x) || x == 0) return x;
  int e = 0;
  std::frexp(x, &e);  // |x| = m 2^e, m in [0.5, 1): leading bit has weight 2^(e-1)
  const int quantum = std::max(e - 1, emin) - (precision - 1);
  const double rounded = std::ldexp(std::nearbyint(std::ldexp(x, -quantum)), quantum);
  const double max_finite = std::ldexp(2.0 - std::ldexp(1.0, 1 - precision), emax);
  if (std::fabs(rounded) > max_finite) return std::copysign(kInf, x);
  return rounded;
}

double reference_fp16(double x) { return reference_round(x, 11, -14, 15); }
double reference_bf16(double x) { return reference_round(x, 8, -126, 127); }
double reference_fp32(double x) { return reference_round(x, 24, -126, 127); }

// Random doubles spread over every binade from well below the format's subnormals to
// well above its overflow threshold, both signs.
std::vector<double> random_doubles(int count, int min_exponent, int max_exponent, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> exponent(min_exponent, max_exponent);
  std::vector<double> values;
  values.reserve(count);
  for (int k = 0; k < count; ++k) {
    const std::uint64_t fraction = rng() & ((std::uint64_t{1} << 52) - 1);
    const std::uint64_t sign = rng() & (std::uint64_t{1} << 63);
    const std::uint64_t biased = static_cast<std::uint64_t>(exponent(rng) + 1023);
    values.push_back(std::bit_cast<double>(sign | (biased << 52) | fraction));
  }
  return values;
}

// ---- names -----------------------------------------------------------------------------

TEST(NumberFormatNames, ParseAndPrintRoundTrip) {
  for (NumberFormat f : {NumberFormat::FP64, NumberFormat::FP32, NumberFormat::BF16, NumberFormat::FP16}) {
    EXPECT_EQ(parse_number_format(to_string(f)), f);
  }
  EXPECT_STREQ(to_string(NumberFormat::BF16), "bf16");
  EXPECT_EQ(parse_number_format("fp16"), NumberFormat::FP16);
}

TEST(NumberFormatNames, UnknownNameThrowsListingValidNames) {
  try {
    parse_number_format("fp8");
    FAIL() << "no exception";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("fp8"), std::string::npos) << message;
    for (const char* name : {"fp64", "fp32", "bf16", "fp16"}) {
      EXPECT_NE(message.find(name), std::string::npos) << message;
    }
  }
  EXPECT_THROW(parse_number_format("FP32"), Error);
  EXPECT_THROW(parse_number_format(""), Error);
}

TEST(NumberFormatNames, ExpModeParseAndPrint) {
  EXPECT_EQ(parse_exp_mode("exact"), ExpMode::Exact);
  EXPECT_EQ(parse_exp_mode("hardware"), ExpMode::Hardware);
  EXPECT_STREQ(to_string(ExpMode::Exact), "exact");
  EXPECT_STREQ(to_string(ExpMode::Hardware), "hardware");
  EXPECT_EQ(parse_exp_mode("fast"), ExpMode::Fast);
  EXPECT_STREQ(to_string(ExpMode::Fast), "fast");
  try {
    parse_exp_mode("fastest");
    FAIL() << "no exception";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("exact"), std::string::npos) << message;
    EXPECT_NE(message.find("hardware"), std::string::npos) << message;
    EXPECT_NE(message.find("fast"), std::string::npos) << message;
  }
}

TEST(NumberFormatProperties, BitsAndUnitRoundoff) {
  EXPECT_EQ(mantissa_bits(NumberFormat::FP64), 52);
  EXPECT_EQ(mantissa_bits(NumberFormat::FP32), 23);
  EXPECT_EQ(mantissa_bits(NumberFormat::BF16), 7);
  EXPECT_EQ(mantissa_bits(NumberFormat::FP16), 10);
  EXPECT_EQ(exponent_bits(NumberFormat::FP64), 11);
  EXPECT_EQ(exponent_bits(NumberFormat::FP32), 8);
  EXPECT_EQ(exponent_bits(NumberFormat::BF16), 8);
  EXPECT_EQ(exponent_bits(NumberFormat::FP16), 5);
  EXPECT_EQ(unit_roundoff(NumberFormat::FP64), std::ldexp(1.0, -53));
  EXPECT_EQ(unit_roundoff(NumberFormat::FP32), std::ldexp(1.0, -24));
  EXPECT_EQ(unit_roundoff(NumberFormat::BF16), std::ldexp(1.0, -8));
  EXPECT_EQ(unit_roundoff(NumberFormat::FP16), std::ldexp(1.0, -11));
  EXPECT_EQ(unit_roundoff(NumberFormat::FP32), std::numeric_limits<float>::epsilon() / 2);
}

// ---- FP32: the hardware conversion is the reference --------------------------------------

TEST(RoundFP32, MatchesHardwareFloatConversionOnRandomDoubles) {
  // 2^-160 .. 2^140: below fp32's smallest subnormal (2^-149) up to beyond its overflow.
  const std::vector<double> values = random_doubles(1 << 20, -160, 140, 1);
  int mismatches = 0;
  for (double x : values) {
    const double expected = static_cast<double>(static_cast<float>(x));
    mismatches += !same_value(expected, round_to(NumberFormat::FP32, x));
    // The generic bit routine, instantiated for fp32, must agree too.
    mismatches += !same_value(expected, detail::round_to_binary<8, 23>(x));
    mismatches += !same_value(expected, reference_fp32(x));
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(RoundFP32, MatchesHardwareAtFloatMidpoints) {
  // Midpoints between random adjacent floats (normal and subnormal), and a double ulp off.
  std::mt19937 rng(2);
  int mismatches = 0;
  for (int k = 0; k < (1 << 18); ++k) {
    const std::uint32_t bits = rng() & 0x7F7FFFFEu;  // finite, not the largest
    const double lo = std::bit_cast<float>(bits);
    const double hi = std::bit_cast<float>(bits + 1);
    const double mid = (lo + hi) / 2;
    for (double x : {mid, std::nextafter(mid, kInf), std::nextafter(mid, 0.0), -mid}) {
      const double expected = static_cast<double>(static_cast<float>(x));
      mismatches += !same_value(expected, round_to(NumberFormat::FP32, x));
      mismatches += !same_value(expected, detail::round_to_binary<8, 23>(x));
    }
  }
  EXPECT_EQ(mismatches, 0);
  const double max_float = std::numeric_limits<float>::max();
  const double overflow_midpoint = max_float + std::ldexp(1.0, 103);  // max + ulp/2
  EXPECT_TRUE(same_value(kInf, round_to(NumberFormat::FP32, overflow_midpoint)));
  EXPECT_TRUE(same_value(max_float, round_to(NumberFormat::FP32, std::nextafter(overflow_midpoint, 0.0))));
  EXPECT_TRUE(same_value(std::ldexp(1.0, -149), round_to(NumberFormat::FP32, std::ldexp(1.5, -150))));
  EXPECT_TRUE(same_value(0.0, round_to(NumberFormat::FP32, std::ldexp(1.0, -150))));
}

// ---- FP16 / BF16: exhaustive over all bit patterns ------------------------------------------

struct SmallFormat {
  NumberFormat format;
  double (*decode)(std::uint16_t);
  double (*reference)(double);
  std::uint16_t max_finite_bits;  // positive patterns 0..max_finite_bits are increasing
};

// Every finite value maps to itself; every midpoint between neighbours goes to the one
// with the even last bit; anything off the midpoint (a double ulp, a relative 2^-30, a
// quarter step) goes to the nearer neighbour. All for both signs.
void check_exhaustive(const SmallFormat& fmt) {
  const NumberFormat F = fmt.format;
  int failures = 0;
  auto expect = [&](double expected, double x) {
    const bool ok = same_value(expected, round_to(F, x));
    if (!ok && failures < 10) {
      ADD_FAILURE() << to_string(F) << " x=" << std::hexfloat << x << " " << same_value(expected, round_to(F, x));
    }
    failures += !ok;
  };
  for (std::uint32_t k = 0; k <= fmt.max_finite_bits; ++k) {
    const double v = fmt.decode(static_cast<std::uint16_t>(k));
    EXPECT_EQ(fmt.decode(static_cast<std::uint16_t>(k | 0x8000)), -v);
    expect(v, v);
    expect(-v, -v);
    if (k == fmt.max_finite_bits) break;
    const double next = fmt.decode(static_cast<std::uint16_t>(k + 1));
    ASSERT_LT(v, next);
    const double mid = (v + next) / 2;  // exact in double
    const double even = (k % 2 == 0) ? v : next;
    expect(even, mid);
    expect(-even, -mid);
    expect(next, std::nextafter(mid, kInf));
    expect(v, std::nextafter(mid, 0.0));
    expect(-next, -std::nextafter(mid, kInf));
    expect(-v, -std::nextafter(mid, 0.0));
    // Offsets far below fp32 precision: double rounding through fp32 would land on the
    // midpoint and then tie to even; a single rounding must go to the nearer neighbour.
    expect(next, mid * (1 + std::ldexp(1.0, -30)));
    expect(v, mid * (1 - std::ldexp(1.0, -30)));
    expect(v, v + (next - v) / 4);
    expect(next, v + 3 * (next - v) / 4);
  }
  // Above the largest finite value: max + ulp/2 ties to the (odd) max's even neighbour,
  // 2^(emax+1), which is out of range: inf.
  const double max_finite = fmt.decode(fmt.max_finite_bits);
  const double below_max = fmt.decode(static_cast<std::uint16_t>(fmt.max_finite_bits - 1));
  const double overflow_midpoint = max_finite + (max_finite - below_max) / 2;
  expect(kInf, overflow_midpoint);
  expect(-kInf, -overflow_midpoint);
  expect(max_finite, std::nextafter(overflow_midpoint, 0.0));
  expect(kInf, 2 * max_finite);
  expect(kInf, std::numeric_limits<double>::max());
  expect(-kInf, std::numeric_limits<double>::lowest());
  // Far below the smallest subnormal: signed zero.
  expect(0.0, std::numeric_limits<double>::denorm_min());
  expect(-0.0, -std::numeric_limits<double>::denorm_min());
  expect(0.0, std::numeric_limits<double>::min());
  EXPECT_EQ(failures, 0) << to_string(F);
}

// Random doubles against the frexp/nearbyint reference.
void check_random(const SmallFormat& fmt, int min_exponent, int max_exponent) {
  int mismatches = 0;
  for (double x : random_doubles(1 << 19, min_exponent, max_exponent, 3)) {
    mismatches += !same_value(fmt.reference(x), round_to(fmt.format, x));
  }
  EXPECT_EQ(mismatches, 0) << to_string(fmt.format);
}

const SmallFormat kFP16{NumberFormat::FP16, decode_fp16, reference_fp16, 0x7BFF};
const SmallFormat kBF16{NumberFormat::BF16, decode_bf16, reference_bf16, 0x7F7F};

TEST(RoundFP16, DecoderIsSane) {
  EXPECT_EQ(decode_fp16(0x3C00), 1.0);
  EXPECT_EQ(decode_fp16(0x7BFF), 65504.0);
  EXPECT_EQ(decode_fp16(0x0001), std::ldexp(1.0, -24));
  EXPECT_EQ(decode_fp16(0x0400), std::ldexp(1.0, -14));
  EXPECT_EQ(decode_fp16(0xC000), -2.0);
  EXPECT_TRUE(std::isinf(decode_fp16(0x7C00)));
  EXPECT_TRUE(std::isnan(decode_fp16(0x7E00)));
}

TEST(RoundFP16, ExhaustiveNeighboursAndMidpoints) { check_exhaustive(kFP16); }

TEST(RoundFP16, RandomDoublesMatchReference) { check_random(kFP16, -30, 20); }

TEST(RoundFP16, OverflowAndUnderflowThresholds) {
  const NumberFormat F = NumberFormat::FP16;
  EXPECT_TRUE(same_value(kInf, round_to(F, 65520.0)));
  EXPECT_TRUE(same_value(-kInf, round_to(F, -65520.0)));
  EXPECT_TRUE(same_value(65504.0, round_to(F, 65519.99)));
  EXPECT_TRUE(same_value(65504.0, round_to(F, 65504.0)));
  EXPECT_TRUE(same_value(65504.0, round_to(F, 65510.0)));
  const double smallest = std::ldexp(1.0, -24);
  EXPECT_TRUE(same_value(smallest, round_to(F, smallest)));
  EXPECT_TRUE(same_value(0.0, round_to(F, smallest / 2)));  // tie to even: 0
  EXPECT_TRUE(same_value(-0.0, round_to(F, -smallest / 2)));
  EXPECT_TRUE(same_value(smallest, round_to(F, std::nextafter(smallest / 2, 1.0))));
  EXPECT_TRUE(same_value(smallest, round_to(F, smallest / 2 * (1 + 1e-6))));
  EXPECT_TRUE(same_value(0.0, round_to(F, std::nextafter(smallest / 2, 0.0))));
  EXPECT_TRUE(same_value(2 * smallest, round_to(F, 1.5 * smallest)));  // tie to even: 2
  EXPECT_TRUE(same_value(2 * smallest, round_to(F, 2.5 * smallest)));  // tie to even: 2
  EXPECT_TRUE(same_value(3 * smallest, round_to(F, 2.5 * smallest * (1 + 1e-9))));
  // Largest subnormal rounding up into the smallest normal.
  EXPECT_TRUE(same_value(std::ldexp(1.0, -14), round_to(F, std::ldexp(1.0, -14) - smallest / 2)));
  EXPECT_TRUE(same_value(1.0, round_to(F, 1.0 + std::ldexp(1.0, -11))));  // tie to even
  // 1 + 3*2^-11 lies between 1 + 2^-10 (odd) and 1 + 2^-9 (even).
  EXPECT_TRUE(same_value(1.0 + std::ldexp(1.0, -9), round_to(F, 1.0 + std::ldexp(3.0, -11))));
}

TEST(RoundBF16, DecoderMatchesUpperHalfOfFloat) {
  for (std::uint32_t k = 0; k < 0x10000; ++k) {
    const double via_float = std::bit_cast<float>(k << 16);
    const double decoded = decode_bf16(static_cast<std::uint16_t>(k));
    if (std::isnan(via_float)) {
      EXPECT_TRUE(std::isnan(decoded));
    } else {
      ASSERT_TRUE(same_value(via_float, decoded)) << k;
    }
  }
}

TEST(RoundBF16, ExhaustiveNeighboursAndMidpoints) { check_exhaustive(kBF16); }

TEST(RoundBF16, RandomDoublesMatchReference) { check_random(kBF16, -145, 135); }

TEST(RoundBF16, NoDoubleRoundingThroughFP32) {
  // 1 + 2^-8 is the midpoint of bf16 1 and 1 + 2^-7; 1 is even. A tiny offset above the
  // midpoint (2^-40: exact in double, lost in fp32) must round up; rounding through fp32
  // first would tie to 1.
  const double mid = 1.0 + std::ldexp(1.0, -8);
  const double x = mid + std::ldexp(1.0, -40);
  EXPECT_TRUE(same_value(1.0 + std::ldexp(1.0, -7), round_to(NumberFormat::BF16, x)));
  EXPECT_TRUE(same_value(1.0, round_to(NumberFormat::BF16, round_to(NumberFormat::FP32, x))))
      << "the double-rounding example is not a double-rounding example";
  EXPECT_TRUE(same_value(1.0, round_to(NumberFormat::BF16, mid - std::ldexp(1.0, -40))));
  EXPECT_TRUE(same_value(1.0 + std::ldexp(1.0, -7), round_to(NumberFormat::BF16, std::nextafter(mid, 2.0))));
  // The same in bf16's subnormal range (quantum 2^-133).
  const double sub_mid = std::ldexp(1.5, -133);  // between 2^-133 (odd) and 2^-132 (even)
  EXPECT_TRUE(same_value(std::ldexp(1.0, -132), round_to(NumberFormat::BF16, sub_mid)));
  EXPECT_TRUE(same_value(std::ldexp(1.0, -133),
                         round_to(NumberFormat::BF16, sub_mid - std::ldexp(1.0, -133 - 40))));
  EXPECT_TRUE(same_value(std::ldexp(1.0, -133), round_to(NumberFormat::BF16, std::ldexp(1.0, -134) * 1.0000001)));
  EXPECT_TRUE(same_value(0.0, round_to(NumberFormat::BF16, std::ldexp(1.0, -134))));
}

// ---- special values, every format ------------------------------------------------------------

TEST(RoundSpecialValues, NaNInfinityAndSignedZero) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (NumberFormat f : {NumberFormat::FP64, NumberFormat::FP32, NumberFormat::BF16, NumberFormat::FP16}) {
    SCOPED_TRACE(to_string(f));
    EXPECT_TRUE(std::isnan(round_to(f, nan)));
    EXPECT_TRUE(std::isnan(round_to(f, -nan)));
    EXPECT_TRUE(std::isnan(round_to(f, std::numeric_limits<double>::signaling_NaN())));
    EXPECT_TRUE(same_value(kInf, round_to(f, kInf)));
    EXPECT_TRUE(same_value(-kInf, round_to(f, -kInf)));
    EXPECT_TRUE(same_value(0.0, round_to(f, 0.0)));
    EXPECT_TRUE(same_value(-0.0, round_to(f, -0.0)));
    EXPECT_TRUE(same_value(1.0, round_to(f, 1.0)));
    EXPECT_TRUE(same_value(-3.0, round_to(f, -3.0)));
  }
  // The template fast path is the same function.
  for (double x : random_doubles(1 << 12, -150, 130, 4)) {
    EXPECT_TRUE(same_value(round_to(NumberFormat::BF16, x), round_as<NumberFormat::BF16>(x)));
    EXPECT_TRUE(same_value(round_to(NumberFormat::FP16, x), round_as<NumberFormat::FP16>(x)));
    EXPECT_TRUE(same_value(round_to(NumberFormat::FP32, x), round_as<NumberFormat::FP32>(x)));
    EXPECT_TRUE(same_value(x, round_as<NumberFormat::FP64>(x)));
  }
  static_assert(round_as<NumberFormat::BF16>(1.0 + 1.0 / 256) == 1.0, "constexpr, ties to even");
  static_assert(round_as<NumberFormat::FP16>(65520.0) == std::numeric_limits<double>::infinity());
}

// ---- hardware exp ---------------------------------------------------------------------------------

// Error bound of the hardware-exp datapath in compute format with unit roundoff u,
// following the operations of hardware_exp_as (first the exact math, then each rounding):
//   exp(x) = 2^(x L), L = log2(e). The datapath computes t' = fl(x fl(L)), so
//   |t' - xL| <= |x| L ((1+u)^2 - 1) = |x| L (2u + u^2); i = floor(t') is exact;
//   f' = fl(t' - i) adds an absolute error <= u (f < 1). Hence 2^(f' + i) = exp(x) 2^d with
//   |d| <= |x| L (2u + u^2) + u.
//   The polynomial with exact coefficients: p(f) = 2^f (1 + e_p), |e_p| <= E (the fit's
//   minimax error, hardware_exp_max_relative_error()). Rounding the (all positive)
//   coefficients: factor within (1 +- u). Horner with positive terms and f >= 0: the
//   c_j f^j term passes through 2j+1 roundings (j multiplies, j+1 adds; c5: 5+5=10), so
//   |p_hat / p_tilde - 1| <= H = max_f sum_j c_j f^j gamma(n_j) / sum_j c_j f^j,
//   gamma(n) = n u / (1 - n u). The final 2^i p rounding: factor (1 +- u) (normal result).
//   std::exp itself: within 1 ulp of double (2^-52).
//   bound(x) = 2^|d| (1 + E)(1 + u)^2 (1 + H) - 1 + 2^-52.
double horner_rounding_bound(double u) {
  const double c[6] = {detail::kExp2C0, detail::kExp2C1, detail::kExp2C2,
                       detail::kExp2C3, detail::kExp2C4, detail::kExp2C5};
  const int roundings[6] = {1, 3, 5, 7, 9, 10};
  double worst = 0;
  for (int k = 0; k <= 1000; ++k) {
    const double f = k / 1000.0;
    double weighted = 0, total = 0, power = 1;
    for (int j = 0; j < 6; ++j) {
      const double n = roundings[j];
      weighted += c[j] * power * (n * u / (1 - n * u));
      total += c[j] * power;
      power *= f;
    }
    worst = std::max(worst, weighted / total);
  }
  return worst * 1.01;  // the grid max of a smooth function: 1% margin
}

double hardware_exp_bound(double x, double u, double horner) {
  const double log2e = 1.4426950408889634;
  const double d = std::fabs(x) * log2e * (2 * u + u * u) + u;
  return std::exp2(d) * (1 + hardware_exp_max_relative_error()) * (1 + u) * (1 + u) * (1 + horner) - 1 +
         std::ldexp(1.0, -52);
}

struct ExpErrors {
  double max_all = 0;        // over the whole range
  double max_small_x = 0;    // over |x| <= 1
  double max_over_bound = 0;  // max of error / bound(x); must be <= 1
  double worst_x = 0;
};

ExpErrors measure_hardware_exp(NumberFormat compute, double lo, double hi, int points) {
  const double u = unit_roundoff(compute);
  const double horner = horner_rounding_bound(u);
  ExpErrors errors;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  for (int k = 0; k < points; ++k) {
    // A grid with a random offset in each cell, so that x is not a multiple of a power of 2.
    const double x = lo + (hi - lo) * ((k + jitter(rng)) / points);
    const double exact = std::exp(x);
    const double relative = std::fabs(hardware_exp(x, compute) / exact - 1);
    if (relative > errors.max_all) {
      errors.max_all = relative;
      errors.worst_x = x;
    }
    if (std::fabs(x) <= 1) errors.max_small_x = std::max(errors.max_small_x, relative);
    errors.max_over_bound = std::max(errors.max_over_bound, relative / hardware_exp_bound(x, u, horner));
  }
  std::printf("[ measured ] hardware_exp %s datapath on [%g, %g]: max rel error %.4g (at x=%.6g), "
              "%.4g for |x|<=1, max error/bound %.3f\n",
              to_string(compute), lo, hi, errors.max_all, errors.worst_x, errors.max_small_x,
              errors.max_over_bound);
  return errors;
}

TEST(HardwareExp, FP64DatapathIsThePolynomialError) {
  EXPECT_LT(hardware_exp_max_relative_error(), 1e-6);
  const ExpErrors e = measure_hardware_exp(NumberFormat::FP64, -87, 88, 1 << 22);
  EXPECT_LE(e.max_all, hardware_exp_max_relative_error());
  // The stated bound is tight: the measured maximum is within 5% of it.
  EXPECT_GE(e.max_all, 0.95 * hardware_exp_max_relative_error());
  EXPECT_LE(e.max_over_bound, 1.0);
}

TEST(HardwareExp, FP32DatapathWithinDerivedBound) {
  const ExpErrors e = measure_hardware_exp(NumberFormat::FP32, -87, 88, 1 << 21);
  EXPECT_LE(e.max_over_bound, 1.0);
  // |x| <= 1: bound(1) = 2^(L(2u+u^2)+u) (1+E)(1+u)^2(1+H) - 1 with H = 2.41u
  // (horner_rounding_bound) is E + 7.1u = 5.0e-7: the polynomial error plus a few fp32 ulps.
  const double u = unit_roundoff(NumberFormat::FP32);
  EXPECT_LE(e.max_small_x, hardware_exp_max_relative_error() + 7.2 * u);
  // Over [-87, 88] the rounding of t = x log2e dominates: bound(88) = 1.087e-5 (181u).
  EXPECT_LE(e.max_all, 1.1e-5);
}

TEST(HardwareExp, BF16DatapathWithinDerivedBound) {
  const ExpErrors e = measure_hardware_exp(NumberFormat::BF16, -87, 88, 1 << 20);
  EXPECT_LE(e.max_over_bound, 1.0);
  // |x| <= 1 with u = 2^-8: 2^d - 1 <= 2^(1.4427 (2u + u^2) + u) - 1 = 0.0106, coefficient
  // and final rounding 2u = 0.0078, Horner H = 2.44u = 0.0095: bound(1) = 0.0282 < 2^-5.
  // (Over [-87, 88] the bound grows to 1.03 at |x| = 88: t = x log2e keeps 8 bits.)
  EXPECT_LE(e.max_small_x, std::ldexp(1.0, -5));
}

TEST(HardwareExp, FP16DatapathWithinDerivedBound) {
  // fp16 results stay normal for x in [-9.7, 11.08]; stay inside.
  const ExpErrors e = measure_hardware_exp(NumberFormat::FP16, -9.5, 11, 1 << 20);
  EXPECT_LE(e.max_over_bound, 1.0);
}

TEST(HardwareExp, SpecialValuesAndExtremes) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (NumberFormat f : {NumberFormat::FP64, NumberFormat::FP32, NumberFormat::BF16, NumberFormat::FP16}) {
    SCOPED_TRACE(to_string(f));
    EXPECT_TRUE(same_value(0.0, hardware_exp(-kInf, f)));
    EXPECT_TRUE(same_value(kInf, hardware_exp(kInf, f)));
    EXPECT_TRUE(std::isnan(hardware_exp(nan, f)));
    EXPECT_TRUE(same_value(0.0, hardware_exp(-1000, f)));
    EXPECT_TRUE(same_value(kInf, hardware_exp(1000, f)));
    EXPECT_TRUE(same_value(0.0, hardware_exp(-1e300, f)));
    EXPECT_TRUE(same_value(kInf, hardware_exp(1e300, f)));
    EXPECT_TRUE(same_value(0.0, hardware_exp(std::numeric_limits<double>::lowest(), f)));
    // exp(0) = c0 rounded to the format: 1 - 7.5e-8 in fp64, 1 - 2^-24 in fp32, 1 in bf16/fp16.
    EXPECT_NEAR(hardware_exp(0.0, f), 1.0, 2 * unit_roundoff(f) + hardware_exp_max_relative_error());
    EXPECT_NEAR(hardware_exp(-0.0, f), 1.0, 2 * unit_roundoff(f) + hardware_exp_max_relative_error());
    // Every result is a value of the compute format.
    for (double x : {-3.7, -0.25, 0.1, 2.5, 7.0}) {
      const double y = hardware_exp(x, f);
      EXPECT_TRUE(same_value(round_to(f, y), y)) << x;
    }
  }
  // Overflow thresholds: fp32 max 3.4028e38 = exp(88.72); fp16 max 65504 = exp(11.09).
  EXPECT_TRUE(std::isinf(hardware_exp(89.0, NumberFormat::FP32)));
  EXPECT_FALSE(std::isinf(hardware_exp(88.5, NumberFormat::FP32)));
  EXPECT_TRUE(std::isinf(hardware_exp(11.2, NumberFormat::FP16)));
  EXPECT_FALSE(std::isinf(hardware_exp(11.0, NumberFormat::FP16)));
  EXPECT_TRUE(std::isinf(hardware_exp(710.0, NumberFormat::FP64)));
}

TEST(HardwareExp, GradualUnderflowThroughSubnormals) {
  // Results below the compute format's smallest normal are rounded to its subnormal grid:
  // |hw - exp(x)| <= exp(x) * (relative bound) + quantum / 2.
  struct Case {
    NumberFormat format;
    double x;
    double quantum;  // smallest subnormal
  };
  for (const Case& c : {Case{NumberFormat::FP32, -95.0, std::ldexp(1.0, -149)},
                        Case{NumberFormat::FP32, -100.0, std::ldexp(1.0, -149)},
                        Case{NumberFormat::FP32, -103.0, std::ldexp(1.0, -149)},
                        Case{NumberFormat::BF16, -90.0, std::ldexp(1.0, -133)},
                        Case{NumberFormat::FP16, -12.0, std::ldexp(1.0, -24)},
                        Case{NumberFormat::FP16, -16.0, std::ldexp(1.0, -24)},
                        Case{NumberFormat::FP64, -740.0, std::ldexp(1.0, -1074)}}) {
    SCOPED_TRACE(std::string(to_string(c.format)) + " x=" + std::to_string(c.x));
    const double u = unit_roundoff(c.format);
    const double exact = std::exp(c.x);
    const double y = hardware_exp(c.x, c.format);
    EXPECT_GT(y, 0.0);
    EXPECT_EQ(std::fmod(y, c.quantum), 0.0);
    EXPECT_LE(std::fabs(y - exact), exact * hardware_exp_bound(c.x, u, horner_rounding_bound(u)) + c.quantum / 2);
  }
  // Below half the smallest subnormal: +0.
  EXPECT_TRUE(same_value(0.0, hardware_exp(-105.0, NumberFormat::FP32)));  // exp(-105) = 2.5e-46
  EXPECT_TRUE(same_value(0.0, hardware_exp(-18.0, NumberFormat::FP16)));   // exp(-18) = 1.5e-8
}

TEST(HardwareExp, ExpInDispatch) {
  for (double x : {-20.0, -1.5, 0.0, 0.3, 5.0}) {
    EXPECT_TRUE(same_value(static_cast<double>(static_cast<float>(std::exp(x))),
                           exp_in(ExpMode::Exact, NumberFormat::FP32, x)));
    EXPECT_TRUE(same_value(std::exp(x), exp_in(ExpMode::Exact, NumberFormat::FP64, x)));
    for (NumberFormat f : {NumberFormat::FP64, NumberFormat::FP32, NumberFormat::BF16, NumberFormat::FP16}) {
      EXPECT_TRUE(same_value(hardware_exp(x, f), exp_in(ExpMode::Hardware, f, x)));
    }
    EXPECT_TRUE(same_value(hardware_exp(x, NumberFormat::BF16),
                           (exp_as<ExpMode::Hardware, NumberFormat::BF16>(x))));
    EXPECT_TRUE(same_value(exp_in(ExpMode::Exact, NumberFormat::FP16, x),
                           (exp_as<ExpMode::Exact, NumberFormat::FP16>(x))));
  }
  EXPECT_TRUE(same_value(0.0, exp_in(ExpMode::Exact, NumberFormat::FP16, -30.0)));
  EXPECT_TRUE(same_value(kInf, exp_in(ExpMode::Exact, NumberFormat::BF16, 100.0)));
}

}  // namespace
}  // namespace cascade
