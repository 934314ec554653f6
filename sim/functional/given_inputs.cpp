#include "sim/functional/given_inputs.h"

#include <fmt/core.h>

#include <algorithm>

#include "arch/support/names.h"
#include "sim/functional/check.h"
#include "sim/functional/tensor_file.h"

namespace cascade {

namespace {

std::vector<std::string> input_names(const Cascade& c) {
  std::vector<std::string> names;
  for (const TensorDecl& d : c.inputs) names.push_back(d.name);
  return names;
}

std::string prefix(const std::string& option, const std::string& source) {
  return source.empty() ? option : option + " " + source;
}

}  // namespace

void add_given_tensor(GivenTensors& given, const Cascade& c, const std::string& name, Tensor t,
                      const std::string& source, const std::string& option) {
  if (c.find_tensor(name) == nullptr ||
      std::none_of(c.inputs.begin(), c.inputs.end(),
                   [&](const TensorDecl& d) { return d.name == name; }))
    throw Error(prefix(option, source) + ": '" + name + "' is not an input of cascade " + c.name +
                " (inputs: " + join(input_names(c)) + ")" + did_you_mean(name, input_names(c)));
  if (given.count(name))
    throw Error(option + ": " + name + " is given twice (" + given[name].source + " and " + source +
                ")");
  given[name] = {std::move(t), source};
}

void infer_shapes(const Cascade& c, const GivenTensors& given,
                  std::map<std::string, std::string>& settings, const std::string& option) {
  std::map<std::string, std::pair<int64_t, std::string>> inferred;
  for (const TensorDecl& d : c.inputs) {
    const auto it = given.find(d.name);
    if (it == given.end()) continue;
    const std::vector<int64_t>& extents = it->second.tensor.extents;
    if (extents.size() != d.ranks.size())
      throw Error(prefix(option, it->second.source) + ": " + d.name + " has " +
                  std::to_string(extents.size()) + " dimensions " + shape_text(extents) +
                  ", the cascade's " + d.name + "[" + join(d.ranks, ", ") + "] has " +
                  std::to_string(d.ranks.size()));
    for (size_t k = 0; k < d.ranks.size(); ++k) {
      const std::string& rank = d.ranks[k];
      if (settings.count(rank)) continue;
      const auto [slot, fresh] = inferred.emplace(rank, std::pair{extents[k], d.name});
      if (!fresh && slot->second.first != extents[k])
        throw Error(option + ": rank " + rank + " is " + std::to_string(slot->second.first) +
                    " in " + slot->second.second + " but " + std::to_string(extents[k]) + " in " +
                    d.name + (it->second.source.empty() ? "" : " (" + it->second.source + ")"));
    }
  }
  for (const auto& [rank, value] : inferred) settings[rank] = std::to_string(value.first);
}

void check_input_shape(const Cascade& c, const Bindings& b, const TensorDecl& d,
                       const GivenTensor& given, const std::string& option) {
  const std::vector<int64_t> want = tensor_extents(*c.find_tensor(d.name), b);
  if (given.tensor.extents != want)
    throw Error(prefix(option, given.source) + ": " + d.name + " has shape " +
                shape_text(given.tensor.extents) + " but " + d.name + "[" + join(d.ranks, ", ") +
                "] is " + shape_text(want) + " at " + shapes_line(b));
}

std::string shapes_line(const Bindings& b) {
  std::string out;
  for (const auto& [name, value] : b.shapes)
    out += fmt::format("{}{}={}", out.empty() ? "" : " ", name, value);
  return out;
}

PreparedInputs prepare_inputs(const Cascade& c, GivenTensors given,
                              std::map<std::string, std::string> settings, uint64_t seed,
                              const std::string& option) {
  infer_shapes(c, given, settings, option);
  PreparedInputs out;
  out.bindings = resolve_bindings(c, settings);
  out.inputs = random_inputs(c, out.bindings, seed, 1.0);
  for (const TensorDecl& d : c.inputs) {
    const auto it = given.find(d.name);
    if (it == given.end()) {
      out.drawn.push_back(d.name);
      continue;
    }
    check_input_shape(c, out.bindings, d, it->second, option);
    out.inputs[d.name] = std::move(it->second.tensor);
  }
  return out;
}

}  // namespace cascade
