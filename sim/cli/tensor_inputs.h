// What `eval` and `check` share: tensors given with --input (.npy / .npz), the shapes they
// imply, and the checks of their shapes against the cascade's ranks.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "mappings/cascade/cascade.h"
#include "sim/functional/executor.h"

namespace cascade::cli {

struct GivenTensor {
  Tensor tensor;
  std::string source;  // "FILE" or "FILE.npz:NAME" for messages
};

// --input NAME=FILE.npy or --input FILE.npz (every entry an input of the same name); each file
// read is appended to `files` (for refusing an output over an input).
std::map<std::string, GivenTensor> read_tensor_inputs(
    const Cascade& c, const std::vector<std::string>& items,
    std::vector<std::pair<std::string, std::string>>& files);

// Shapes from the given tensors for every rank `settings` leaves open; two files that
// disagree are an error naming both.
void infer_shapes(const Cascade& c, const std::map<std::string, GivenTensor>& given,
                  std::map<std::string, std::string>& settings);

// An Error unless `given` has the extents of input `decl` at these shapes.
void check_input_shape(const Cascade& c, const Bindings& b, const TensorDecl& decl,
                       const GivenTensor& given);

// "E=64 F=64 M=300 P=100"
std::string shapes_line(const Bindings& b);

// Every entry of --against FILE.npz (or one FILE.npy, named after the cascade's only output).
std::map<std::string, Tensor> read_against(const Cascade& c, const std::string& path);

}  // namespace cascade::cli
