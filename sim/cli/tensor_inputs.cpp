#include "sim/cli/tensor_inputs.h"

#include <fmt/core.h>

#include <algorithm>

#include "arch/support/files.h"
#include "arch/support/names.h"
#include "sim/functional/tensor_file.h"

namespace cascade::cli {

namespace {

// Tensor files are data, not configs: a larger cap than kMaxInputBytes.
constexpr size_t kMaxTensorFileBytes = size_t{1} << 30;

std::vector<std::string> input_names(const Cascade& c) {
  std::vector<std::string> names;
  for (const TensorDecl& d : c.inputs) names.push_back(d.name);
  return names;
}

}  // namespace

std::map<std::string, GivenTensor> read_tensor_inputs(const Cascade& c, const std::vector<std::string>& items,
                                               std::vector<std::pair<std::string, std::string>>& files) {
  std::map<std::string, GivenTensor> given;
  auto add = [&](const std::string& name, Tensor t, const std::string& source) {
    if (c.find_tensor(name) == nullptr ||
        std::none_of(c.inputs.begin(), c.inputs.end(),
                     [&](const TensorDecl& d) { return d.name == name; }))
      throw Error("--input " + source + ": '" + name + "' is not an input of cascade " + c.name +
                  " (inputs: " + join(input_names(c)) + ")" + did_you_mean(name, input_names(c)));
    if (given.count(name))
      throw Error("--input: " + name + " is given twice (" + given[name].source + " and " +
                  source + ")");
    given[name] = {std::move(t), source};
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

// Shapes from the given tensors for every rank --set leaves open; two files that disagree
// are an error naming both.
void infer_shapes(const Cascade& c, const std::map<std::string, GivenTensor>& given,
                  std::map<std::string, std::string>& settings) {
  std::map<std::string, std::pair<int64_t, std::string>> inferred;
  for (const TensorDecl& d : c.inputs) {
    const auto it = given.find(d.name);
    if (it == given.end()) continue;
    const std::vector<int64_t>& extents = it->second.tensor.extents;
    if (extents.size() != d.ranks.size())
      throw Error("--input " + it->second.source + ": " + d.name + " has " +
                  std::to_string(extents.size()) + " dimensions " + shape_text(extents) +
                  ", the cascade's " + d.name + "[" + join(d.ranks, ", ") + "] has " +
                  std::to_string(d.ranks.size()));
    for (size_t k = 0; k < d.ranks.size(); ++k) {
      const std::string& rank = d.ranks[k];
      if (settings.count(rank)) continue;
      const auto [slot, fresh] = inferred.emplace(rank, std::pair{extents[k], d.name});
      if (!fresh && slot->second.first != extents[k])
        throw Error("--input: rank " + rank + " is " + std::to_string(slot->second.first) +
                    " in " + slot->second.second + " but " + std::to_string(extents[k]) + " in " +
                    d.name + " (" + it->second.source + ")");
    }
  }
  for (const auto& [rank, value] : inferred) settings[rank] = std::to_string(value.first);
}

void check_input_shape(const Cascade& c, const Bindings& b, const TensorDecl& d,
                       const GivenTensor& given) {
  const std::vector<int64_t> want = tensor_extents(*c.find_tensor(d.name), b);
  if (given.tensor.extents != want)
    throw Error("--input " + given.source + ": " + d.name + " has shape " +
                shape_text(given.tensor.extents) + " but " + d.name + "[" + join(d.ranks, ", ") +
                "] is " + shape_text(want) + " at " + shapes_line(b));
}

std::string shapes_line(const Bindings& b) {
  std::string out;
  for (const auto& [name, value] : b.shapes)
    out += fmt::format("{}{}={}", out.empty() ? "" : " ", name, value);
  return out;
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
