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
};

struct OutputComparison {
  std::string tensor;
  double max_abs_error = 0;    // max |executor - reference|
  double reference_scale = 0;  // max |reference|
  double relative_error = 0;   // max_abs_error / reference_scale
  double tolerance = 0;        // what `passed` compares against (see error_bound)
  bool absolute = false;       // tolerance applies to max_abs_error (fp64) or relative
  bool passed = false;
};

struct CheckResult {
  std::string reference;  // e.g. "softmax (causal)"
  std::vector<OutputComparison> outputs;
  double execute_seconds = 0;
  double reference_seconds = 0;
  bool passed() const;
};

// The tolerance for one format: fp64 max abs error 1e-12; fp32 relative 1e-5 (the
// issue's bounds); bf16/fp16 relative c(u) derived in check.cpp from the number of
// roundings on the longest dependency chain.
double error_bound(const Cascade& cascade, const Bindings& bindings, const ExecutionOptions& options,
                   bool& absolute);

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
