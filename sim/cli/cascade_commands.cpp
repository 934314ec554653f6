// `cascade passes`, `cascade print`, `cascade ops`: the language's analyses of one cascade.
#include <fmt/core.h>

#include <algorithm>
#include <memory>

#include "mappings/analysis/operator_counts.h"
#include "mappings/analysis/passes.h"
#include "mappings/cascade/parser.h"
#include "sim/cli/cli_support.h"
#include "sim/cli/commands.h"

namespace cascade::cli {

namespace {

struct CascadeOptions {
  std::string file;
  std::vector<std::string> sets;
};

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
      fmt::print(
          "    pass {} opens at {}: it reads {}, which needs the full reduction over {} by {}\n",
          cause.pass, c.einsums[cause.einsum].output, cause.tensor, r.rank,
          cause.reducer >= 0 ? c.einsums[cause.reducer].output : std::string("?"));
  }
  return 0;
}

int run_print(const std::string& file) {
  const Cascade c = parse_cascade_file(file);
  print_warnings(c);
  fmt::print("{}", print_cascade(c));
  return 0;
}

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

Command add_passes_command(CLI::App& app) {
  auto o = std::make_shared<CascadeOptions>();
  auto* passes = app.add_subcommand(
      "passes", "Pass analysis: passes over each rank and the dependency that causes each pass");
  passes->add_option("cascade", o->file, "Cascade file")->required();
  return {passes, [o] { return run_passes(o->file); }};
}

Command add_print_command(CLI::App& app) {
  auto o = std::make_shared<CascadeOptions>();
  auto* print = app.add_subcommand("print", "Print the cascade as parsed (round-trips)");
  print->add_option("cascade", o->file, "Cascade file")->required();
  return {print, [o] { return run_print(o->file); }};
}

Command add_ops_command(CLI::App& app) {
  auto o = std::make_shared<CascadeOptions>();
  auto* ops = app.add_subcommand("ops", "Operator counts per Einsum for the given shapes");
  ops->add_option("cascade", o->file, "Cascade file")->required();
  ops->add_option("--set", o->sets, "Shapes and parameters, e.g. P=1024,M=1024");
  return {ops, [o] { return run_ops(o->file, o->sets); }};
}

}  // namespace cascade::cli
