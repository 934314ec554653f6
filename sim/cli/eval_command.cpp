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
#include "sim/cli/tensor_inputs.h"
#include "sim/functional/check.h"
#include "sim/functional/tensor_file.h"

namespace cascade::cli {

namespace {

struct EvalOptions {
  std::string cascade, output, seed = "1";
  NumberOptions numbers;
  std::vector<std::string> inputs, sets;
  bool keep_intermediates = false;
};

int run_eval(const EvalOptions& o) {
  const uint64_t seed = parse_unsigned_option("--seed", o.seed);
  const std::string cascade_path = find_config("cascade", "cascades", o.cascade);
  const Cascade c = parse_cascade_file(cascade_path);
  print_warnings(c);
  const bool archive = o.output.size() > 4 && o.output.ends_with(".npz");

  std::vector<std::pair<std::string, std::string>> input_files = {{cascade_path, "cascade"}};
  // Inputs not given are drawn as `check` draws them, and written with the outputs.
  PreparedInputs prepared = prepare_inputs(c, read_tensor_inputs(c, o.inputs, input_files),
                                           parse_settings(o.sets), seed, "--input");
  const Bindings& b = prepared.bindings;
  const std::vector<std::string>& drawn = prepared.drawn;
  const ExecutionOptions execution = execution_options(o.numbers);

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
  if (!archive) {  // before the run, so a wrong --output costs nothing
    std::error_code ec;
    std::filesystem::create_directories(o.output, ec);
    if (ec) throw Error("--output: cannot create directory " + o.output + ": " + ec.message());
  }

  const TensorMap values = execute(c, b, prepared.inputs, execution);

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
  add_number_options(*eval, o->numbers);
  eval->add_option("--seed", o->seed, "Seed of the inputs not given (0 to 2^64 - 1)")
      ->capture_default_str();
  return {eval, [o] { return run_eval(*o); }};
}

}  // namespace cascade::cli
