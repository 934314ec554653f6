#include "sim/systemc/tensor_difference.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace cascade {

std::vector<TensorDifference> compare_bitwise(const TensorMap& expected, const TensorMap& actual,
                                              const std::vector<std::string>& names) {
  std::vector<TensorDifference> out;
  for (const std::string& name : names) {
    TensorDifference d;
    d.tensor = name;
    const Tensor& a = expected.at(name);
    const Tensor& b = actual.at(name);
    if (a.extents != b.extents) {
      d.first = "different extents";
      d.differing = std::max(a.size(), b.size());
      out.push_back(d);
      continue;
    }
    d.elements = a.size();
    for (int64_t i = 0; i < a.size(); ++i) {
      const double x = a.values[static_cast<size_t>(i)], y = b.values[static_cast<size_t>(i)];
      if ((std::isnan(x) && std::isnan(y)) || std::memcmp(&x, &y, sizeof x) == 0) continue;
      if (d.differing++ == 0) {
        std::string at;
        int64_t rest = i;
        std::vector<int64_t> index(a.extents.size());
        for (size_t k = a.extents.size(); k-- > 0;) {
          index[k] = rest % a.extents[k];
          rest /= a.extents[k];
        }
        for (size_t k = 0; k < index.size(); ++k) at += (k ? ", " : "") + std::to_string(index[k]);
        d.first = fmt::format("{}[{}]: expected {:.9g}, got {:.9g}", name, at, x, y);
      }
    }
    out.push_back(d);
  }
  return out;
}

}  // namespace cascade
