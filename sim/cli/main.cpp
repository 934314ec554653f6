// The `cascade` command-line tool. Exit codes: 0 success, 1 a check failed, 2 bad input.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "mappings/analysis.h"
#include "mappings/mapping.h"
#include "mappings/parser.h"
#include "mappings/workload.h"
#include "sim/analytical/analytical_model.h"
#include "sim/analytical/trace.h"
#include "sim/csv.h"
#include "sim/functional/check.h"
#include "sim/sweep/sweep.h"
#include "sim/systemc/tile_model.h"

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
  options.execution.accumulate = accumulate.empty()
                                     ? default_accumulation(options.execution.storage)
                                     : parse_number_format(accumulate);
  options.execution.exp = parse_exp_mode(exp);
  options.seed = seed;
  const CheckResult r = check_cascade(c, b, options);

  std::string shapes;
  for (const auto& [name, value] : b.shapes)
    shapes += fmt::format("{}{}={}", shapes.empty() ? "" : " ", name, value);
  fmt::print("cascade {} vs fp64 reference {}\n", c.name, r.reference);
  fmt::print("  shapes: {}\n", shapes);
  fmt::print("  format: storage {}, accumulate {}, exp {}; inputs N(0,1), seed {}\n",
             to_string(options.execution.storage), to_string(options.execution.accumulate),
             to_string(options.execution.exp), seed);
  fmt::print("  {:<8} {:>12} {:>12} {:>12} {:>12}  {}\n", "output", "max|err|", "max|ref|",
             "rel err", "tolerance", "result");
  for (const OutputComparison& o : r.outputs)
    fmt::print(
        "  {:<8} {:>12} {:>12} {:>12} {:>12}  {}\n", o.tensor, format_number(o.max_abs_error),
        format_number(o.reference_scale), format_number(o.relative_error),
        (o.absolute ? "abs " : "rel ") + format_number(o.tolerance), o.passed ? "ok" : "FAILED");
  fmt::print("  time: executor {:.3f} s, reference {:.3f} s\n", r.execute_seconds,
             r.reference_seconds);
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
      fmt::print(
          "    pass {} opens at {}: it reads {}, which needs the full reduction over {} by {}\n",
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

// ---------------------------------------------------------------------------------------
// `cascade run`: the analytical model on one design point.

struct RunOptions {
  std::string arch, workload, cascade, mapper, json, csv, save_mapping, register_file_energy, trace;
  std::vector<std::string> sets;
  int64_t seq = 0;
};

// Where `configs/` is looked up: the current directory first, then $CASCADE_HOME, then the
// source tree this binary was built from.
std::vector<std::string> config_roots() {
  std::vector<std::string> roots = {"."};
  if (const char* home = std::getenv("CASCADE_HOME")) roots.push_back(home);
  roots.push_back(CASCADE_SOURCE_DIR);
  return roots;
}

// The names in configs/<folder>/ (for --help and errors), from the first root that has
// the folder; "" if none has.
std::string config_names(const std::string& folder) {
  for (const std::string& root : config_roots()) {
    const std::string dir = root + "/configs/" + folder;
    if (!std::filesystem::is_directory(dir)) continue;
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
    std::sort(names.begin(), names.end());
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  }
  return "";
}

// A name (configs/<folder>/<name>.yaml) or a path.
std::string find_config(const std::string& what, const std::string& folder,
                        const std::string& given) {
  if (std::filesystem::exists(given)) return given;
  for (const std::string& root : config_roots()) {
    const std::string candidate = root + "/configs/" + folder + "/" + given + ".yaml";
    if (std::filesystem::exists(candidate)) return candidate;
  }
  const std::string known = config_names(folder);
  throw Error(what + " '" + given + "' is neither a file nor a name in configs/" + folder + "/" +
              (known.empty() ? "" : " (known: " + known + ")"));
}

std::string with_commas(double v) {
  const std::string digits = fmt::format("{:.0f}", v);
  std::string out;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    out += digits[i];
    if (digits[i] != '-' && (n - i - 1) % 3 == 0 && i + 1 < n) out += ',';
  }
  return out;
}

