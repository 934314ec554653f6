// `cascade ops`: operator counts per Einsum (the counts every model prices).
#include <fmt/core.h>

#include <memory>

#include "mappings/analysis/operator_counts.h"
#include "mappings/cascade/parser.h"
#include "sim/cli/cli_support.h"
#include "sim/cli/commands.h"

namespace cascade::cli {

namespace {

struct CascadeOptions {
  std::string file;
  std::vector<std::string> sets;
};

int run_ops(const std::string& file, const std::vector<std::string>& sets) {
  const Cascade c = parse_cascade_file(file);
  print_warnings(c);
  const Bindings b = resolve_bindings(c, parse_settings(sets));
  const std::vector<EinsumCost> costs = operator_counts(c, b);
  fmt::print("cascade {}: operator counts per (batch, head)\n", c.name);
  fmt::print("  {:<6} {:>14} {:<10} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}\n", "einsum",
             "points", "formula", "MAC", "add/sub", "mul", "div", "exp", "max");
  OperatorCounts total;
  for (const EinsumCost& cost : costs) {
    const OperatorCounts& t = cost.total;
    total += t;
    fmt::print("  {:<6} {:>14} {:<10} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}\n",
               c.einsums[cost.einsum].output, format_number(cost.points),
               cost.points_formula.empty() ? "(masked)" : cost.points_formula,
               format_number(t.macs), format_number(t.adds + t.subtracts),
               format_number(t.multiplies), format_number(t.divides), format_number(t.exps),
               format_number(t.maxes));
  }
  fmt::print("  {:<6} {:>14} {:<10} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}\n", "total", "", "",
             format_number(total.macs), format_number(total.adds + total.subtracts),
             format_number(total.multiplies), format_number(total.divides),
             format_number(total.exps), format_number(total.maxes));
  return 0;
}

}  // namespace

Command add_ops_command(CLI::App& app) {
  auto o = std::make_shared<CascadeOptions>();
  auto* ops = app.add_subcommand("ops", "Operator counts per Einsum for the given shapes");
  ops->add_option("cascade", o->file, "Cascade file")->required();
  ops->add_option("--set", o->sets, "Shapes and parameters, e.g. P=1024,M=1024");
  return {ops, [o] { return run_ops(o->file, o->sets); }};
}

}  // namespace cascade::cli
