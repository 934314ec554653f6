// The extrapolation's window of steady slices (steady_window.h) against sequences whose
// every-slice total is known: extrapolating the first slices must give it.
#include "sim/systemc/steady_window.h"

#include <gtest/gtest.h>

#include <vector>

namespace cascade {
namespace {

// Slice ends from a fill of `fill` cycles, then `increments` repeated, the last slice
// `drain` cycles later than the pattern says.
std::vector<double> ends(int64_t n, double fill, const std::vector<double>& increments,
                         double drain) {
  std::vector<double> e;
  double t = fill;
  for (int64_t k = 0; k < n; ++k) {
    if (k > 0) t += increments[static_cast<size_t>(k - 1) % increments.size()];
    e.push_back(t);
  }
  e.back() += drain;
  return e;
}

// What the cycle model does with the window: the simulated ends plus (n - N) steps.
double extrapolate(const std::vector<double>& simulated, int64_t n, int64_t warm) {
  const SteadyWindow w = steady_window(simulated, warm);
  const double step = (simulated[w.hi] - simulated[w.lo]) / static_cast<double>(w.hi - w.lo);
  return simulated.back() + static_cast<double>(n - static_cast<int64_t>(simulated.size())) * step;
}

TEST(SteadyWindow, EqualIncrementsUseTheWholeMiddle) {
  const SteadyWindow w = steady_window(ends(10, 500, {70}, 30), 3);
  EXPECT_EQ(w.lo, 3);
  EXPECT_EQ(w.hi, 6);
  EXPECT_EQ(w.period, 1);
}

// FLAT's materialized kernels overlapped across heads, BERT-base 4K (tests/data/mappings/
// flat-materialized-b2-4k.yaml, every slice simulated): the slices end 392,378 and 218,071
// cycles apart in turn. Ten of 24 slices extrapolate to the 24's end only over a whole number
// of periods: the whole middle (3 increments) would weigh the long one twice (-5.5 %).
TEST(SteadyWindow, AlternatingSlicesAreMeasuredOverWholePeriods) {
  const std::vector<double> increments = {392378, 218071};
  const double fill = 582749, drain = -22000;
  const double every = ends(24, fill, increments, drain).back();
  const std::vector<double> simulated = ends(10, fill, increments, drain);
  const SteadyWindow w = steady_window(simulated, 3);
  EXPECT_EQ(w.period, 2);
  EXPECT_EQ(w.hi, 6);
  EXPECT_EQ(w.lo, 4);
  EXPECT_DOUBLE_EQ(extrapolate(simulated, 24, 3), every);
  const double whole_middle = simulated.back() + 14 * (simulated[6] - simulated[3]) / 3;
  EXPECT_GT(std::abs(whole_middle - every) / every, 0.05);
}

TEST(SteadyWindow, ThreeSlicePeriod) {
  const std::vector<double> increments = {100, 250, 40};
  const std::vector<double> simulated = ends(14, 900, increments, 77);
  const SteadyWindow w = steady_window(simulated, 3);
  EXPECT_EQ(w.period, 3);
  EXPECT_EQ(w.hi, 10);
  EXPECT_EQ(w.lo, 4);  // 7 middle increments: two periods
  // 302 - 14 slices: a whole number of periods (else one period's spread remains).
  EXPECT_DOUBLE_EQ(extrapolate(simulated, 302, 3), ends(302, 900, increments, 77).back());
}

TEST(SteadyWindow, RepeatsWithinTheTolerance) {
  // Increments 1,000,000 +- 400 cycles: within 0.1 % of each other, one period.
  std::vector<double> e = {0};
  for (int k = 1; k < 10; ++k) e.push_back(e.back() + 1e6 + (k % 2 ? 400 : -400));
  EXPECT_EQ(steady_window(e, 3).period, 1);
  EXPECT_EQ(steady_window(e, 3, 1e-4).period, 2);  // a tighter tolerance sees the rhythm
}

TEST(SteadyWindow, NoRepeatUsesTheWholeMiddle) {
  const std::vector<double> e = {0, 10, 30, 70, 150, 310, 630, 1270, 2550, 5110};
  const SteadyWindow w = steady_window(e, 3);
  EXPECT_EQ(w.lo, 3);
  EXPECT_EQ(w.hi, 6);
  EXPECT_EQ(w.period, 3);
}

TEST(SteadyWindow, TooFewSlicesUseThemAll) {
  const SteadyWindow w = steady_window({5, 9, 20, 21, 40}, 3);
  EXPECT_EQ(w.lo, 0);
  EXPECT_EQ(w.hi, 4);
  EXPECT_EQ(steady_window({5}, 3).hi, 0);
  EXPECT_EQ(steady_window({}, 3).hi, 0);
}

}  // namespace
}  // namespace cascade