std::string bytes_text(double b) {
  if (b >= 1e12) return fmt::format("{:.3f} TB", b / 1e12);
  if (b >= 1e9) return fmt::format("{:.3f} GB", b / 1e9);
  if (b >= 1e6) return fmt::format("{:.3f} MB", b / 1e6);
  return fmt::format("{:.0f} B", b);
}

// The design point of `run` and `simulate`: architecture, workload, cascade, analytical run.
struct DesignPoint {
  ArchSpec arch;
  Workload workload;
  Cascade cascade;
  AnalyticalRun run;
};

DesignPoint design_point(const RunOptions& o) {
  DesignPoint d;
  d.arch = load_arch(find_config("--arch", "arch", o.arch));
  if (!o.register_file_energy.empty())
    d.arch.register_file_energy = parse_register_file_energy(o.register_file_energy);
  d.workload = load_workload(find_config("--workload", "workloads", o.workload));
  std::string cascade_file = o.cascade.empty() ? d.workload.cascade : o.cascade;
  if (cascade_file.empty())
    throw Error("workload " + d.workload.name + " names no cascade: pass --cascade");
  if (!o.cascade.empty()) cascade_file = find_config("--cascade", "cascades", o.cascade);
  d.cascade = parse_cascade_file(cascade_file);
  print_warnings(d.cascade);
  if (o.seq < 0) throw Error("--seq must be positive");
  const std::map<std::string, std::string> settings =
      workload_settings(d.workload, d.cascade, o.seq, parse_settings(o.sets));
  d.run = run_analytical(d.arch, d.cascade, d.workload.batch, d.workload.heads, settings, o.mapper);
  return d;
}

