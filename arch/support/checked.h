// Checked integer arithmetic for sizes that come from users (shapes, batch, heads, sweep
// axes, tensor extents): a result that does not fit its type is an Error naming the
// quantity, never a wrapped-around number. Use these wherever a user-given size is
// multiplied or added in an integer type.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "arch/support/error.h"

namespace cascade {

namespace checked_detail {
[[noreturn]] void overflow(const SourceLocation& where, const std::string& what, const char* op,
                           const std::string& a, const std::string& b, const char* type);
template <typename T>
const char* type_name() {
  return std::is_signed_v<T> ? "2^63 - 1 (a signed 64-bit integer)"
                             : "2^64 - 1 (an unsigned 64-bit integer)";
}
}  // namespace checked_detail

// a * b; an Error "<what> is too large: a x b exceeds ..." when it does not fit in T.
template <typename T>
T checked_mul(T a, T b, const std::string& what, const SourceLocation& where = {}) {
  static_assert(std::is_integral_v<T>);
  T r;
  if (__builtin_mul_overflow(a, b, &r))
    checked_detail::overflow(where, what, "x", std::to_string(a), std::to_string(b),
                             checked_detail::type_name<T>());
  return r;
}

// a + b; an Error naming `what` when it does not fit in T.
template <typename T>
T checked_add(T a, T b, const std::string& what, const SourceLocation& where = {}) {
  static_assert(std::is_integral_v<T>);
  T r;
  if (__builtin_add_overflow(a, b, &r))
    checked_detail::overflow(where, what, "+", std::to_string(a), std::to_string(b),
                             checked_detail::type_name<T>());
  return r;
}

// ceil(a / b) for a >= 0, b > 0, without the overflow of (a + b - 1) / b.
template <typename T>
constexpr T ceil_div_exact(T a, T b) {
  return a / b + (a % b != 0 ? 1 : 0);
}

// A double that must be a count representable in int64 (e.g. from a floating estimate).
int64_t checked_to_int64(double v, const std::string& what, const SourceLocation& where = {});

// Bytes as "1.50 GiB" (for messages about sizes).
std::string human_bytes(double bytes);

// Physical memory of this machine in bytes (0 if unknown); the limit allocations are
// checked against before they are made.
uint64_t physical_memory_bytes();
// Throws an Error saying how much `what` would need when `bytes` exceeds the physical
// memory (so a size that cannot be allocated is refused with a message, not bad_alloc or
// the OOM killer).
void check_memory(double bytes, const std::string& what, const SourceLocation& where = {});

}  // namespace cascade
