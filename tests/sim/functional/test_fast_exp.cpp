// The fast exp (number_format.h, fast_exp_as; `--exp fast`, the RTL's pe_2d_fastexp):
// its error bound over the fp32 range, its segments, special values and dispatch. Its bit
// equality with the RTL is tests/hdl/test_pe_2d (the fastexp variant).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sim/functional/number_format.h"

namespace cascade {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The segments are fp32 values and continuous to within the error bound.
TEST(FastExp, SegmentsAreFp32AndNearlyContinuous) {
  for (int k = 0; k < 8; ++k) {
    EXPECT_EQ(detail::kExpFastA[k], round_as<NumberFormat::FP32>(detail::kExpFastA[k]));
    EXPECT_EQ(detail::kExpFastB[k], round_as<NumberFormat::FP32>(detail::kExpFastB[k]));
    if (k == 0) continue;
    const double f = k / 8.0;
    const double left = detail::kExpFastA[k - 1] + detail::kExpFastB[k - 1] * f;
    const double right = detail::kExpFastA[k] + detail::kExpFastB[k] * f;
    EXPECT_LT(std::fabs(left / right - 1), 2 * fast_exp_max_relative_error()) << k;
  }
}

// Max relative error vs std::exp on a dense grid over [-87, 88] (fp32 normal results):
// fp64 datapath within the fit's bound; fp32 adds t's rounding (as the hardware exp).
TEST(FastExp, MaxRelativeError) {
  double worst64 = 0, worst32 = 0;
  for (int j = 0; j <= 2000000; ++j) {
    const double x = -87.0 + 175.0 * j / 2000000.0;
    const double e = std::exp(x);
    worst64 = std::max(worst64, std::fabs(fast_exp(x, NumberFormat::FP64) / e - 1));
    const double x32 = round_as<NumberFormat::FP32>(x);
    worst32 = std::max(worst32, std::fabs(fast_exp(x32, NumberFormat::FP32) / std::exp(x32) - 1));
  }
  EXPECT_LT(worst64, fast_exp_max_relative_error());
  EXPECT_GT(worst64, 4.6e-4);  // the fit's error, reached
  EXPECT_LT(worst32, fast_exp_max_relative_error() + 1e-5);
}

TEST(FastExp, SpecialValuesAndDispatch) {
  for (NumberFormat f : {NumberFormat::FP64, NumberFormat::FP32, NumberFormat::BF16, NumberFormat::FP16}) {
    EXPECT_TRUE(std::isnan(fast_exp(std::nan(""), f)));
    EXPECT_EQ(fast_exp(kInf, f), kInf);
    EXPECT_EQ(fast_exp(-kInf, f), 0.0);
    EXPECT_FALSE(std::signbit(fast_exp(-kInf, f)));
    for (double x : {-20.0, -1.5, 0.0, 0.3, 5.0}) EXPECT_EQ(fast_exp(x, f), exp_in(ExpMode::Fast, f, x));
  }
  EXPECT_EQ(fast_exp(-105.0, NumberFormat::FP32), 0.0);  // below half the smallest subnormal
  EXPECT_EQ(fast_exp(89.0, NumberFormat::FP32), kInf);
  EXPECT_EQ(fast_exp(0.0, NumberFormat::FP32), detail::kExpFastA[0]);  // p(0) = a_0
  // a subnormal result, 2^-140 * p
  const double sub = fast_exp(-97.0, NumberFormat::FP32);
  EXPECT_GT(sub, 0.0);
  EXPECT_LT(sub, 0x1p-126);
  EXPECT_LT(std::fabs(sub / std::exp(-97.0) - 1), 1e-2);
  EXPECT_EQ(fast_exp(-1.5, NumberFormat::BF16), (exp_as<ExpMode::Fast, NumberFormat::BF16>(-1.5)));
}

}  // namespace
}  // namespace cascade
