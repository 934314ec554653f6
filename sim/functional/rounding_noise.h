// The rounding-noise model of the functional executor (ExecutionOptions::rounding_noise,
// behind `check`'s statistical tolerance): each rounding of the documented order replaced by
// noise of up to half an ulp of its format. Used by sim/functional/executor.cpp only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mappings/cascade/cascade.h"
#include "sim/functional/executor_kernel.h"
#include "sim/functional/number_format.h"

namespace cascade::executor_detail {

// The format a noisy step stands in for.
struct NoiseFormat {
  int precision = 0;     // significand bits p; 0: exact (fp64 steps stay exact)
  int min_exponent = 0;  // of the smallest normal, 2^min_exponent
  static NoiseFormat of(NumberFormat f);
};

// One Einsum's noise stream (deterministic for the seed and the Einsum).
class RoundingNoise {
 public:
  RoundingNoise(uint64_t seed, const Einsum& einsum);
  // What rounding to nearest would change, half an ulp of `f` at x, scaled by d uniform in
  // [-1, 1]: the size and distribution of round-to-nearest's error on data whose low bits are
  // random. 0, inf and NaN stay as they are.
  double perturb(double x, const NoiseFormat& f);
  // A value function (executor_kernel.h) of a (and b, for max, min, pow) in the noise model:
  // the exact value, perturbed once per rounding of its documented steps (number_format.h:
  // sigmoid and softplus round three times); the hardware exp as below.
  double function(Function function, double a, double b, ExpMode exp, NumberFormat accumulate,
                  const NoiseFormat& r);
  // number_format.h's hardware exp with its constants rounded to `accumulate` (systematic,
  // as in the datapath) and its rounded steps perturbed instead; t - i and the scaling by
  // 2^i are exact there (no noise).
  double hardware_exp(double x, NumberFormat accumulate, const NoiseFormat& r);
  double fast_exp(double x, NumberFormat accumulate, const NoiseFormat& r);

 private:
  double uniform_sign();  // uniform in [-1, 1), SplitMix64
  uint64_t state_;
};

// Which Einsums read an input, directly or through other Einsums. The noise model perturbs
// only those: a table of parameters and indices alone (decay powers, say) is the same
// constant on every run, rounded as in the datapath, its error systematic like a rounded
// parameter's.
std::vector<bool> einsums_reading_inputs(const Cascade& cascade);

}  // namespace cascade::executor_detail
