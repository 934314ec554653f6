// `cascade eval`: the functional executor on the user's tensors (.npy/.npz), every output
// (and, on request, every intermediate) written as .npy.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>

#include "arch/support/files.h"
#include "arch/support/names.h"
#include "mappings/cascade/parser.h"
#include "sim/cli/cli_support.h"
#include "sim/cli/commands.h"
#include "sim/functional/check.h"
#include "sim/functional/tensor_file.h"

namespace cascade::cli {

namespace {

// Tensor files are data, not configs: a larger cap than kMaxInputBytes.
constexpr size_t kMaxTensorFileBytes = size_t{1} << 30;

struct EvalOptions {
  std::string cascade, format = "fp32", accumulate, exp = "exact", output, seed = "1";
  std::vector<std::string> inputs, sets;
  bool keep_intermediates = false;
};

struct GivenTensor {
  Tensor tensor;
  std::string source;  // "FILE" or "FILE.npz:NAME" for messages
};

std::vector<std::string> input_names(const Cascade& c) {
  std::vector<std::string> names;
  for (const TensorDecl& d : c.inputs) names.push_back(d.name);
  return names;
}

// --input NAME=FILE.npy or --input FILE.npz (every entry an input of the same name).
std::map<std::string, GivenTensor> read_inputs(const Cascade& c, const std::vector<std::string>& items,
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
      if (path.size() < 4 || path.compare(path.size() - 4, 4, ".npz") != 0)
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

std::string shapes_line(const Bindings& b) {
  std::string out;
  for (const auto& [name, value] : b.shapes) out += fmt::format("{}{}={}", out.empty() ? "" : " ", name, value);
  return out;
}

int run_eval(const EvalOptions& o) {
  const uint64_t seed = parse_unsigned_option("--seed", o.seed);
  const std::string cascade_path = find_config("cascade", "cascades", o.cascade);
  const Cascade c = parse_cascade_file(cascade_path);
  print_warnings(c);
  const bool archive = o.output.size() > 4 && o.output.compare(o.output.size() - 4, 4, ".npz") == 0;

  std::vector<std::pair<std::string, std::string>> input_files = {{cascade_path, "cascade"}};
  std::map<std::string, GivenTensor> given = read_inputs(c, o.inputs, input_files);
  std::map<std::string, std::string> settings = parse_settings(o.sets);
  infer_shapes(c, given, settings);
  const Bindings b = resolve_bindings(c, settings);

  ExecutionOptions execution;
  execution.storage = parse_number_format(o.format);
  execution.accumulate = o.accumulate.empty() ? default_accumulation(execution.storage)
                                              : parse_number_format(o.accumulate);
  execution.exp = parse_exp_mode(o.exp);

  // Inputs not given are drawn as `check` draws them, and written with the outputs.
  TensorMap inputs = random_inputs(c, b, seed, 1.0);
  std::vector<std::string> drawn;
  for (const TensorDecl& d : c.inputs) {
    const auto it = given.find(d.name);
    if (it == given.end()) {
      drawn.push_back(d.name);
      continue;
    }
    const std::vector<int64_t> want = tensor_extents(*c.find_tensor(d.name), b);
    if (it->second.tensor.extents != want)
      throw Error("--input " + it->second.source + ": " + d.name + " has shape " +
                  shape_text(it->second.tensor.extents) + " but " + d.name + "[" +
                  join(d.ranks, ", ") + "] is " + shape_text(want) + " at " + shapes_line(b));
    inputs[d.name] = std::move(it->second.tensor);
  }

  std::vector<std::string> written;  // tensors in output order
  for (const std::string& out : c.outputs) written.push_back(out);
  if (o.keep_intermediates)
    for (const Einsum& e : c.einsums)
      if (std::find(written.begin(), written.end(), e.output) == written.end())
        written.push_back(e.output);
  for (const std::string& name : drawn) written.push_back(name);

  std::vector<std::pair<std::string, std::string>> targets;
  if (archive)
    targets.emplace_back(o.output, "--output");
  else
    for (const std::string& name : written)
      targets.emplace_back((std::filesystem::path(o.output) / (name + ".npy")).string(), "--output");
  OutputFiles::check_paths(targets, input_files);

  const TensorMap values = execute(c, b, inputs, execution);

  fmt::print("cascade {}: {} storage, {} accumulation, exp {}\n", c.name, to_string(execution.storage),
             to_string(execution.accumulate), to_string(execution.exp));
  fmt::print("  shapes: {}\n", shapes_line(b));
  if (!drawn.empty())
    fmt::print("  inputs drawn N(0,1), seed {}: {} (written with the outputs)\n", seed, join(drawn, ", "));
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const std::string& name : written) {
    const Tensor& t = values.at(name);
    double lo = INFINITY, hi = -INFINITY;
    size_t nan = 0;
    for (double v : t.values) {
      if (std::isnan(v)) ++nan;
      else lo = std::min(lo, v), hi = std::max(hi, v);
    }
    fmt::print("  {:<8} {:<16} min {:<12} max {:<12}{}\n", name, shape_text(t.extents),
               format_number(lo), format_number(hi), nan ? fmt::format("  {} NaN", nan) : "");
    tensors.emplace_back(name, t);
  }
  OutputFiles files;
  if (archive) {
    files.add(o.output, "--output", npz_bytes(tensors));
  } else {
    std::error_code ec;
    std::filesystem::create_directories(o.output, ec);
    if (ec) throw Error("--output: cannot create directory " + o.output + ": " + ec.message());
    for (size_t k = 0; k < tensors.size(); ++k)
      files.add(targets[k].first, "--output", npy_bytes(tensors[k].second));
  }
  files.commit();
  fmt::print("  wrote {}{}\n", o.output, archive ? "" : fmt::format(" ({} .npy files)", tensors.size()));
  return 0;
}

}  // namespace

Command add_eval_command(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  auto* eval = app.add_subcommand(
      "eval",
      "Run a cascade on your tensors (.npy/.npz) with the functional executor and write every "
      "output as .npy (inputs not given are drawn N(0,1) from --seed and written too)");
  eval->add_option("cascade", o->cascade, "Cascade file or name (configs/cascades)")->required();
  eval->add_option("--input", o->inputs,
                   "NAME=FILE.npy, or FILE.npz with entries named after inputs (repeatable); "
                   "float16/32/64, C or Fortran order; ranks not --set take the files' sizes");
  eval->add_option("--output", o->output,
                   "Directory for NAME.npy files, or FILE.npz (float64, exact values)")
      ->required();
  eval->add_flag("--keep-intermediates", o->keep_intermediates,
                 "Write every Einsum's tensor, not only the outputs");
  eval->add_option("--set", o->sets, "Shapes and parameters, e.g. M0=64,scale=1");
  eval->add_option("--format", o->format, "Storage format: fp64, fp32, bf16, fp16")
      ->capture_default_str();
  eval->add_option("--accumulate", o->accumulate,
                   "Accumulation format (default: fp32 for bf16/fp16 storage, else the storage "
                   "format)");
  eval->add_option("--exp", o->exp, "exp implementation: exact (std::exp) or hardware")
      ->capture_default_str();
  eval->add_option("--seed", o->seed, "Seed of the inputs not given (0 to 2^64 - 1)")
      ->capture_default_str();
  return {eval, [o] { return run_eval(*o); }};
}

}  // namespace cascade::cli
