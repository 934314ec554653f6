// `cascade check`: runs a cascade through the functional executor on seeded random inputs
// and compares its output with the independent fp64 reference the cascade names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mappings/cascade/cascade.h"
#include "sim/functional/executor.h"

namespace cascade {

// Reproducible standard-normal inputs: the same seed gives the same bits on every
// platform (SplitMix64 + Box-Muller written out, no std::normal_distribution).
void fill_normal(Tensor& tensor, uint64_t seed, double stddev = 1.0);

struct CheckOptions {
  ExecutionOptions execution;
  uint64_t seed = 1;
  double input_stddev = 1.0;
  // Inputs given by the user (by name; the others are drawn from the seed).
  const TensorMap* inputs = nullptr;
  // Compare with the user's outputs by name (`against_name` names them in messages), or with
  // another cascade run in fp64 on the same inputs, instead of the built-in reference.
  const std::map<std::string, Tensor>* against = nullptr;
  std::string against_name;
  const Cascade* reference_cascade = nullptr;
  const Bindings* reference_bindings = nullptr;
  // A relative max-error tolerance of the user's instead of the statistical one (0: none).
  double tolerance = 0;
};

struct OutputComparison {
  std::string tensor;
  double max_abs_error = 0;    // max |executor - reference|
  double reference_scale = 0;  // max |reference|
  double relative_error = 0;   // max_abs_error / reference_scale
  double rms_error = 0;        // rms(executor - reference) / rms(reference)
  double tolerance = 0;        // what `passed` compares relative_error (or, absolute, max_abs_error) with
  double rms_tolerance = 0;    // ... and rms_error with (see Tolerance)
  double bias = 0;             // sum((executor - reference) * sign(reference)) / sum|reference|
  double bias_tolerance = 0;   // ... and |bias| with
  bool absolute = false;       // tolerance applies to max_abs_error (fp64) or relative
  bool passed = false;
};

struct CheckResult {
  std::string reference;  // e.g. "softmax (causal)"
  std::vector<OutputComparison> outputs;
  double execute_seconds = 0;
  double reference_seconds = 0;
  double tolerance_seconds = 0;  // the rounding-noise runs
  bool passed() const;
};

// What an output's error may be: a statistical tolerance that can fail.
//   fp64 storage and accumulation: max |error| <= 1e-12, absolute.
//   Otherwise the cascade runs kNoiseRuns times on the same inputs in the rounding-noise
//   model (ExecutionOptions::rounding_noise: fp64 arithmetic, every documented rounding
//   replaced by independent noise of up to half an ulp of its format), and once exactly in
//   fp64. The noise runs' deviations from the exact run are what rounding alone does to this
//   computation on these data. Each statistic of the executor's error against the reference
//   -- max relative error (max|e| / max|ref|), RMS relative error (rms e / rms ref) -- may be
//   at most kModelMargin x (the runs' mean + kSpreadSigmas x their standard deviation), and
//   the bias (sum e sign(ref) / sum |ref|) at most kBiasSigmas x the runs' RMS bias.
// A formula bug is far outside (the noise runs are compared with the same cascade's exact
// values, not with the reference). Measured on every shipped cascade (tests/agreement/
// test_statistical_tolerance.cpp) the executor's RMS error is 0.6-1.05x the noise runs' mean:
// noise of half an ulp has the size of round-to-nearest's error on data with random low bits.
// What fails (same test): one truncating rounding (bias), an accumulator or a running state
// in a narrower format than documented (RMS 1.4x and more), and a sum that stagnates under
// round-to-nearest (a long running state in bf16), none of which unbiased noise does.
// What cannot fail it: an error that cancels (a common factor of numerator and denominator).
struct Tolerance {
  bool absolute = false;
  double max_relative = 0;  // absolute: the max |error|
  double rms_relative = 0;
  double bias = 0;
};
inline constexpr int kNoiseRuns = 8;
inline constexpr double kModelMargin = 1.2;
inline constexpr double kSpreadSigmas = 6;
inline constexpr double kBiasSigmas = 5;
inline constexpr double kFp64AbsoluteTolerance = 1e-12;
inline constexpr double kNoLimit = 1e300;

// The tolerance of every output of the cascade for these inputs (already rounded to their
// storage formats, as check_cascade rounds them); deterministic for a seed.
std::map<std::string, Tolerance> statistical_tolerances(const Cascade& cascade, const Bindings& bindings,
                                                        const TensorMap& inputs,
                                                        const ExecutionOptions& options, uint64_t seed);

// `got` against `want` (same extents) under `tolerance`.
OutputComparison compare_output(const std::string& name, const Tensor& got, const Tensor& want,
                                const Tolerance& tolerance);

// Random inputs for every declared input tensor (seed + input index).
TensorMap random_inputs(const Cascade& cascade, const Bindings& bindings, uint64_t seed,
                        double stddev);

// Runs the reference the cascade names on the inputs (inputs already rounded to the
// storage format, so the comparison sees only the cascade's own rounding). Returns the
// reference output tensor in the cascade's output layout.
Tensor run_reference(const Cascade& cascade, const Bindings& bindings, const TensorMap& inputs,
                     std::string& description);

// Compares with the built-in reference the cascade's `reference:` names, or with what
// `against` / `reference_cascade` give; throws Error, before running anything, when there is
// nothing to compare with.
CheckResult check_cascade(const Cascade& cascade, const Bindings& bindings,
                          const CheckOptions& options);

}  // namespace cascade
