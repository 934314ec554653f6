#include "sim/systemc/steady_window.h"

#include <cmath>

namespace cascade {

SteadyWindow steady_window(const std::vector<double>& end, int64_t warm, double tolerance) {
  const int64_t n = static_cast<int64_t>(end.size());
  SteadyWindow w;
  w.lo = warm, w.hi = n - 1 - warm;
  if (w.hi - w.lo < 1) {
    w.lo = 0, w.hi = n > 0 ? n - 1 : 0;
    return w;
  }
  const int64_t length = w.hi - w.lo;  // increments d[k] = end[k] - end[k - 1], k in (lo, hi]
  const double mean = (end[w.hi] - end[w.lo]) / static_cast<double>(length);
  auto d = [&](int64_t k) { return end[k] - end[k - 1]; };
  w.period = length;
  for (int64_t p = 1; p < length; ++p) {
    bool repeats = true;
    for (int64_t k = w.lo + 1; k + p <= w.hi && repeats; ++k)
      repeats = std::fabs(d(k + p) - d(k)) <= tolerance * std::fabs(mean);
    if (repeats) {
      w.period = p;
      break;
    }
  }
  w.lo = w.hi - length / w.period * w.period;
  return w;
}

}  // namespace cascade
