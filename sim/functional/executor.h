// The functional executor: evaluates a validated cascade on concrete tensors.
//
// Where rounding happens (this is the datapath the RTL implements):
//   1. Inputs are rounded to their storage format when loaded.
//   2. Every arithmetic result (+ - * /, exp, sqrt, pow, log, elu1, tanh) is rounded to the
//      accumulation format; max/min/relu/abs/negation are exact; sigmoid and softplus are
//      their rounded steps (sigmoid_in, softplus_in in number_format.h). Parameters and numeric
//      constants are rounded to the accumulation format once.
//   3. Reductions (implicit sums, sum(...), max(...)) accumulate sequentially in
//      ascending index order, rounding to the accumulation format after every step.
//      A product feeding a sum is rounded before it is added (separate multiply and add,
//      no fused multiply-add; with bf16/fp16 operands and an fp32 accumulator the product
//      is exact, so this equals a bf16-multiply / fp32-accumulate MAC).
//   4. In a sum (implicit, or sum(...)) of a product, the factors that do not depend on the
//      summed variables (a scale, a parameter, a read indexed only by outer variables) are
//      hoisted: the product as written without them is summed as in 3, and the finished,
//      rounded sum is multiplied by each of them once, in the order they are written,
//      rounding after each multiply. `Q[e, p] * K[e, m] * scale` is
//      round(round(sum_e round(Q * K)) * scale), not a sum of round(round(Q * K) * scale).
//      This is what the operator counter counts (mappings/analysis/operator_counts.h).
//   5. Each Einsum's result is rounded to its output tensor's storage format when stored.
// The storage format is `storage` unless the cascade's `formats:` overrides a tensor.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mappings/cascade/cascade.h"
#include "sim/functional/number_format.h"

namespace cascade {

// A dense row-major tensor of values carried as doubles (exactly representable in the
// tensor's format).
struct Tensor {
  std::vector<int64_t> extents;
  std::vector<double> values;

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> shape, double fill = 0.0);
  int64_t size() const { return static_cast<int64_t>(values.size()); }
  int64_t offset(const std::vector<int64_t>& index) const;
  double at(const std::vector<int64_t>& index) const { return values[offset(index)]; }
  double& at(const std::vector<int64_t>& index) { return values[offset(index)]; }
};
using TensorMap = std::map<std::string, Tensor>;

struct ExecutionOptions {
  NumberFormat storage = NumberFormat::FP64;
  NumberFormat accumulate = NumberFormat::FP64;
  ExpMode exp = ExpMode::Exact;
  // The rounding-noise model behind `check`'s statistical tolerance (sim/functional/check.h):
  // arithmetic in fp64, and every rounding of steps 2-5 above replaced by x + d * ulp(x) / 2,
  // d uniform in [-1, 1] from a counter seeded with noise_seed, ulp in the format the step
  // rounds to (an fp64 step stays exact). Inputs, parameters, constants and Einsums that
  // read no input (tables of parameters and indices) are rounded as usual; max/min/abs/
  // negation stay exact; the hardware exp keeps its rounded coefficients. Unbiased and
  // independent by construction: the error a correctly rounded datapath of these formats
  // shows on data with random low bits, without round-to-nearest's systematic effects
  // (stagnating sums).
  bool rounding_noise = false;
  uint64_t noise_seed = 1;
};

// The accumulation format a user gets when they only choose a storage format:
// fp32 for bf16/fp16 storage (what tensor-core style MACs do), otherwise the same.
NumberFormat default_accumulation(NumberFormat storage);

// Extents of a tensor for the given shapes (iterative dimensions get their extra slot).
std::vector<int64_t> tensor_extents(const TensorInfo& tensor, const Bindings& bindings);
// Bytes of every tensor of the cascade (inputs, intermediates, outputs) at these shapes.
double tensor_bytes(const Cascade& cascade, const Bindings& bindings);

// Evaluates every Einsum of the cascade. `inputs` must hold every declared input with the
// right extents (Error otherwise). Returns inputs (rounded) and every produced tensor.
TensorMap execute(const Cascade& cascade, const Bindings& bindings, const TensorMap& inputs,
                  const ExecutionOptions& options);

}  // namespace cascade
