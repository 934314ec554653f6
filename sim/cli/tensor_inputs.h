// What `eval` and `check` share: tensors given with --input (.npy / .npz) and --against
// (their shapes and checks: sim/functional/given_inputs.h).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "mappings/cascade/cascade.h"
#include "sim/functional/executor.h"
#include "sim/functional/given_inputs.h"

namespace cascade::cli {

// --input NAME=FILE.npy or --input FILE.npz (every entry an input of the same name); each file
// read is appended to `files` (for refusing an output over an input).
std::map<std::string, GivenTensor> read_tensor_inputs(
    const Cascade& c, const std::vector<std::string>& items,
    std::vector<std::pair<std::string, std::string>>& files);

// Every entry of --against FILE.npz (or one FILE.npy, named after the cascade's only output).
std::map<std::string, Tensor> read_against(const Cascade& c, const std::string& path);

}  // namespace cascade::cli
