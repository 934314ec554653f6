#include "mappings/mappers/divisors.h"

#include <algorithm>
#include <numeric>

namespace cascade {

namespace {

using u128 = unsigned __int128;

uint64_t mul_mod(uint64_t a, uint64_t b, uint64_t m) {
  return static_cast<uint64_t>(static_cast<u128>(a) * b % m);
}

uint64_t pow_mod(uint64_t a, uint64_t e, uint64_t m) {
  uint64_t r = 1;
  a %= m;
  for (; e > 0; e >>= 1) {
    if (e & 1) r = mul_mod(r, a, m);
    a = mul_mod(a, a, m);
  }
  return r;
}

// Deterministic for every 64-bit n with these bases.
bool is_prime(uint64_t n) {
  if (n < 2) return false;
  for (uint64_t p : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37})
    if (n % p == 0) return n == p;
  uint64_t d = n - 1;
  int s = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    ++s;
  }
  for (uint64_t a : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}) {
    uint64_t x = pow_mod(a, d, n);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int r = 1; r < s && composite; ++r) {
      x = mul_mod(x, x, n);
      if (x == n - 1) composite = false;
    }
    if (composite) return false;
  }
  return true;
}

// A non-trivial factor of an odd composite n (Brent's variant of Pollard's rho).
uint64_t rho(uint64_t n) {
  for (uint64_t c = 1;; ++c) {
    auto f = [&](uint64_t x) { return (mul_mod(x, x, n) + c) % n; };
    uint64_t x = 2, y = 2, d = 1;
    while (d == 1) {
      x = f(x);
      y = f(f(y));
      d = std::gcd(x > y ? x - y : y - x, n);
    }
    if (d != n) return d;
  }
}

void factor(uint64_t n, std::vector<uint64_t>& out) {
  if (n == 1) return;
  if (is_prime(n)) {
    out.push_back(n);
    return;
  }
  for (uint64_t p : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37})
    if (n % p == 0) {
      out.push_back(p);
      factor(n / p, out);
      return;
    }
  const uint64_t d = rho(n);
  factor(d, out);
  factor(n / d, out);
}

}  // namespace

std::vector<uint64_t> prime_factors(uint64_t n) {
  std::vector<uint64_t> out;
  if (n == 0) return out;
  factor(n, out);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<int64_t> divisors_descending(int64_t n) {
  if (n < 1) return {};
  std::vector<int64_t> divisors = {1};
  const std::vector<uint64_t> primes = prime_factors(static_cast<uint64_t>(n));
  for (size_t i = 0; i < primes.size();) {
    size_t j = i;
    while (j < primes.size() && primes[j] == primes[i]) ++j;
    const size_t count = divisors.size();
    int64_t power = 1;
    for (size_t k = i; k < j; ++k) {
      power *= static_cast<int64_t>(primes[i]);  // a divisor of n: no overflow
      for (size_t d = 0; d < count; ++d) divisors.push_back(divisors[d] * power);
    }
    i = j;
  }
  std::sort(divisors.begin(), divisors.end(), std::greater<>());
  return divisors;
}

}  // namespace cascade
