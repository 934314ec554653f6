#include "arch/support/checked.h"

#include <fmt/core.h>
#include <unistd.h>

#include <cmath>

namespace cascade {

namespace checked_detail {

void overflow(const SourceLocation& where, const std::string& what, const char* op,
              const std::string& a, const std::string& b, const char* type) {
  throw Error(where, fmt::format("{} is too large: {} {} {} exceeds {}", what, a, op, b, type));
}

}  // namespace checked_detail

int64_t checked_to_int64(double v, const std::string& what, const SourceLocation& where) {
  // 2^63 is exactly representable; every double below it converts without overflow.
  if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0))
    throw Error(where, fmt::format("{} is too large: {:.6g} exceeds 2^63 - 1", what, v));
  return static_cast<int64_t>(v);
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  int u = 0;
  while (bytes >= 1024 && u < 8) {
    bytes /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.2f} {}", bytes, units[u]);
}

uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

void check_memory(double bytes, const std::string& what, const SourceLocation& where) {
  const uint64_t have = physical_memory_bytes();
  const double limit = have > 0 ? static_cast<double>(have) : 1e18;
  if (!(bytes <= limit))
    throw Error(where, fmt::format("{} would need {} of memory; this machine has {}", what,
                                   std::isfinite(bytes) ? human_bytes(bytes) : "more than 2^1024 B",
                                   human_bytes(static_cast<double>(have))));
}

}  // namespace cascade
