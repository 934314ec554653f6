#include "sim/functional/rounding_noise.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <set>

#include "mappings/analysis/evaluation_order.h"

namespace cascade::executor_detail {

namespace {

// FNV-1a: a platform-independent hash of an Einsum's name for its noise stream.
uint64_t name_hash(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

double maximum(double a, double b) {  // NaN-propagating, as the executor's
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  return a > b ? a : b;
}

}  // namespace

NoiseFormat NoiseFormat::of(NumberFormat f) {
  if (f == NumberFormat::FP64) return {};
  return {mantissa_bits(f) + 1, 2 - (1 << (exponent_bits(f) - 1))};
}

// The location separates an iterative Einsum's init from its body (same output name).
RoundingNoise::RoundingNoise(uint64_t seed, const Einsum& einsum)
    : state_(seed * 0x9e3779b97f4a7c15ULL ^ name_hash(einsum.output) ^
             (static_cast<uint64_t>(einsum.loc.line) << 32 | static_cast<uint64_t>(einsum.loc.column))) {}

double RoundingNoise::uniform_sign() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-52 - 1.0;
}

double RoundingNoise::perturb(double x, const NoiseFormat& f) {
  if (x == 0 || f.precision == 0 || !std::isfinite(x)) return x;
  // |x| in [2^binade, 2^(binade+1)): the double's exponent field (x is normal in double
  // wherever the formats above round it; below their normal range the ulp stays fixed).
  const int exponent = static_cast<int>((std::bit_cast<uint64_t>(x) >> 52) & 0x7ff) - 1023;
  const int binade = std::max(exponent, f.min_exponent);
  const double half_ulp = std::bit_cast<double>(static_cast<uint64_t>(binade - f.precision + 1023) << 52);
  return x + uniform_sign() * half_ulp;
}

double RoundingNoise::hardware_exp(double x, NumberFormat accumulate, const NoiseFormat& r) {
  if (std::isnan(x)) return x;
  const double t = perturb(x * round_to(accumulate, detail::kLog2E), r);
  if (!(std::fabs(t) < 2048.0)) return t > 0 ? std::numeric_limits<double>::infinity() : 0.0;
  const double i = std::floor(t);
  const double frac = t - i;
  double p = round_to(accumulate, detail::kExp2C5);
  for (double c : {detail::kExp2C4, detail::kExp2C3, detail::kExp2C2, detail::kExp2C1, detail::kExp2C0})
    p = perturb(perturb(p * frac, r) + round_to(accumulate, c), r);
  return std::ldexp(p, static_cast<int>(i));
}

// The fast exp's steps (number_format.h, fast_exp_as), each rounding replaced by noise.
double RoundingNoise::fast_exp(double x, NumberFormat accumulate, const NoiseFormat& r) {
  if (std::isnan(x)) return x;
  const double t = perturb(x * round_to(accumulate, detail::kLog2E), r);
  if (!(std::fabs(t) < 2048.0)) return t > 0 ? std::numeric_limits<double>::infinity() : 0.0;
  const double i = std::floor(t);
  const double frac = t - i;
  const int k = std::min(7, static_cast<int>(frac * 8.0));
  const double p = perturb(perturb(round_to(accumulate, detail::kExpFastB[k]) * frac, r) +
                               round_to(accumulate, detail::kExpFastA[k]),
                           r);
  return std::ldexp(p, static_cast<int>(i));
}

double RoundingNoise::function(Function function, double a, double b, ExpMode exp,
                               NumberFormat accumulate, const NoiseFormat& r) {
  auto exp_noisy = [&](double x) {
    if (exp == ExpMode::Fast) return fast_exp(x, accumulate, r);
    return exp == ExpMode::Exact ? perturb(std::exp(x), r) : hardware_exp(x, accumulate, r);
  };
  switch (function) {
    case Function::Exp: return exp_noisy(a);
    case Function::Sqrt: return perturb(std::sqrt(a), r);
    case Function::Log: return perturb(std::log(a), r);
    case Function::Abs: return std::fabs(a);
    case Function::Relu: return a > 0 ? a : (std::isnan(a) ? a : 0.0);
    case Function::Elu1: return a > 0 ? perturb(a + 1.0, r) : exp_noisy(a);
    case Function::Sigmoid: return perturb(1.0 / perturb(1.0 + exp_noisy(-a), r), r);
    case Function::Tanh: return perturb(std::tanh(a), r);
    case Function::Softplus:
      return perturb(std::max(a, 0.0) + perturb(std::log1p(exp_noisy(-std::fabs(a))), r), r);
    case Function::Max: return maximum(a, b);
    case Function::Min: return -maximum(-a, -b);
    case Function::Pow: return perturb(std::pow(a, b), r);
  }
  return 0;
}

std::vector<bool> einsums_reading_inputs(const Cascade& cascade) {
  std::vector<bool> reads(cascade.einsums.size(), false);
  std::set<std::string> dependent;
  for (const TensorDecl& in : cascade.inputs) dependent.insert(in.name);
  for (const EinsumGroup& group : evaluation_order(cascade))
    for (int pass = 0; pass < 2; ++pass)  // twice: a recurrence reads its own group
      for (int e : group.einsums)
        for (const TensorInfo& t : cascade.tensors)
          if (dependent.count(t.name) && std::count(t.consumers.begin(), t.consumers.end(), e)) {
            reads[e] = true;
            dependent.insert(cascade.einsums[e].output);
          }
  return reads;
}

}  // namespace cascade::executor_detail
