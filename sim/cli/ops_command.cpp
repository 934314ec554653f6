// `cascade ops`: operator counts per Einsum (the counts every model prices).
#include <fmt/core.h>

#include <algorithm>
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

// The operators with a column of their own; every other operator the counter counts
// (neg, min, sqrt, log, pow, abs, relu, elu1, ...) is listed by name under "other".
const std::vector<std::pair<std::string, std::string>> kOpColumns = {
    {"mac", "MAC"}, {"add", "add"}, {"sub", "sub"}, {"mul", "mul"},
    {"div", "div"}, {"exp", "exp"}, {"max", "max"}};

std::string ops_row(const std::string& name, const std::string& points, const std::string& formula,
                    const OperatorCounts& t) {
  std::string row = fmt::format("  {:<6} {:>14} {:<10}", name, points, formula);
  for (const auto& [op, title] : kOpColumns) row += fmt::format(" {:>12}", format_number(t.of(op)));
  std::string other;
  for (const auto& [op, n] : t.ops) {
    const bool has_column = std::any_of(kOpColumns.begin(), kOpColumns.end(),
                                        [&](const auto& c) { return c.first == op; });
    if (!has_column && n != 0)
      other += fmt::format("{}{} {}", other.empty() ? "" : ", ", op, format_number(n));
  }
  return row + "  " + (other.empty() ? "-" : other) + "\n";
}

int run_ops(const std::string& file, const std::vector<std::string>& sets) {
  const Cascade c = parse_cascade_file(file);
  print_warnings(c);
  const Bindings b = resolve_bindings(c, parse_settings(sets));
  const std::vector<EinsumCost> costs = operator_counts(c, b);
  fmt::print("cascade {}: operator counts per (batch, head), as the models price them\n", c.name);
  fmt::print(
      "  (a factor of a summed product that does not depend on the summed variables,\n"
      "  such as a scale, is applied once per output point: mappings/README.md)\n");
  std::string header = fmt::format("  {:<6} {:>14} {:<10}", "einsum", "points", "formula");
  for (const auto& [op, title] : kOpColumns) header += fmt::format(" {:>12}", title);
  fmt::print("{}  other\n", header);
  OperatorCounts total;
  for (const EinsumCost& cost : costs) {
    total += cost.total;
    fmt::print("{}",
               ops_row(c.einsums[cost.einsum].output, format_number(cost.points),
                       cost.points_formula.empty() ? "(masked)" : cost.points_formula, cost.total));
  }
  fmt::print("{}", ops_row("total", "", "", total));
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
