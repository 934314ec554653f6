// `cascade check`: the executor on seeded random inputs against the fp64 reference.
#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "mappings/cascade/parser.h"
#include "sim/cli/cli_support.h"
#include "sim/cli/commands.h"
#include "sim/cli/tensor_inputs.h"
#include "sim/functional/check.h"

namespace cascade::cli {

namespace {

struct CheckOptions_ {
  std::string file;
  NumberOptions numbers;
  std::vector<std::string> sets, inputs;
  std::string seed = "1", against, reference_cascade, tolerance;
};

int run_check(const CheckOptions_& o) {
  const uint64_t seed = parse_unsigned_option("--seed", o.seed);
  const std::string path = find_config("cascade", "cascades", o.file);
  const Cascade c = parse_cascade_file(path);
  print_warnings(c);
  std::vector<std::pair<std::string, std::string>> files;
  std::map<std::string, GivenTensor> given = read_tensor_inputs(c, o.inputs, files);
  std::map<std::string, std::string> settings = parse_settings(o.sets);
  infer_shapes(c, given, settings, "--input");
  const Bindings b = resolve_bindings(c, settings);
  TensorMap inputs;
  for (const TensorDecl& d : c.inputs)
    if (const auto it = given.find(d.name); it != given.end()) {
      check_input_shape(c, b, d, it->second, "--input");
      inputs[d.name] = std::move(it->second.tensor);
    }
  std::map<std::string, Tensor> against;
  Cascade other;
  Bindings other_bindings;
  CheckOptions options;
  options.inputs = &inputs;
  if (!o.against.empty()) {
    against = read_against(c, o.against);
    options.against = &against;
    options.against_name = o.against;
  }
  if (!o.reference_cascade.empty()) {
    other = parse_cascade_file(find_config("reference cascade", "cascades", o.reference_cascade));
    print_warnings(other);
    // The same shapes: what --set and the inputs give, for the ranks the other cascade has.
    std::map<std::string, std::string> shared;
    for (const auto& shape : b.shapes) {
      const std::string& name = shape.first;  // not a structured binding: clang 15 cannot capture one
      if (settings.count(name) || std::any_of(other.inputs.begin(), other.inputs.end(), [&](const TensorDecl& d) {
            return std::find(d.ranks.begin(), d.ranks.end(), name) != d.ranks.end();
          }))
        shared[name] = std::to_string(shape.second);
    }
    for (const auto& [name, value] : settings)
      if (!name.empty() && std::islower(static_cast<unsigned char>(name[0]))) shared[name] = value;
    other_bindings = resolve_bindings(other, shared);
    options.reference_cascade = &other;
    options.reference_bindings = &other_bindings;
  }
  options.execution = execution_options(o.numbers);
  options.seed = seed;
  if (!o.tolerance.empty()) {
    options.tolerance = parse_real_option("--tolerance", o.tolerance, 0);
    if (!(options.tolerance > 0)) throw Error("--tolerance must be a positive relative error");
  }
  const CheckResult r = check_cascade(c, b, options);

  std::string shapes;
  for (const auto& [name, value] : b.shapes)
    shapes += fmt::format("{}{}={}", shapes.empty() ? "" : " ", name, value);
  fmt::print("cascade {} vs {}\n", c.name,
             options.against || options.reference_cascade ? r.reference
                                                         : "fp64 reference " + r.reference);
  fmt::print("  shapes: {}\n", shapes);
  fmt::print("  format: storage {}, accumulate {}, exp {}; inputs {}\n",
             to_string(options.execution.storage), to_string(options.execution.accumulate),
             to_string(options.execution.exp),
             inputs.size() == c.inputs.size() ? std::string("given")
             : inputs.empty() ? fmt::format("N(0,1), seed {}", options.seed)
                              : fmt::format("given, the others N(0,1) seed {}", options.seed));
  fmt::print("  tolerance: {}\n",
             options.tolerance > 0 ? std::string("--tolerance (max relative error)")
             : r.outputs.empty() || r.outputs[0].absolute
                 ? std::string("fp64, max |err| absolute")
                 : fmt::format("{} runs with rounding noise against the exact cascade: max and "
                               "RMS within {}x (mean + {} sd), bias within {} sd (`cascade check "
                               "--help`)",
                               kNoiseRuns, kModelMargin, kSpreadSigmas, kBiasSigmas));
  fmt::print("  {:<8} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}  {}\n", "output",
             "max|err|", "max|ref|", "rel err", "tolerance", "rms err", "tolerance", "bias",
             "tolerance", "result");
  auto limit = [](const OutputComparison& out, double v) {
    return out.absolute || v >= kNoLimit ? std::string("-") : format_number(v);
  };
  for (const OutputComparison& out : r.outputs)
    fmt::print("  {:<8} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}  {}\n", out.tensor,
               format_number(out.max_abs_error), format_number(out.reference_scale),
               format_number(out.relative_error),
               (out.absolute ? "abs " : "rel ") + format_number(out.tolerance),
               format_number(out.rms_error), limit(out, out.rms_tolerance), format_number(out.bias),
               limit(out, out.bias_tolerance), out.passed ? "ok" : "FAILED");
  fmt::print("  time: executor {:.3f} s, reference {:.3f} s, noise runs {:.3f} s\n",
             r.execute_seconds, r.reference_seconds, r.tolerance_seconds);
  return r.passed() ? 0 : kExitCheckFailed;
}

}  // namespace

Command add_check_command(CLI::App& app) {
  auto o = std::make_shared<CheckOptions_>();
  auto* check = app.add_subcommand(
      "check",
      "Run a cascade and compare its outputs with its built-in fp64 reference, your outputs "
      "(--against) or another cascade (--reference-cascade); exit 1 if an output exceeds the "
      "tolerance");
  check->add_option("cascade", o->file, "Cascade file or name (configs/cascades)")->required();
  check->add_option("--input", o->inputs,
                    "NAME=FILE.npy or FILE.npz (as for eval); inputs not given are drawn N(0,1)");
  check->add_option("--against", o->against,
                    "Your reference outputs: FILE.npz with an entry per output (or FILE.npy for "
                    "a single output), computed from the same inputs");
  check->add_option("--reference-cascade", o->reference_cascade,
                    "Another cascade run in fp64 on the same inputs (e.g. a 3-pass form for a "
                    "1-pass one); its tensors of the outputs' names are the reference");
  add_number_options(*check, o->numbers);
  check->add_option("--set", o->sets, "Shapes and parameters, e.g. P=1024,M=1024,E=64,scale=1");
  check->add_option("--seed", o->seed, "Seed of the random inputs (0 to 2^64 - 1)")->capture_default_str();
  check->add_option("--tolerance", o->tolerance,
                    fmt::format("Your own max relative error instead of the statistical tolerance. "
                                "That one is: in fp64, max |err| <= {}; otherwise the cascade runs {} "
                                "times with every rounding replaced by random noise of up to half an "
                                "ulp, and the max and RMS relative error may be {}x (the runs' mean "
                                "+ {} standard deviations) of theirs against the exact cascade, the "
                                "bias (error along the reference's sign) {} of their standard "
                                "deviations (README, Numerics)",
                                kFp64AbsoluteTolerance, kNoiseRuns, kModelMargin, kSpreadSigmas,
                                kBiasSigmas));
  return {check, [o] { return run_check(*o); }};
}

}  // namespace cascade::cli
