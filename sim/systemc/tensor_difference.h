// Bit-for-bit comparison of two tensor maps: data mode's verdict against the functional
// executor (plain C++).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/functional/executor.h"

namespace cascade {

// Bit-for-bit comparison of `names` in two tensor maps (NaN equals NaN).
struct TensorDifference {
  std::string tensor;
  int64_t elements = 0, differing = 0;
  std::string first;  // the first differing element, "" when equal
};
std::vector<TensorDifference> compare_bitwise(const TensorMap& expected, const TensorMap& actual,
                                              const std::vector<std::string>& names);

}  // namespace cascade
