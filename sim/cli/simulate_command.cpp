// `cascade simulate`: the SystemC tile model of one design point, next to the analytical one.
#include <fmt/core.h>

#include <cmath>
#include <memory>

#include "sim/analytical/analytical_model.h"
#include "sim/cli/cli_support.h"
#include "sim/cli/commands.h"
#include "sim/report/report.h"
#include "sim/systemc/tile_model.h"

namespace cascade::cli {

namespace {

struct SimulateOptions {
  DesignPointOptions point;
  int64_t slices = 2;
  int buffers = 2;
  double max_difference = -1;
};

int run_simulate(const SimulateOptions& o) {
  if (o.slices < 0) throw Error("--slices must be >= 0 (0 simulates every slice)");
  const DesignPoint point = load_design_point(o.point);
  const AnalyticalModel analytical(point.problem, point.arch);
  const DesignPointResult result = evaluate_design_point(point, analytical);
  const SystemCModel model(point.problem, point.arch, {o.slices, o.buffers});
  TileSchedule schedule;
  const TileResult sim = model.simulate(result.mapping, &schedule);
  const double analytical_cycles = result.stats.cycles;
  fmt::print(
      "cascade simulate: arch {}, workload {} (batch {}, heads {}), cascade {}, mapping {}\n",
      point.arch.name, point.workload.name, point.batch, point.heads, point.cascade.name,
      result.mapping.name);
  fmt::print(
      "  SystemC tile model  {} cycles = {:.6g} ms ({} tile buffers; {} tasks simulated in "
      "{:.2f} s)\n",
      with_commas(sim.cycles), sim.cycles / point.arch.clock_hz * 1e3, schedule.buffers, sim.tasks,
      sim.wall_seconds);
  fmt::print("  analytical model    {} cycles = {:.6g} ms\n", with_commas(analytical_cycles),
             analytical_cycles / point.arch.clock_hz * 1e3);
  fmt::print("  difference          {:+.3f} %\n",
             analytical_cycles > 0 ? 100 * (sim.cycles / analytical_cycles - 1) : 0.0);
  for (const TileGroupResult& g : sim.groups)
    fmt::print("  group {:<12} {} cycles ({} of {} slices simulated, {} cycles per slice)\n",
               g.name, with_commas(g.cycles), g.slices_simulated, g.slices,
               with_commas(g.cycles_per_slice));
  std::string busy;
  for (const auto& [unit, c] : sim.busy_cycles)
    busy += fmt::format("{}{} {}", busy.empty() ? "" : "   ", unit, with_commas(c));
  fmt::print("  busy cycles         {}\n", busy);
  const double difference =
      analytical_cycles > 0 ? 100 * std::fabs(sim.cycles / analytical_cycles - 1) : 0;
  if (o.max_difference >= 0 && difference > o.max_difference) {
    fmt::print(stderr, "the tile model and the analytical model differ by {:.3f} % (> {} %)\n",
               difference, o.max_difference);
    return kExitCheckFailed;
  }
  return 0;
}

}  // namespace

Command add_simulate_command(CLI::App& app) {
  auto o = std::make_shared<SimulateOptions>();
  auto* simulate = app.add_subcommand(
      "simulate",
      "Cycle-level SystemC tile model of one design point (the mapping unrolled over its "
      "DRAM-level tiles), next to the analytical model's cycles");
  add_design_point_options(*simulate, o->point);
  simulate
      ->add_option("--slices", o->slices,
                   "(batch, head) slices simulated per group; the rest are extrapolated "
                   "from the last one (0: simulate all)")
      ->capture_default_str();
  simulate
      ->add_option("--tile-buffers", o->buffers,
                   "Tiles in flight (>= 2): transfers for a tile wait until the tile this "
                   "many back is computed")
      ->capture_default_str();
  simulate->add_option("--max-difference", o->max_difference,
                       "Exit 1 if the two models' cycles differ by more than this many percent");
  return {simulate, [o] { return run_simulate(*o); }};
}

}  // namespace cascade::cli
