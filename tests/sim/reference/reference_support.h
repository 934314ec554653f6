// What the fp64 reference tests share: random inputs, differences, expected errors.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "arch/support/error.h"
#include "sim/reference/attention_reference.h"

namespace cascade::reference_test {

using cascade::reference::AttentionShape;

inline std::vector<double> random_vector(std::mt19937_64& rng, int64_t n, double lo = -1.0,
                                  double hi = 1.0) {
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (double& x : v) x = dist(rng);
  return v;
}

struct Inputs {
  std::vector<double> Q, K, V;
};

inline Inputs random_inputs(std::mt19937_64& rng, const AttentionShape& s, double lo = -1.0,
                     double hi = 1.0) {
  return {random_vector(rng, s.E * s.P, lo, hi), random_vector(rng, s.E * s.M, lo, hi),
          random_vector(rng, s.F * s.M, lo, hi)};
}

inline double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    worst = std::max(worst, std::abs(a[i] - b[i]));
  }
  return worst;
}

// Runs `call`, expects a cascade::Error whose message contains every `needle`.
inline void expect_error_naming(const std::function<void()>& call,
                         const std::vector<std::string>& needles) {
  try {
    call();
    ADD_FAILURE() << "expected cascade::Error";
  } catch (const cascade::Error& error) {
    const std::string message = error.what();
    for (const std::string& needle : needles) {
      EXPECT_NE(message.find(needle), std::string::npos)
          << "message '" << message << "' does not name '" << needle << "'";
    }
  }
}
}  // namespace cascade::reference_test
