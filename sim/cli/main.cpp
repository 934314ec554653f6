// The `cascade` command-line tool. Exit codes: 0 success, 1 a check failed, 2 bad input.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cmath>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "mappings/analysis.h"
#include "mappings/parser.h"
#include "sim/functional/check.h"

namespace {

using namespace cascade;

constexpr int kExitCheckFailed = 1;
constexpr int kExitBadInput = 2;

// "P=1024,M=1024" (repeatable) -> {P: "1024", M: "1024"}.
std::map<std::string, std::string> parse_settings(const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  for (const std::string& item : items) {
    size_t start = 0;
    while (start <= item.size()) {
      size_t end = item.find(',', start);
      if (end == std::string::npos) end = item.size();
      const std::string pair = item.substr(start, end - start);
      if (!pair.empty()) {
        const size_t eq = pair.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size())
          throw Error("--set expects NAME=VALUE pairs separated by commas, got '" + pair + "'");
        out[pair.substr(0, eq)] = pair.substr(eq + 1);
      }
      start = end + 1;
    }
  }
  return out;
}

void print_warnings(const Cascade& c) {
  for (const std::string& w : c.warnings) fmt::print(stderr, "{}\n", w);
}

std::string format_number(double v) {
  if (v == 0) return "0";
  if (std::fabs(v) >= 1e6 || std::fabs(v) < 1e-3) return fmt::format("{:.3e}", v);
  return fmt::format("{:.6g}", v);
}

int run_check(const std::string& file, const std::vector<std::string>& sets,
              const std::string& format, const std::string& accumulate, const std::string& exp,
              uint64_t seed) {
  const Cascade c = parse_cascade_file(file);
  print_warnings(c);
  const Bindings b = resolve_bindings(c, parse_settings(sets));
  CheckOptions options;
  options.execution.storage = parse_number_format(format);
  options.execution.accumulate = accumulate.empty() ? default_accumulation(options.execution.storage)
                                                    : parse_number_format(accumulate);
  options.execution.exp = parse_exp_mode(exp);
  options.seed = seed;
  const CheckResult r = check_cascade(c, b, options);

  std::string shapes;
  for (const auto& [name, value] : b.shapes) shapes += fmt::format("{}{}={}", shapes.empty() ? "" : " ", name, value);
  fmt::print("cascade {} vs fp64 reference {}\n", c.name, r.reference);
  fmt::print("  shapes: {}\n", shapes);
  fmt::print("  format: storage {}, accumulate {}, exp {}; inputs N(0,1), seed {}\n",
             to_string(options.execution.storage), to_string(options.execution.accumulate),
             to_string(options.execution.exp), seed);
  fmt::print("  {:<8} {:>12} {:>12} {:>12} {:>12}  {}\n", "output", "max|err|", "max|ref|",
             "rel err", "tolerance", "result");
  for (const OutputComparison& o : r.outputs)
    fmt::print("  {:<8} {:>12} {:>12} {:>12} {:>12}  {}\n", o.tensor, format_number(o.max_abs_error),
               format_number(o.reference_scale), format_number(o.relative_error),
               (o.absolute ? "abs " : "rel ") + format_number(o.tolerance), o.passed ? "ok" : "FAILED");
  fmt::print("  time: executor {:.3f} s, reference {:.3f} s\n", r.execute_seconds, r.reference_seconds);
  return r.passed() ? 0 : kExitCheckFailed;
}

int run_passes(const std::string& file) {
  const Cascade c = parse_cascade_file(file);
  print_warnings(c);
  const PassReport report = analyze_passes(c);
  fmt::print("cascade {}: {} pass{} (the most over any rank)\n", c.name, report.max_passes(),
             report.max_passes() == 1 ? "" : "es");
  for (const RankPasses& r : report.ranks) {
    if (r.passes == 0) continue;
    std::string per;
    for (const auto& [e, p] : r.einsum_pass)
      per += fmt::format("{}{}:{}", per.empty() ? "" : " ", c.einsums[e].output, p);
    fmt::print("  rank {}: {} pass{}   [{}]\n", r.rank, r.passes, r.passes == 1 ? "" : "es", per);
    for (const PassCause& cause : r.causes)
      fmt::print("    pass {} opens at {}: it reads {}, which needs the full reduction over {} by {}\n",
                 cause.pass, c.einsums[cause.einsum].output, cause.tensor, r.rank,
                 cause.reducer >= 0 ? c.einsums[cause.reducer].output : std::string("?"));
  }
  return 0;
}

