// `cascade ops`: operator counts per Einsum (the counts every model prices), as a table or
// as JSON (--json).
#include <fmt/core.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "mappings/analysis/operator_counts.h"
#include "mappings/cascade/parser.h"
#include "sim/cli/cli_support.h"
#include "sim/cli/commands.h"

namespace cascade::cli {

namespace {

struct OpsOptions {
  std::string file;
  std::vector<std::string> sets;
  bool json = false;
};

// The column order (mappings/README.md, "Operator counts"): the arithmetic the arrays run
// most, then the other value functions; an operator not listed here follows, by name.
const std::vector<std::string> kOrder = {"mac",  "add",  "sub",  "mul",     "div",  "exp",
                                         "max",  "min",  "neg",  "sqrt",    "log",  "pow",
                                         "abs",  "relu", "elu1", "sigmoid", "tanh", "softplus"};

// One column per operator the cascade counts (nonzero in the total), so none hides.
std::vector<std::string> columns_of(const OperatorCounts& total) {
  std::vector<std::string> out;
  for (const std::string& op : kOrder)
    if (total.of(op) != 0) out.push_back(op);
  for (const auto& [op, n] : total.ops)  // sorted by name
    if (n != 0 && std::find(kOrder.begin(), kOrder.end(), op) == kOrder.end()) out.push_back(op);
  return out;
}

std::string ops_row(const std::string& name, const std::string& points, const std::string& formula,
                    const OperatorCounts& t, const std::vector<std::string>& columns, bool cmp) {
  std::string row = fmt::format("  {:<6} {:>14} {:<10}", name, points, formula);
  for (const std::string& op : columns) row += fmt::format(" {:>12}", format_number(t.of(op)));
  if (cmp) row += fmt::format(" {:>12}", format_number(t.comparisons));
  return row + "\n";
}

nlohmann::json counts_json(const OperatorCounts& t) {
  nlohmann::json ops = nlohmann::json::object();
  for (const auto& [op, n] : t.ops)
    if (n != 0) ops[op] = n;
  return {{"ops", ops},
          {"cmp", t.comparisons},
          {"operand_reads", t.operand_reads},
          {"accumulator_accesses", t.accumulator_accesses}};
}

int run_ops(const OpsOptions& o) {
  const Cascade c = parse_cascade_file(o.file);
  print_warnings(c);
  const Bindings b = resolve_bindings(c, parse_settings(o.sets));
  const std::vector<EinsumCost> costs = operator_counts(c, b);
  OperatorCounts total;
  for (const EinsumCost& cost : costs) total += cost.total;
  const std::vector<std::string> columns = columns_of(total);
  const bool cmp = total.comparisons != 0;
  if (o.json) {
    nlohmann::json out = {{"cascade", c.name}, {"columns", columns}, {"not_priced", {"cmp"}}};
    out["einsums"] = nlohmann::json::array();
    for (const EinsumCost& cost : costs) {
      nlohmann::json e = counts_json(cost.total);
      e["name"] = c.einsums[cost.einsum].output;
      e["points"] = cost.points;
      e["formula"] = cost.points_formula;
      out["einsums"].push_back(std::move(e));
    }
    out["total"] = counts_json(total);
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  fmt::print("cascade {}: operator counts per (batch, head), as the models price them\n", c.name);
  fmt::print(
      "  (a factor of a summed product that does not depend on the summed variables,\n"
      "  such as a scale, is applied once per output point: mappings/README.md)\n");
  std::string header = fmt::format("  {:<6} {:>14} {:<10}", "einsum", "points", "formula");
  for (const std::string& op : columns) header += fmt::format(" {:>12}", op == "mac" ? "MAC" : op);
  if (cmp) header += fmt::format(" {:>12}", "cmp*");
  fmt::print("{}\n", header);
  for (const EinsumCost& cost : costs)
    fmt::print("{}", ops_row(c.einsums[cost.einsum].output, format_number(cost.points),
                             cost.points_formula.empty() ? "(masked)" : cost.points_formula,
                             cost.total, columns, cmp));
  fmt::print("{}", ops_row("total", "", "", total, columns, cmp));
  if (cmp)
    fmt::print(
        "  * cmp: the comparisons of `where` conditions, one per condition and point of its\n"
        "    scope before masking; counted, not priced (no model charges them)\n");
  return 0;
}

}  // namespace

Command add_ops_command(CLI::App& app) {
  auto o = std::make_shared<OpsOptions>();
  auto* ops = app.add_subcommand("ops", "Operator counts per Einsum for the given shapes");
  ops->add_option("cascade", o->file, "Cascade file")->required();
  ops->add_option("--set", o->sets, "Shapes and parameters, e.g. P=1024,M=1024");
  ops->add_flag("--json", o->json, "Print the counts as JSON (per Einsum and in total)");
  return {ops, [o] { return run_ops(*o); }};
}

}  // namespace cascade::cli
