// The divisors of a 64-bit integer from its factorisation (Miller-Rabin and Pollard's rho),
// so a mapper that tries tile counts dividing a rank visits at most the number's divisors
// (at most 103,680 below 2^63) instead of counting down from the number itself.
#pragma once

#include <cstdint>
#include <vector>

namespace cascade {

// Prime factors of n >= 1 with multiplicity, ascending.
std::vector<uint64_t> prime_factors(uint64_t n);
// Every divisor of n >= 1, largest first.
std::vector<int64_t> divisors_descending(int64_t n);

}  // namespace cascade
