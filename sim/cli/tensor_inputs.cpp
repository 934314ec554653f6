#include "sim/cli/tensor_inputs.h"

#include <fmt/core.h>

#include <algorithm>

#include "arch/support/files.h"
#include "sim/functional/tensor_file.h"

namespace cascade::cli {

namespace {

// Tensor files are data, not configs: a larger cap than kMaxInputBytes.
constexpr size_t kMaxTensorFileBytes = size_t{1} << 30;

}  // namespace

std::map<std::string, GivenTensor> read_tensor_inputs(const Cascade& c, const std::vector<std::string>& items,
                                               std::vector<std::pair<std::string, std::string>>& files) {
  std::map<std::string, GivenTensor> given;
  auto add = [&](const std::string& name, Tensor t, const std::string& source) {
    add_given_tensor(given, c, name, std::move(t), source, "--input");
  };
  for (const std::string& item : items) {
    const size_t eq = item.find('=');
    const std::string path = eq == std::string::npos ? item : item.substr(eq + 1);
    files.emplace_back(path, "--input");
    const std::string bytes = read_input_file(path, "tensor file", kMaxTensorFileBytes);
    if (eq == std::string::npos) {
      if (!path.ends_with(".npz"))
        throw Error("--input " + item + ": give NAME=FILE.npy, or a FILE.npz whose entries are "
                    "named after the inputs");
      for (auto& [name, t] : parse_npz(bytes, path)) add(name, std::move(t), path + ":" + name);
    } else {
      add(item.substr(0, eq), parse_npy(bytes, path), path);
    }
  }
  return given;
}

std::map<std::string, Tensor> read_against(const Cascade& c, const std::string& path) {
  const std::string bytes = read_input_file(path, "reference outputs file", kMaxTensorFileBytes);
  std::map<std::string, Tensor> out;
  if (path.ends_with(".npz")) {
    for (auto& [name, t] : parse_npz(bytes, path)) out[name] = std::move(t);
  } else {
    if (c.outputs.size() != 1)
      throw Error("--against " + path + ": cascade " + c.name + " has " +
                  std::to_string(c.outputs.size()) + " outputs; give a .npz with one entry each");
    out[c.outputs[0]] = parse_npy(bytes, path);
  }
  return out;
}

}  // namespace cascade::cli