int run_run(const RunOptions& o) {
  const DesignPoint point = design_point(o);
  const ArchSpec& arch = point.arch;
  const Workload& workload = point.workload;
  const Cascade& cascade = point.cascade;
  const AnalyticalRun& run = point.run;
  const Evaluation& ev = run.evaluation;
  const Stats& st = ev.stats;

  std::string shapes;
  for (const auto& [name, value] : run.bindings.shapes)
    shapes += fmt::format("{}{}={}", shapes.empty() ? "" : " ", name, value);
  fmt::print("cascade run: arch {}, workload {} (batch {}, heads {}), cascade {}\n", arch.name,
             workload.name, workload.batch, workload.heads, cascade.name);
  fmt::print("  shapes       {}\n", shapes);
  fmt::print("  mapping      {}{}\n", run.mapping.name,
             run.mapping.mapper.empty()
                 ? std::string(" (from " + o.mapper + ")")
                 : " (mapper " + run.mapping.mapper +
                       (run.considered.size() > 1
                            ? fmt::format(", best of {} candidates", run.considered.size())
                            : std::string()) +
                       ")");
  for (const std::string& note : run.mapping.notes) fmt::print("               - {}\n", note);
  fmt::print("  cycles       {}\n", with_commas(st.cycles));
  fmt::print("  latency      {:.6g} ms\n", ev.latency_s * 1e3);
  std::string util;
  for (const auto& [name, u] : ev.utilization)
    util += fmt::format("{}{} {:.1f} %", util.empty() ? "" : "   ", name, u * 100);
  fmt::print("  utilization  {}\n", util);
  fmt::print("  DRAM         {} (read {}, write {})\n", bytes_text(st.dram_bytes),
             bytes_text(st.notes.at("dram_read_bytes")),
             bytes_text(st.notes.at("dram_write_bytes")));
  fmt::print("  bottleneck   {}\n", st.bottleneck);
  std::string busy;
  for (const auto& [name, c] : st.busy_cycles)
    busy += fmt::format("{}{} {}", busy.empty() ? "" : "   ", name, with_commas(c));
  fmt::print("  busy cycles  {}\n", busy);
  fmt::print("  energy       {:.6g} J{}\n", ev.energy.total_pj * 1e-12,
             arch.register_file_energy == ArchSpec::RegisterFileEnergy::OneInstance
                 ? "  (register files: one PE per array, the FuseMax artifact's accounting)"
                 : "");
  for (const auto& [name, pj] : ev.energy.by_component_pj)
    fmt::print("    {:<16} {:>12.6g} J  {:5.1f} %\n", name, pj * 1e-12,
               ev.energy.total_pj > 0 ? 100 * pj / ev.energy.total_pj : 0.0);
  std::string levels;
  for (const auto& [level, pj] : ev.energy.by_level_pj)
    levels += fmt::format("{}{} {:.1f} %", levels.empty() ? "" : "   ", level,
                          ev.energy.total_pj > 0 ? 100 * pj / ev.energy.total_pj : 0.0);
  fmt::print("    by level: {}\n", levels);
  fmt::print("  area         {:.6g} mm^2\n", run.area.total_um2 * 1e-6);
  for (const auto& [name, um2] : run.area.by_component_um2)
    if (um2 > 0) fmt::print("    {:<16} {:>12.6g} mm^2\n", name, um2 * 1e-6);

  if (!o.json.empty()) {
    nlohmann::json j;
    j["arch"] = arch.name;
    j["workload"] = workload.name;
    j["cascade"] = cascade.name;
    j["batch"] = workload.batch;
    j["heads"] = workload.heads;
    j["shapes"] = run.bindings.shapes;
    j["mapper"] = run.mapping.mapper.empty() ? o.mapper : run.mapping.mapper;
    j["mapping"] = run.mapping.name;
    j["mapping_notes"] = run.mapping.notes;
    j["cycles"] = st.cycles;
    j["latency_s"] = ev.latency_s;
    j["utilization"] = ev.utilization;
    j["dram_bytes"] = st.dram_bytes;
    j["bottleneck"] = st.bottleneck;
    j["busy_cycles"] = st.busy_cycles;
    j["actions"] = st.actions;
    j["notes"] = st.notes;
    j["energy_j"] = ev.energy.total_pj * 1e-12;
    j["register_file_energy"] = register_file_energy_name(arch.register_file_energy);
    nlohmann::json by;
    for (const auto& [name, pj] : ev.energy.by_component_pj) by[name] = pj * 1e-12;
    j["energy_by_component_j"] = by;
    nlohmann::json by_level;
    for (const auto& [level, pj] : ev.energy.by_level_pj) by_level[level] = pj * 1e-12;
    j["energy_by_level_j"] = by_level;
    j["area_mm2"] = run.area.total_um2 * 1e-6;
    nlohmann::json area;
    for (const auto& [name, um2] : run.area.by_component_um2) area[name] = um2 * 1e-6;
    j["area_by_component_mm2"] = area;
    nlohmann::json einsums = nlohmann::json::array();
    for (const EinsumReport& r : ev.einsums)
      einsums.push_back({{"name", r.name},
                         {"array", r.array},
                         {"group", r.group},
                         {"points", r.points},
                         {"ii", r.ii},
                         {"cycles", r.cycles},
                         {"spatial_use", r.spatial_use}});
    j["einsums"] = einsums;
    nlohmann::json groups = nlohmann::json::array();
    for (const GroupReport& g : ev.groups)
      groups.push_back({{"name", g.name},
                        {"cycles", g.cycles},
                        {"fill_cycles", g.fill_cycles},
                        {"bottleneck", g.bottleneck},
                        {"busy_cycles", g.busy_cycles},
                        {"buffer_bytes", g.buffer_bytes},
                        {"spilled_fraction", g.spilled_fraction}});
    j["groups"] = groups;
    nlohmann::json tensors = nlohmann::json::array();
    const double wb = run.problem.word_bytes;
    for (const TensorReport& t : ev.tensors)
      tensors.push_back({{"name", t.name},
                         {"home", to_string(t.home)},
                         {"dram_read_bytes", t.traffic.dram_reads * wb},
                         {"dram_write_bytes", t.traffic.dram_writes * wb},
                         {"buffer_read_words", t.traffic.buffer_reads},
                         {"buffer_write_words", t.traffic.buffer_writes}});
    j["tensors"] = tensors;
    nlohmann::json considered = nlohmann::json::array();
    for (const CandidateResult& c : run.considered) {
      nlohmann::json item = {{"mapping", c.mapping}};
      if (c.error.empty()) {
        item["latency_s"] = c.latency_s;
        item["energy_j"] = c.energy_j;
      } else {
        item["error"] = c.error;
      }
      considered.push_back(item);
    }
    j["candidates"] = considered;
    std::ofstream out(o.json);
    if (!out) throw Error("cannot write --json file '" + o.json + "'");
    out << j.dump(2) << "\n";
  }
  if (!o.csv.empty()) {
    std::vector<std::pair<std::string, std::string>> cols = {
        {"arch", arch.name},
        {"workload", workload.name},
        {"cascade", cascade.name},
        {"mapper", run.mapping.mapper.empty() ? o.mapper : run.mapping.mapper},
        {"mapping", run.mapping.name},
        {"batch", std::to_string(workload.batch)},
        {"heads", std::to_string(workload.heads)},
        {"P", run.bindings.shapes.count("P") ? std::to_string(run.bindings.shapes.at("P")) : ""},
        {"M", run.bindings.shapes.count("M") ? std::to_string(run.bindings.shapes.at("M")) : ""},
        {"cycles", fmt::format("{:.17g}", st.cycles)},
        {"latency_s", fmt::format("{:.17g}", ev.latency_s)}};
    for (const auto& [name, u] : ev.utilization)
      cols.emplace_back("utilization_" + name, fmt::format("{:.17g}", u));
    cols.emplace_back("dram_bytes", fmt::format("{:.17g}", st.dram_bytes));
    cols.emplace_back("bottleneck", st.bottleneck);
    cols.emplace_back("energy_j", fmt::format("{:.17g}", ev.energy.total_pj * 1e-12));
    cols.emplace_back("register_file_energy", register_file_energy_name(arch.register_file_energy));
    cols.emplace_back("area_mm2", fmt::format("{:.17g}", run.area.total_um2 * 1e-6));
    for (const auto& [name, pj] : ev.energy.by_component_pj)
      cols.emplace_back("energy_" + name + "_j", fmt::format("{:.17g}", pj * 1e-12));
    std::ofstream out(o.csv);
    if (!out) throw Error("cannot write --csv file '" + o.csv + "'");
    for (size_t i = 0; i < cols.size(); ++i) out << (i ? "," : "") << csv_field(cols[i].first);
    out << "\n";
    for (size_t i = 0; i < cols.size(); ++i) out << (i ? "," : "") << csv_field(cols[i].second);
    out << "\n";
  }
  if (!o.trace.empty()) {
    std::ofstream out(o.trace);
    if (!out) throw Error("cannot write --trace file '" + o.trace + "'");
    out << chrome_trace(ev, run.mapping.schedule, arch.clock_hz) << "\n";
  }
  if (!o.save_mapping.empty()) {
    std::ofstream out(o.save_mapping);
    if (!out) throw Error("cannot write --save-mapping file '" + o.save_mapping + "'");
    out << print_mapping(run.mapping);
  }
  return 0;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// `cascade simulate`: the SystemC tile model of one design point, next to the analytical one.

int run_simulate(const RunOptions& o, int64_t slices, int buffers, double max_difference) {
  if (slices < 0) throw Error("--slices must be >= 0 (0 simulates every slice)");
  const DesignPoint point = design_point(o);
  const AnalyticalRun& run = point.run;
  const TileSchedule schedule =
      build_tile_schedule(run.problem, point.arch, run.mapping, run.evaluation, slices, buffers);
  const TileResult sim = simulate_tiles(schedule);
  const double analytical = run.evaluation.stats.cycles;
  fmt::print(
      "cascade simulate: arch {}, workload {} (batch {}, heads {}), cascade {}, mapping {}\n",
      point.arch.name, point.workload.name, point.workload.batch, point.workload.heads,
      point.cascade.name, run.mapping.name);
  fmt::print(
      "  SystemC tile model  {} cycles = {:.6g} ms ({} tile buffers; {} tasks simulated in "
      "{:.2f} s)\n",
      with_commas(sim.cycles), sim.cycles / point.arch.clock_hz * 1e3, schedule.buffers, sim.tasks,
      sim.wall_seconds);
  fmt::print("  analytical model    {} cycles = {:.6g} ms\n", with_commas(analytical),
             analytical / point.arch.clock_hz * 1e3);
  fmt::print("  difference          {:+.3f} %\n",
             analytical > 0 ? 100 * (sim.cycles / analytical - 1) : 0.0);
  for (const TileGroupResult& g : sim.groups)
    fmt::print("  group {:<12} {} cycles ({} of {} slices simulated, {} cycles per slice)\n",
               g.name, with_commas(g.cycles), g.slices_simulated, g.slices,
               with_commas(g.cycles_per_slice));
  std::string busy;
  for (const auto& [unit, c] : sim.busy_cycles)
    busy += fmt::format("{}{} {}", busy.empty() ? "" : "   ", unit, with_commas(c));
  fmt::print("  busy cycles         {}\n", busy);
  const double difference = analytical > 0 ? 100 * std::fabs(sim.cycles / analytical - 1) : 0;
  if (max_difference >= 0 && difference > max_difference) {
    fmt::print(stderr, "the tile model and the analytical model differ by {:.3f} % (> {} %)\n",
               difference, max_difference);
    return kExitCheckFailed;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------
// `cascade sweep`: many analytical points from a YAML file (configs/sweeps/README.md).

struct SweepCommand {
  std::string file, db, csv, shard;
  std::vector<std::string> merge;
  int jobs = 0;
  bool quiet = false;
};

int run_sweep_command(const SweepCommand& o) {
  const SweepSpec spec = load_sweep(find_config("sweep", "sweeps", o.file));
  SweepOptions options;
  options.db = o.db.empty() ? spec.name + ".sqlite" : o.db;
  options.csv = o.csv.empty() ? spec.name + ".csv" : o.csv;
  options.jobs = o.jobs > 0 ? o.jobs : std::max(1u, std::thread::hardware_concurrency());
  options.merge = o.merge;
  options.progress = !o.quiet;
  if (!o.shard.empty()) {
    const size_t slash = o.shard.find('/');
    try {
      if (slash == std::string::npos) throw std::invalid_argument("no slash");
      size_t used = 0;
      options.shard = std::stoi(o.shard.substr(0, slash), &used);
      if (used != slash) throw std::invalid_argument("trailing");
      options.shards = std::stoi(o.shard.substr(slash + 1), &used);
      if (used != o.shard.size() - slash - 1) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw Error(
          "--shard expects K/N (this process computes the points with index % N == K), "
          "got '" +
          o.shard + "'");
    }
  }
  fmt::print("cascade sweep {}: {} points{}, {} job{}\n", spec.name, spec.points(),
             options.shards > 1 ? fmt::format(" (shard {}/{})", options.shard, options.shards)
                                : std::string(),
             options.jobs, options.jobs == 1 ? "" : "s");
  const SweepSummary sum = run_sweep(spec, options, find_config);
  fmt::print("  computed {} point{} ({} failed), {} already in {}; {:.2f} s\n", sum.computed,
             sum.computed == 1 ? "" : "s", sum.failed, sum.reused, options.db, sum.seconds);
  fmt::print("  wrote {} ({} of {} points)\n", options.csv, sum.written, sum.points);
  if (sum.failed > 0)
    fmt::print("  {} point{} failed: see the status and error columns\n", sum.failed,
               sum.failed == 1 ? "" : "s");
  if (sum.selected > 0 && sum.failed == sum.selected) {
    fmt::print(stderr, "every point of the sweep failed (first error in {})\n", options.csv);
    return kExitBadInput;
  }
  return 0;
}

int main(int argc, char** argv) {
  CLI::App app{"cascade: Einsum-cascade simulator and design model for attention accelerators"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cascade 0.1.0");

  std::string file, format = "fp32", accumulate, exp = "exact";
  std::vector<std::string> sets;
  uint64_t seed = 1;

  auto* check = app.add_subcommand(
      "check",
      "Run a cascade on seeded random inputs and compare with its fp64 reference "
      "(exit 1 if an output exceeds the tolerance)");
  check->add_option("cascade", file, "Cascade file (configs/cascades/*.yaml)")->required();
  check->add_option("--format", format, "Storage format: fp64, fp32, bf16, fp16")
      ->capture_default_str();
  check->add_option(
      "--accumulate", accumulate,
      "Accumulation format (default: fp32 for bf16/fp16 storage, else the storage format)");
  check
      ->add_option("--exp", exp, "exp implementation: exact (std::exp) or hardware (2^i * poly(f))")
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

  RunOptions run_options;
  auto* run = app.add_subcommand(
      "run",
      "Analytical model of one design point: cycles, latency, utilization, DRAM traffic, "
      "energy by component, area and the bottleneck");
  run->add_option("--arch", run_options.arch,
                  "Architecture: a file or a name in configs/arch/ (" + config_names("arch") + ")")
      ->required();
  run->add_option(
         "--workload", run_options.workload,
         "Workload: a file or a name in configs/workloads/ (" + config_names("workloads") + ")")
      ->required();
  run->add_option("--cascade", run_options.cascade,
                  "Cascade file or name in configs/cascades/ (default: the workload's)");
  run->add_option("--mapper", run_options.mapper,
                  "fusemax, flat, unfused, generic, or a mapping file (default: fusemax for a "
                  "cascade that partitions M, else generic)");
  run->add_option("--set", run_options.sets, "Shapes and parameters, e.g. P=4096,M=4096");
  run->add_option("--seq", run_options.seq, "Sequence length: sets P and M");
  run->add_option("--json", run_options.json, "Write the full report as JSON");
  run->add_option("--csv", run_options.csv, "Write the summary as a one-row CSV");
  run->add_option("--save-mapping", run_options.save_mapping, "Write the mapping used as YAML");
  run->add_option("--trace", run_options.trace,
                  "Write a Chrome/Perfetto trace (JSON): per group, how long each unit is busy");
  run->add_option("--register-file-energy", run_options.register_file_energy,
                  "Overrides the architecture's register_file_energy: all_instances (every PE's "
                  "register-file accesses) or one_instance (one PE per array, the FuseMax "
                  "artifact's accounting)")
      ->check(CLI::IsMember({"all_instances", "one_instance"}));

  RunOptions simulate_options;
  int64_t simulate_slices = 2;
  int simulate_buffers = 2;
  double simulate_max_difference = -1;
  auto* simulate = app.add_subcommand(
      "simulate",
      "Cycle-level SystemC tile model of one design point (the mapping unrolled over its "
      "DRAM-level tiles), next to the analytical model's cycles");
  simulate->add_option("--arch", simulate_options.arch, "Architecture (as for run)")->required();
  simulate->add_option("--workload", simulate_options.workload, "Workload (as for run)")
      ->required();
  simulate->add_option("--cascade", simulate_options.cascade, "Cascade (as for run)");
  simulate->add_option("--mapper", simulate_options.mapper, "Mapper or mapping file (as for run)");
  simulate->add_option("--set", simulate_options.sets, "Shapes and parameters (as for run)");
  simulate->add_option("--seq", simulate_options.seq, "Sequence length: sets P and M");
  simulate
      ->add_option("--slices", simulate_slices,
                   "(batch, head) slices simulated per group; the rest are extrapolated "
                   "from the last one (0: simulate all)")
      ->capture_default_str();
  simulate
      ->add_option("--tile-buffers", simulate_buffers,
                   "Tiles in flight (>= 2): transfers for a tile wait until the tile this "
                   "many back is computed")
      ->capture_default_str();

  simulate->add_option("--max-difference", simulate_max_difference,
                       "Exit 1 if the two models' cycles differ by more than this many percent");

  SweepCommand sweep_options;
  auto* sweep = app.add_subcommand(
      "sweep",
      "Design-space sweep: every combination of the axes in a sweep file through the "
      "analytical model; rows in SQLite (a rerun computes only what is missing) and CSV");
  sweep
      ->add_option("sweep", sweep_options.file,
                   "Sweep file or name in configs/sweeps/ (" + config_names("sweeps") + ")")
      ->required();
  sweep->add_option("--db", sweep_options.db, "SQLite file (default: <sweep name>.sqlite)");
  sweep->add_option("--csv", sweep_options.csv,
                    "CSV of the sweep's points (default: <sweep name>.csv)");
  sweep->add_option("--jobs,-j", sweep_options.jobs, "Worker threads (default: the hardware's)");
  sweep->add_option("--shard", sweep_options.shard,
                    "K/N: compute only the points with index % N == K (one process of N, e.g. "
                    "a Slurm array task); merge the databases with --merge");
  sweep->add_option("--merge", sweep_options.merge,
                    "SQLite files of other shards to copy into --db before writing the CSV");
  sweep->add_flag("--quiet", sweep_options.quiet, "No progress lines on stderr");

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
    if (*run) return run_run(run_options);
    if (*sweep) return run_sweep_command(sweep_options);
    if (*simulate)
      return run_simulate(simulate_options, simulate_slices, simulate_buffers,
                          simulate_max_difference);
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
