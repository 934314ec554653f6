// Divisors from the factorisation: the same set as trial division, fast at any 64-bit size.
#include "mappings/mappers/divisors.h"

#include <gtest/gtest.h>

#include <chrono>

namespace cascade {
namespace {

std::vector<int64_t> by_trial_division(int64_t n) {
  std::vector<int64_t> out;
  for (int64_t d = n; d >= 1; --d)
    if (n % d == 0) out.push_back(d);
  return out;
}

TEST(Divisors, EqualTrialDivisionOnSmallNumbers) {
  for (int64_t n = 1; n <= 3000; ++n) EXPECT_EQ(divisors_descending(n), by_trial_division(n)) << n;
}

TEST(Divisors, LargeNumbersFactorQuickly) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(divisors_descending(int64_t{1} << 62).size(), 63u);
  EXPECT_EQ(divisors_descending(735134400).size(), 1344u);
  EXPECT_EQ(divisors_descending(897612484786617600).size(), 103680u);  // the most below 2^63
  // Two primes near 2^31.5: Pollard's rho, not trial division up to the square root.
  const int64_t p = 3037000493, q = 3037000453;
  EXPECT_EQ(divisors_descending(p * q), (std::vector<int64_t>{p * q, p, q, 1}));
  EXPECT_EQ(divisors_descending(9223372036854775783).size(), 2u);  // the largest prime < 2^63
  EXPECT_EQ(prime_factors(9223372036854775807ull), (std::vector<uint64_t>{7, 7, 73, 127, 337, 92737, 649657}));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
}

}  // namespace
}  // namespace cascade
