// Tensors a user gives a cascade (read from .npy/.npz files by the CLI's `eval` and `check`,
// NumPy arrays in the Python module): which inputs they are, the shapes they imply, the
// checks of their shapes against the cascade's ranks, and the inputs not given drawn as
// `check` draws them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mappings/cascade/cascade.h"
#include "sim/functional/executor.h"

namespace cascade {

struct GivenTensor {
  Tensor tensor;
  std::string source;  // "FILE" or "FILE.npz:NAME" for messages; may be ""
};
using GivenTensors = std::map<std::string, GivenTensor>;

// Messages start with `option` (where the tensors were given: "--input", "inputs") and the
// source, when there is one.

// Adds `name` to `given`; an Error unless it is an input of the cascade, given once.
void add_given_tensor(GivenTensors& given, const Cascade& c, const std::string& name, Tensor t,
                      const std::string& source, const std::string& option);

// Shapes from the given tensors for every rank `settings` leaves open; two tensors that
// disagree are an error naming both.
void infer_shapes(const Cascade& c, const GivenTensors& given,
                  std::map<std::string, std::string>& settings, const std::string& option);

// An Error unless `given` has the extents of input `decl` at these shapes.
void check_input_shape(const Cascade& c, const Bindings& b, const TensorDecl& decl,
                       const GivenTensor& given, const std::string& option);

// "E=64 F=64 M=300 P=100"
std::string shapes_line(const Bindings& b);

struct PreparedInputs {
  Bindings bindings;
  TensorMap inputs;                // every declared input
  std::vector<std::string> drawn;  // inputs not given: drawn N(0, 1) from the seed
};
// What `eval` runs on: bindings from `settings` and the given tensors' shapes, the given
// tensors checked against them, and every input not given drawn as `check` draws it.
PreparedInputs prepare_inputs(const Cascade& c, GivenTensors given,
                              std::map<std::string, std::string> settings, uint64_t seed,
                              const std::string& option);

}  // namespace cascade
