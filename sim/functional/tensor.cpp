// Tensor storage and the executor's format and extent helpers (sim/functional/executor.h).
#include <string>

#include "arch/support/checked.h"
#include "sim/functional/executor.h"

namespace cascade {

Tensor::Tensor(std::vector<int64_t> shape, double fill) : extents(std::move(shape)) {
  int64_t n = 1;
  for (int64_t e : extents) {
    if (e < 0) throw Error("tensor extent " + std::to_string(e) + " is negative");
    n = checked_mul(n, e, "a tensor's element count");
  }
  const double bytes = static_cast<double>(n) * sizeof(double);
  if (bytes > double(1 << 30)) check_memory(bytes, "a tensor of " + std::to_string(n) + " elements");
  values.assign(static_cast<size_t>(n), fill);
}

double tensor_bytes(const Cascade& cascade, const Bindings& bindings) {
  double total = 0;
  for (const TensorInfo& t : cascade.tensors) {
    double n = 1;
    for (int64_t e : tensor_extents(t, bindings)) n *= static_cast<double>(e);
    total += n * sizeof(double);
  }
  return total;
}

int64_t Tensor::offset(const std::vector<int64_t>& index) const {
  if (index.size() != extents.size())
    throw Error("tensor index has " + std::to_string(index.size()) + " components, tensor has " +
                std::to_string(extents.size()) + " dimensions");
  int64_t off = 0;
  for (size_t d = 0; d < extents.size(); ++d) {
    if (index[d] < 0 || index[d] >= extents[d])
      throw Error("tensor index " + std::to_string(index[d]) + " out of range [0, " +
                  std::to_string(extents[d]) + ") in dimension " + std::to_string(d));
    off = off * extents[d] + index[d];
  }
  return off;
}

NumberFormat default_accumulation(NumberFormat storage) {
  return storage == NumberFormat::FP64 ? NumberFormat::FP64 : NumberFormat::FP32;
}

std::vector<int64_t> tensor_extents(const TensorInfo& tensor, const Bindings& bindings) {
  std::vector<int64_t> extents;
  for (size_t d = 0; d < tensor.ranks.size(); ++d)
    extents.push_back(checked_add(bindings.shape(tensor.ranks[d]),
                                  d < tensor.extra.size() ? tensor.extra[d] : int64_t{0},
                                  "extent " + tensor.ranks[d] + " of tensor " + tensor.name));
  return extents;
}

}  // namespace cascade
