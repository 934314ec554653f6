// `cascade check`: the executor on seeded random inputs against the fp64 reference.
#include <fmt/core.h>

#include <memory>

#include "mappings/cascade/parser.h"
#include "sim/cli/cli_support.h"
#include "sim/cli/commands.h"
#include "sim/functional/check.h"

namespace cascade::cli {

namespace {

struct CheckOptions_ {
  std::string file, format = "fp32", accumulate, exp = "exact";
  std::vector<std::string> sets;
  std::string seed = "1";
};

int run_check(const CheckOptions_& o) {
  const uint64_t seed = parse_unsigned_option("--seed", o.seed);
  const Cascade c = parse_cascade_file(o.file);
  print_warnings(c);
  const Bindings b = resolve_bindings(c, parse_settings(o.sets));
  CheckOptions options;
  options.execution.storage = parse_number_format(o.format);
  options.execution.accumulate = o.accumulate.empty()
                                     ? default_accumulation(options.execution.storage)
                                     : parse_number_format(o.accumulate);
  options.execution.exp = parse_exp_mode(o.exp);
  options.seed = seed;
  const CheckResult r = check_cascade(c, b, options);

  std::string shapes;
  for (const auto& [name, value] : b.shapes)
    shapes += fmt::format("{}{}={}", shapes.empty() ? "" : " ", name, value);
  fmt::print("cascade {} vs fp64 reference {}\n", c.name, r.reference);
  fmt::print("  shapes: {}\n", shapes);
  fmt::print("  format: storage {}, accumulate {}, exp {}; inputs N(0,1), seed {}\n",
             to_string(options.execution.storage), to_string(options.execution.accumulate),
             to_string(options.execution.exp), options.seed);
  fmt::print("  {:<8} {:>12} {:>12} {:>12} {:>12}  {}\n", "output", "max|err|", "max|ref|",
             "rel err", "tolerance", "result");
  for (const OutputComparison& out : r.outputs)
    fmt::print("  {:<8} {:>12} {:>12} {:>12} {:>12}  {}\n", out.tensor,
               format_number(out.max_abs_error), format_number(out.reference_scale),
               format_number(out.relative_error),
               (out.absolute ? "abs " : "rel ") + format_number(out.tolerance),
               out.passed ? "ok" : "FAILED");
  fmt::print("  time: executor {:.3f} s, reference {:.3f} s\n", r.execute_seconds,
             r.reference_seconds);
  return r.passed() ? 0 : kExitCheckFailed;
}

}  // namespace

Command add_check_command(CLI::App& app) {
  auto o = std::make_shared<CheckOptions_>();
  auto* check = app.add_subcommand(
      "check",
      "Run a cascade on seeded random inputs and compare with its fp64 reference "
      "(exit 1 if an output exceeds the tolerance)");
  check->add_option("cascade", o->file, "Cascade file (configs/cascades/*.yaml)")->required();
  check->add_option("--format", o->format, "Storage format: fp64, fp32, bf16, fp16")
      ->capture_default_str();
  check->add_option(
      "--accumulate", o->accumulate,
      "Accumulation format (default: fp32 for bf16/fp16 storage, else the storage format)");
  check
      ->add_option("--exp", o->exp,
                   "exp implementation: exact (std::exp) or hardware (2^i * poly(f))")
      ->capture_default_str();
  check->add_option("--set", o->sets, "Shapes and parameters, e.g. P=1024,M=1024,E=64,scale=1");
  check->add_option("--seed", o->seed, "Seed of the random inputs (0 to 2^64 - 1)")->capture_default_str();
  return {check, [o] { return run_check(*o); }};
}

}  // namespace cascade::cli
