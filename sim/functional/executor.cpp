#include "sim/functional/executor.h"

#include <vector>

#include "arch/support/checked.h"
#include "mappings/analysis/evaluation_order.h"
#include "sim/functional/kernel.h"
#include "sim/functional/rounding_noise.h"

namespace cascade {

using executor_detail::einsums_reading_inputs;
using executor_detail::Kernel;

TensorMap execute(const Cascade& cascade, const Bindings& bindings, const TensorMap& inputs,
                  const ExecutionOptions& options) {
  std::map<std::string, NumberFormat> formats;
  for (const TensorInfo& t : cascade.tensors)
    formats[t.name] = t.format.empty() ? options.storage : parse_number_format(t.format);

  TensorMap tensors;
  for (const TensorDecl& in : cascade.inputs) {
    const TensorInfo* info = cascade.find_tensor(in.name);
    auto it = inputs.find(in.name);
    if (it == inputs.end()) throw Error(in.loc, "no values given for input tensor " + in.name);
    const std::vector<int64_t> expected = tensor_extents(*info, bindings);
    if (it->second.extents != expected) {
      std::string want, got;
      for (int64_t e : expected) want += (want.empty() ? "" : "x") + std::to_string(e);
      for (int64_t e : it->second.extents) got += (got.empty() ? "" : "x") + std::to_string(e);
      throw Error(in.loc, "input " + in.name + " should be " + want + ", got " + got);
    }
    Tensor t = it->second;
    const NumberFormat f = formats.at(in.name);
    for (double& v : t.values) v = round_to(f, v);
    tensors[in.name] = std::move(t);
  }
  // Sizes are checked before anything is allocated: what would not fit is an Error saying
  // how much it needs, not bad_alloc or the OOM killer.
  check_memory(tensor_bytes(cascade, bindings), "executing cascade " + cascade.name);
  for (const TensorInfo& t : cascade.tensors)
    if (t.producer >= 0) tensors[t.name] = Tensor(tensor_extents(t, bindings));

  // The noise model perturbs only what depends on the inputs (rounding_noise.h).
  const std::vector<bool> reads_inputs = options.rounding_noise
                                             ? einsums_reading_inputs(cascade)
                                             : std::vector<bool>(cascade.einsums.size());
  for (const EinsumGroup& group : evaluation_order(cascade)) {
    std::vector<Kernel> kernels;
    kernels.reserve(group.einsums.size());
    for (int e : group.einsums) {
      const Einsum& einsum = cascade.einsums[e];
      ExecutionOptions own = options;
      own.rounding_noise = options.rounding_noise && reads_inputs[e];
      if (einsum.init) Kernel(cascade, bindings, init_einsum(einsum), tensors, formats, own).run();
      kernels.emplace_back(cascade, bindings, einsum, tensors, formats, own);
    }
    if (group.iterative_variable.empty()) {
      kernels[0].run();
      continue;
    }
    const int64_t steps = bindings.shape(rank_of_variable(group.iterative_variable));
    std::vector<int> slots;
    for (const Kernel& kernel : kernels)
      slots.push_back(kernel.slot_of_output_variable(group.iterative_variable));
    for (int64_t k = 0; k < steps; ++k)
      for (size_t i = 0; i < kernels.size(); ++i) kernels[i].run(slots[i], k);
  }
  return tensors;
}

}  // namespace cascade
