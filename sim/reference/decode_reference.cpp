// fp64 decode reference (see the header): per query head, the scores against every key,
// the max subtracted, exp, the sum, the weighted sum of the values, one division.
#include "sim/reference/decode_reference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace cascade::reference {
namespace {

constexpr const char* kWhere = "decode reference";

[[noreturn]] void fail(const std::string& message) {
  throw Error(std::string(kWhere) + ": " + message);
}

void check_size(const char* tensor, std::span<const double> data, int64_t expected,
                const char* formula) {
  if (static_cast<int64_t>(data.size()) != expected)
    fail(std::string(tensor) + " has " + std::to_string(data.size()) + " elements, expected " +
         formula + " = " + std::to_string(expected));
}

}  // namespace

std::vector<double> decode_attention(const DecodeShape& shape, std::span<const double> Q,
                                     std::span<const double> K, std::span<const double> V,
                                     double scale) {
  const std::pair<const char*, int64_t> entries[] = {
      {"M", shape.M}, {"E", shape.E}, {"F", shape.F}, {"H", shape.H}, {"G", shape.G}};
  for (const auto& [name, value] : entries)
    if (value < 1) fail(std::string(name) + " = " + std::to_string(value) + " must be >= 1");
  if (shape.H % shape.G != 0)
    fail("the query heads H = " + std::to_string(shape.H) +
         " are not a multiple of the group size G = " + std::to_string(shape.G));
  if (!std::isfinite(scale)) fail("scale must be finite");
  const int64_t M = shape.M, E = shape.E, F = shape.F, H = shape.H, HK = shape.kv_heads();
  check_size("Q", Q, E * H, "E*H");
  check_size("K", K, E * M * HK, "E*M*HK");
  check_size("V", V, F * M * HK, "F*M*HK");

  std::vector<double> out(static_cast<size_t>(F * H), 0.0);
  std::vector<double> weight(static_cast<size_t>(M));
  for (int64_t h = 0; h < H; ++h) {
    const int64_t j = h / shape.G;
    double max = -std::numeric_limits<double>::infinity();
    for (int64_t m = 0; m < M; ++m) {
      double dot = 0.0;
      for (int64_t e = 0; e < E; ++e) dot += Q[e * H + h] * K[(e * M + m) * HK + j];
      weight[m] = scale * dot;
      max = std::max(max, weight[m]);
    }
    double sum = 0.0;
    for (int64_t m = 0; m < M; ++m) {
      weight[m] = std::exp(weight[m] - max);
      sum += weight[m];
    }
    for (int64_t f = 0; f < F; ++f) {
      double acc = 0.0;
      for (int64_t m = 0; m < M; ++m) acc += weight[m] * V[(f * M + m) * HK + j];
      out[f * H + h] = acc / sum;
    }
  }
  return out;
}

}  // namespace cascade::reference