int run_ops(const std::string& file, const std::vector<std::string>& sets) {
  const Cascade c = parse_cascade_file(file);
  print_warnings(c);
  const Bindings b = resolve_bindings(c, parse_settings(sets));
  const std::vector<EinsumCost> costs = operator_counts(c, b);
  fmt::print("cascade {}: operator counts per (batch, head)\n", c.name);
  fmt::print("  {:<6} {:>14} {:<10} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}\n", "einsum", "points",
             "formula", "MAC", "add/sub", "mul", "div", "exp", "max");
  OperatorCounts total;
  for (const EinsumCost& cost : costs) {
    const OperatorCounts& t = cost.total;
    total += t;
    fmt::print("  {:<6} {:>14} {:<10} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}\n",
               c.einsums[cost.einsum].output, format_number(cost.points),
               cost.points_formula.empty() ? "(masked)" : cost.points_formula, format_number(t.macs),
               format_number(t.adds + t.subtracts), format_number(t.multiplies),
               format_number(t.divides), format_number(t.exps), format_number(t.maxes));
  }
  fmt::print("  {:<6} {:>14} {:<10} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}\n", "total", "", "",
             format_number(total.macs), format_number(total.adds + total.subtracts),
             format_number(total.multiplies), format_number(total.divides), format_number(total.exps),
             format_number(total.maxes));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cascade: Einsum-cascade simulator and design model for attention accelerators"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cascade 0.1.0");

  std::string file, format = "fp32", accumulate, exp = "exact";
  std::vector<std::string> sets;
  uint64_t seed = 1;

  auto* check = app.add_subcommand(
      "check", "Run a cascade on seeded random inputs and compare with its fp64 reference "
               "(exit 1 if an output exceeds the tolerance)");
  check->add_option("cascade", file, "Cascade file (configs/cascades/*.yaml)")->required();
  check->add_option("--format", format, "Storage format: fp64, fp32, bf16, fp16")->capture_default_str();
  check->add_option("--accumulate", accumulate,
                    "Accumulation format (default: fp32 for bf16/fp16 storage, else the storage format)");
  check->add_option("--exp", exp, "exp implementation: exact (std::exp) or hardware (2^i * poly(f))")
      ->capture_default_str();
  check->add_option("--set", sets, "Shapes and parameters, e.g. P=1024,M=1024,E=64,scale=1");
  check->add_option("--seed", seed, "Seed of the random inputs")->capture_default_str();

  auto* passes = app.add_subcommand(
      "passes", "Pass analysis: passes over each rank and the dependency that causes each pass");
  passes->add_option("cascade", file, "Cascade file")->required();

  auto* print = app.add_subcommand("print", "Print the cascade as parsed (round-trips)");
  print->add_option("cascade", file, "Cascade file")->required();

  auto* ops = app.add_subcommand("ops", "Operator counts per Einsum for the given shapes");
  ops->add_option("cascade", file, "Cascade file")->required();
  ops->add_option("--set", sets, "Shapes and parameters, e.g. P=1024,M=1024");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitBadInput;
  }

  try {
    if (*check) return run_check(file, sets, format, accumulate, exp, seed);
    if (*passes) return run_passes(file);
    if (*ops) return run_ops(file, sets);
    if (*print) {
      const Cascade c = parse_cascade_file(file);
      print_warnings(c);
      fmt::print("{}", print_cascade(c));
      return 0;
    }
  } catch (const cascade::Error& e) {
    fmt::print(stderr, "{}\n", e.what());
    return kExitBadInput;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return kExitBadInput;
  }
  return 0;
}
