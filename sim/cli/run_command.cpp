// `cascade run`: the analytical model on one design point.
#include <fmt/core.h>

#include <memory>

#include "arch/support/files.h"
#include "mappings/mapping/mapping_file.h"
#include "sim/analytical/analytical_model.h"
#include "sim/systemc/cycle_model.h"
#include "sim/cli/cli_support.h"
#include "sim/cli/commands.h"
#include "sim/report/csv.h"
#include "sim/report/report.h"
#include "sim/report/trace.h"

namespace cascade::cli {

namespace {

struct RunOptions {
  DesignPointOptions point;
  std::string json, csv, save_mapping, trace, fidelity = "analytical";
};

int run_run(const RunOptions& o) {
  // Outputs are checked before any work (none may overwrite an input or another output)
  // and written together at the end: all of them or, on an error, none.
  OutputFiles::check_paths({{o.json, "--json"},
                            {o.csv, "--csv"},
                            {o.trace, "--trace"},
                            {o.save_mapping, "--save-mapping"}},
                           design_point_inputs(o.point));
  const DesignPoint point = load_design_point(o.point);
  const AnalyticalModel model(point.problem, point.arch);
  // The mappers' candidates are ranked by the analytical model; --fidelity cycle then
  // evaluates the chosen mapping with the cycle-level model.
  std::unique_ptr<SystemCModel> cycle;
  if (o.fidelity == "cycle") {
    CycleModelOptions options;
    cycle = std::make_unique<SystemCModel>(point.problem, point.arch, options);
  }
  const DesignPointResult result = evaluate_design_point(point, model, cycle.get());
  OutputFiles outputs;
  if (!o.json.empty()) outputs.add(o.json, "--json", json_report(point, result).dump(2) + "\n");
  if (!o.csv.empty()) outputs.add(o.csv, "--csv", csv_table({summary_row(point, result)}));
  if (!o.trace.empty())
    outputs.add(o.trace, "--trace",
                chrome_trace(result.stats, result.mapping.schedule, point.arch.clock_hz) + "\n");
  if (!o.save_mapping.empty())
    outputs.add(o.save_mapping, "--save-mapping", print_mapping(result.mapping));
  fmt::print("{}", text_report(point, result));
  outputs.commit();
  return 0;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  auto* run = app.add_subcommand(
      "run",
      "Analytical model of one design point: cycles, latency, utilization, DRAM traffic, "
      "energy by component, area and the bottleneck");
  add_design_point_options(*run, o->point);
  run->add_option("--json", o->json, "Write the full report as JSON");
  run->add_option("--csv", o->csv, "Write the summary as a one-row CSV");
  run->add_option("--save-mapping", o->save_mapping, "Write the mapping used as YAML");
  run->add_option("--trace", o->trace,
                  "Write a Chrome/Perfetto trace (JSON): per group, how long each unit is busy");
  run->add_option("--fidelity", o->fidelity,
                  "analytical (closed forms) or cycle (the SystemC model; `cascade simulate` "
                  "prints its stalls)")
      ->check(CLI::IsMember({"analytical", "cycle"}))
      ->capture_default_str();
  return {run, [o] { return run_run(*o); }};
}

}  // namespace cascade::cli
