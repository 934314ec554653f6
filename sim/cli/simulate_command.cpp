// `cascade simulate`: the cycle-level SystemC model of one design point: the report `run`
// prints (from the cycle model's Stats), where every unit's time went, and the difference
// to the analytical model.
#include <fmt/core.h>
#include <unistd.h>

#include <cmath>
#include <limits>
#include <memory>

#include "arch/support/files.h"
#include "sim/analytical/analytical_model.h"
#include "sim/functional/check.h"
#include "sim/cli/cli_support.h"
#include "sim/cli/commands.h"
#include "sim/report/report.h"
#include "sim/systemc/cycle_model.h"
#include "sim/systemc/simulate_point.h"
#ifdef CASCADE_HAVE_RTL
#include "sim/rtl/rtl_engine.h"
#endif

namespace cascade::cli {

namespace {

struct SimulateOptions {
  DesignPointOptions point;
  CycleModelOptions model;
  std::string slices, tiles_in_flight, max_difference, json;
  bool quiet = false;
  bool timing_only = false, data = false;
  NumberOptions numbers;
  std::string seed = "1";
  std::string fidelity = "cycle";
  std::string rtl_pe;
  std::string register_files = "report";
};

// Data mode's verdict: the cycle model's outputs against the functional executor's.
bool report_data(const SimulatedPoint& s) {
  fmt::print("  data         storage {}, accumulate {}, exp {}; inputs N(0,1), seed {}; the "
             "first (batch, head) slice: {} points, {} elements loaded, {} stored\n",
             to_string(s.execution.storage), to_string(s.execution.accumulate),
             to_string(s.execution.exp), s.seed, with_commas(s.sim.data_counts.points),
             with_commas(s.sim.data_counts.loaded), with_commas(s.sim.data_counts.stored));
  const DatapathCounts& n = s.sim.data_counts;
  // Per-PE mode: how many runs an array computed from the data (the rest on the datapath).
  auto runs_line = [](const char* unit, const char* what, const char* how, int64_t runs,
                      int64_t declined, double points, const char* why) {
    if (runs + declined == 0) return;
    fmt::print("    {:<10} {} of {} {} ({} points) computed {} on the data's operands{}{}\n", unit,
               with_commas(static_cast<double>(runs)), with_commas(static_cast<double>(runs + declined)),
               what, with_commas(points), how,
               declined > 0 ? "; the others' values from the datapath " : "", declined > 0 ? why : "");
  };
  runs_line("2D array", "GEMM-shaped runs", "PE by PE", n.array_runs, n.array_declined,
            n.array_points, "(their tiles are not one GEMM from zero, or the engine refuses the formats)");
  runs_line("1D unit", "runs of its softmax commands", "lane by lane", n.lane_runs, n.lane_declined,
            n.lane_points,
            "(the lanes' formats and hardware exp differ from the run's, or not the plain form)");
  for (const TensorDifference& d : s.differences) {
    if (d.differing == 0) {
      fmt::print("    {:<10} equals the functional executor's bit for bit ({} elements)\n", d.tensor,
                 with_commas(static_cast<double>(d.elements)));
      continue;
    }
    fmt::print("    {:<10} differs from the functional executor in {} of {} elements; first {}\n",
               d.tensor, d.differing, d.elements, d.first);
  }
  return s.data_equal();
}

void print_unit_time(const std::string& unit, const Stats& st) {
  auto busy = st.notes.find(unit + ".busy_time");
  if (busy == st.notes.end()) return;
  std::string line = fmt::format("busy {}", with_commas(busy->second));
  double total = busy->second;
  for (const auto& [key, cycles] : st.stalls)
    if (key.rfind(unit + ".", 0) == 0) {
      line += fmt::format(" + {} {}", key.substr(unit.size() + 1), with_commas(cycles));
      total += cycles;
    }
  fmt::print("    {:<10} {} = {}\n", unit, line, with_commas(total));
}

int run_simulate(SimulateOptions o) {
  if (!o.slices.empty())
    o.model.slices = parse_integer_option("--slices", o.slices, 0, std::numeric_limits<int64_t>::max());
  if (!o.tiles_in_flight.empty())
    o.model.tiles_in_flight =
        static_cast<int>(parse_integer_option("--tiles-in-flight", o.tiles_in_flight, 1, 1 << 20));
  const double max_difference =
      o.max_difference.empty() ? -1 : parse_real_option("--max-difference", o.max_difference, 0);
  OutputFiles::check_paths(
      {{o.model.vcd, "--vcd"}, {o.model.trace, "--trace"}, {o.json, "--json"}},
      design_point_inputs(o.point));
  const DesignPoint point = load_design_point(o.point);
  const AnalyticalModel analytical(point.problem, point.arch);
  // The mapping is the one the analytical model ranks best (the mappers' choice); the cycle
  // model then runs it.
  const DesignPointResult ranked = evaluate_design_point(point, analytical);
  o.model.progress = !o.quiet && isatty(STDERR_FILENO);
  SimulateSettings settings;
  settings.timing_only = o.timing_only;
  settings.data = o.data;
  settings.seed = parse_unsigned_option("--seed", o.seed);
  settings.execution = execution_options(o.numbers);
  if (o.fidelity != "cycle" && o.fidelity != "rtl")
    throw Error("--fidelity must be cycle or rtl, got '" + o.fidelity + "'");
  if (!o.rtl_pe.empty() && o.fidelity != "rtl") throw Error("--rtl-pe needs --fidelity rtl");
  if (o.register_files != "report" && o.register_files != "enforce")
    throw Error("--register-files must be report or enforce, got '" + o.register_files + "'");
  o.model.enforce_register_files = o.register_files == "enforce";
#ifdef CASCADE_HAVE_RTL
  std::unique_ptr<RtlGemmEngine> rtl;
  std::unique_ptr<RtlVectorEngine> rtl_1d;
  if (o.fidelity == "rtl") {
    rtl = std::make_unique<RtlGemmEngine>(o.rtl_pe.empty() ? "default" : o.rtl_pe);
    rtl_1d = std::make_unique<RtlVectorEngine>();
    o.model.per_pe = true;
    o.model.gemm_engine = rtl.get();
    o.model.vector_engine = rtl_1d.get();
  }
#else
  if (o.fidelity == "rtl")
    throw Error("--fidelity rtl needs the Verilated kernels: this cascade was built with "
                "CASCADE_RTL=OFF");
#endif
  settings.model = o.model;
  const SimulatedPoint simulated = simulate_design_point(point, ranked, settings);
  const CycleResult& sim = simulated.sim;
  const bool data = simulated.data;
  std::string report = text_report(point, simulated.result);
  report.replace(0, std::string("cascade run").size(), "cascade simulate");
  fmt::print("{}", report);
  const double analytical_cycles = ranked.stats.cycles;
  fmt::print("  cycle model  {} operations simulated in {:.2f} s ({} of the (batch, head) slices "
             "per group simulated, the rest extrapolated)\n",
             sim.operations, sim.wall_seconds,
             o.model.slices == 0 ? std::string("all")
             : o.model.slices < 0 ? std::to_string(3 * o.model.tiles_in_flight + 1)
                                  : std::to_string(o.model.slices));
  for (const CycleGroupResult& g : sim.groups)
    fmt::print("    group {:<14} {} cycles ({} of {} slices simulated, {} per slice)\n", g.name,
               with_commas(g.cycles), g.slices_simulated, g.slices,
               with_commas(g.cycles_per_slice));
  if (!sim.tile_programs.empty()) {
    int64_t runs = 0;
    std::string einsums;
    for (const auto& [einsum, n] : sim.tile_programs) {
      runs += n;
      einsums += (einsums.empty() ? "" : ", ") + einsum + " " + with_commas(static_cast<double>(n));
    }
    fmt::print("  per-PE       {} runs of the 2D array as programs of tile operations on its "
               "resident tiles ({}; timed on zeros, values from the datapath)\n",
               with_commas(static_cast<double>(runs)), einsums);
  }
  for (const RegisterOccupancy& r : sim.register_files) {
    std::string tensors;
    for (const std::string& t : r.tensors) tensors += (tensors.empty() ? "" : ", ") + t;
    const double words = r.peak_words;
    fmt::print("  registers    {} holds up to {} words per PE of the tiles kept in its register files "
               "({}; from cycle {}); {} entries{}\n",
               r.array, with_commas(words), tensors, with_commas(r.peak_cycle), r.entries,
               words > static_cast<double>(r.entries)
                   ? fmt::format(": the schedule needs {:.1f}x more than they hold", words / static_cast<double>(r.entries))
                   : "");
  }
  // Each unit's time: busy plus every cause it lost cycles to adds up to the cycles.
  fmt::print("  time         (each unit: busy, then the cycles it lost by cause; they add up)\n");
  for (const PeArray& a : point.arch.arrays) print_unit_time(a.name, sim.stats);
  print_unit_time("dram", sim.stats);
#ifdef CASCADE_HAVE_RTL
  if (rtl)
    fmt::print("  rtl          {} GEMM runs of the 2D array on the Verilated systolic tile ({} "
               "output-, {} weight- or input-stationary; {} cycles clocked){}\n",
               rtl->gemms(), rtl->gemms(Dataflow::OutputStationary),
               rtl->gemms() - rtl->gemms(Dataflow::OutputStationary),
               with_commas(static_cast<double>(rtl->cycles_clocked())),
               rtl->gemms() == 0
                   ? "; none at all: per-PE mode runs GEMMs only with fill_drain per_fold or "
                     "overlapped"
                   : "");
  if (rtl && rtl->programs() > 0)
    fmt::print("  rtl          {} programs of the 2D array ({} tile operations) on the Verilated "
               "systolic tile's resident tiles\n",
               with_commas(static_cast<double>(rtl->programs())),
               with_commas(static_cast<double>(rtl->program_steps())));
  if (rtl_1d)
    fmt::print("  rtl          {} runs of the 1D array's softmax commands ({} commands) on the "
               "Verilated 1D unit ({} cycles clocked){}\n",
               rtl_1d->batches(), with_commas(static_cast<double>(rtl_1d->commands())),
               with_commas(static_cast<double>(rtl_1d->cycles_clocked())),
               rtl_1d->batches() == 0 ? "; none: no Einsum of this cascade is one of its commands" : "");
#endif
  fmt::print("  analytical   {} cycles = {:.6g} ms\n", with_commas(analytical_cycles),
             ranked.latency_s * 1e3);
  OutputFiles outputs;
  if (!o.json.empty()) {
    nlohmann::json j = json_report(point, simulated.result);
    j["simulation"] = simulation_json(simulated);
    outputs.add(o.json, "--json", j.dump(2) + "\n");
  }
  outputs.commit();
  if (data && !report_data(simulated)) {
    fmt::print(stderr, "the cycle model's output differs from the functional executor's\n");
    return kExitCheckFailed;
  }
  if (!data)
    fmt::print("  data         timing only ({} points per slice{})\n",
               with_commas(points_per_slice(point.problem)),
               o.timing_only       ? ", --timing-only"
               : simulated.concat ? "; data mode does not run concat"
                                  : "; data mode runs up to 16,777,216 or with --data");
  const double difference = simulated.difference_percent();
  fmt::print("  difference   {:+.3f} % (cycle model vs analytical)\n", difference);
  if (max_difference >= 0 && std::fabs(difference) > max_difference) {
    fmt::print(stderr, "the cycle model and the analytical model differ by {:.3f} % (> {} %)\n",
               std::fabs(difference), max_difference);
    return kExitCheckFailed;
  }
  return 0;
}

}  // namespace

Command add_simulate_command(CLI::App& app) {
  auto o = std::make_shared<SimulateOptions>();
  auto* simulate = app.add_subcommand(
      "simulate",
      "Cycle-level SystemC model of one design point (DRAM, banked global buffer, systolic 2D "
      "array, 1D array, controller), next to the analytical model's cycles");
  add_design_point_options(*simulate, o->point);
  simulate
      ->add_option("--slices", o->slices,
                   "(batch, head) slices simulated per group, the rest extrapolated at the "
                   "rate of the middle ones, over a whole number of their period if they "
                   "alternate (0: simulate all; default: 3 x tiles in flight + 1)");
  simulate
      ->add_option("--tiles-in-flight", o->tiles_in_flight,
                   "Steps a unit may run ahead of its oldest waiting operation (a controller "
                   "pipelining consecutive tiles; default: " +
                       std::to_string(o->model.tiles_in_flight) + ")");
  simulate
      ->add_option("--register-files", o->register_files,
                   "report: say how many words per PE the schedule keeps in each 2D array's "
                   "register files (tiles the mapping homes there) against their entries; "
                   "enforce: also make a run that leaves such a tile wait until its words fit "
                   "the entries the earlier ones leave free (an error if one run alone needs "
                   "more)")
      ->capture_default_str();
  simulate->add_flag("--per-pe", o->model.per_pe,
                     "Simulate GEMM-shaped runs on the 2D array PE by PE (arrays up to 64 x 64; "
                     "with fill_drain per_fold or overlapped), its column max / sum and exp "
                     "Einsums on resident tiles (FuseMax's LM, SLD, SLN) as programs of the tile's "
                     "operations, and the 1D array's online-softmax Einsums "
                     "(max-exp, rescale, divide) lane by lane as the commands of the 1D unit "
                     "hdl/softmax_1d.sv; in data mode the array computes the values of the GEMMs "
                     "that start a reduction from zero, and the lanes theirs with --exp hardware");
  simulate
      ->add_option("--fidelity", o->fidelity,
                   "cycle: the SystemC model; rtl: the same in per-PE mode with the 2D array's "
                   "GEMM-shaped runs (output-, weight- and input-stationary) and its programs "
                   "on resident tiles executed by the "
                   "Verilated systolic tile (hdl/tile_2d.sv) clocked inside the simulation; the "
                   "array must be N x N for a Verilated "
                   "N (4, 8, 16; 16 unless built with CASCADE_RTL_TILE16=OFF); the 1D array's softmax "
                   "commands run on the Verilated 1D unit (hdl/softmax_1d.sv; 4, 8 or 16 lanes); "
                   "in data mode the tile computes the values of GEMMs with bf16 operands "
                   "(--format bf16), and the 1D unit its commands' with --exp hardware")
      ->capture_default_str();
  simulate->add_option("--rtl-pe", o->rtl_pe,
                       "With --fidelity rtl: the tile's PE, one of the Verilated variants: "
                       "default (hdl/pe_2d.sv's logic, the PEs in one loop: "
                       "hdl/pe_array_2d.sv), fastexp (hdl/pe_2d_fastexp.sv instances), user "
                       "(instances of the build's -DCASCADE_RTL_PE=your_pe.sv); the tile computes the values of "
                       "GEMMs only, so pair fastexp with --exp fast for data mode's exp and for "
                       "the per-PE model's exp timing (default: default)");
  simulate->add_option("--json", o->json,
                       "Write the report as JSON: run --json's schema (from the cycle model's "
                       "Stats) plus \"simulation\" (analytical cycles, difference, stalls, "
                       "groups, register-file occupancy, per-PE tile programs, data mode's "
                       "verdict)");
  simulate->add_option("--vcd", o->model.vcd, "Write a VCD (GTKWave): each unit's busy signal");
  simulate->add_option("--trace", o->model.trace,
                       "Write a Chrome/Perfetto trace: one track per unit, one span per operation");
  simulate->add_option("--max-difference", o->max_difference,
                       "Exit 1 if the two models' cycles differ by more than this many percent");
  simulate->add_flag("--quiet", o->quiet, "No progress lines on stderr");
  simulate->add_flag("--timing-only", o->timing_only,
                     "No values: only the timing (the default above 16,777,216 Einsum points per "
                     "(batch, head) slice)");
  simulate->add_flag("--data", o->data,
                     "Move real values through the model at any size and compare the outputs with "
                     "the functional executor's bit for bit (the default up to 16,777,216 points "
                     "per slice)");
  add_number_options(*simulate, o->numbers, "Data mode: ");
  simulate->add_option("--seed", o->seed, "Data mode: seed of the N(0, 1) random inputs")
      ->capture_default_str();
  return {simulate, [o] { return run_simulate(*o); }};
}

}  // namespace cascade::cli
