// `cascade sweep`: many design points from a YAML file (configs/sweeps/README.md).
#include <fmt/core.h>

#include <memory>
#include <thread>

#include "arch/support/files.h"
#include "sim/cli/cli_support.h"
#include "sim/cli/commands.h"
#include "sim/sweep/sweep.h"

namespace cascade::cli {

namespace {

struct SweepCommandOptions {
  std::string file, db, csv, shard;
  std::vector<std::string> merge;
  std::string jobs;
  bool quiet = false;
};

int run_sweep_command(const SweepCommandOptions& o) {
  const SweepSpec spec = load_sweep(find_config("sweep", "sweeps", o.file));
  SweepOptions options;
  options.db = o.db.empty() ? spec.name + ".sqlite" : o.db;
  options.csv = o.csv.empty() ? spec.name + ".csv" : o.csv;
  options.jobs = o.jobs.empty() ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))
                                : static_cast<int>(parse_integer_option("--jobs", o.jobs, 1, 4096));
  options.merge = o.merge;
  options.progress = !o.quiet;
  if (!o.shard.empty()) {
    const size_t slash = o.shard.find('/');
    try {
      if (slash == std::string::npos) throw Error("no slash");
      options.shard = static_cast<int>(
          parse_integer_option("--shard", o.shard.substr(0, slash), 0, 1 << 30));
      options.shards = static_cast<int>(
          parse_integer_option("--shard", o.shard.substr(slash + 1), 1, 1 << 30));
    } catch (const Error&) {
      throw Error(
          "--shard expects K/N (this process computes the points with index % N == K), "
          "got '" +
          o.shard + "'");
    }
  }
  // The CSV and the database may overwrite none of the files the sweep reads.
  std::vector<std::pair<std::string, std::string>> inputs = sweep_inputs(spec, find_config);
  OutputFiles::check_paths({{options.csv, "--csv"}, {options.db, "--db"}}, inputs);
  for (const std::string& m : options.merge) inputs.emplace_back(m, "--merge database");
  OutputFiles::check_paths({{options.csv, "--csv"}}, inputs);
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

}  // namespace

Command add_sweep_command(CLI::App& app) {
  auto o = std::make_shared<SweepCommandOptions>();
  auto* sweep = app.add_subcommand(
      "sweep",
      "Design-space sweep: every combination of the axes in a sweep file through the "
      "analytical model; rows in SQLite (a rerun computes only what is missing) and CSV");
  sweep
      ->add_option("sweep", o->file,
                   "Sweep file or name in configs/sweeps/ (" + config_names("sweeps") + ")")
      ->required();
  sweep->add_option("--db", o->db, "SQLite file (default: <sweep name>.sqlite)");
  sweep->add_option("--csv", o->csv, "CSV of the sweep's points (default: <sweep name>.csv)");
  sweep->add_option("--jobs,-j", o->jobs, "Worker threads, 1 to 4096 (default: the hardware's)");
  sweep->add_option("--shard", o->shard,
                    "K/N: compute only the points with index % N == K (one process of N, e.g. "
                    "a Slurm array task); merge the databases with --merge");
  sweep->add_option("--merge", o->merge,
                    "SQLite files of other shards to copy into --db before writing the CSV");
  sweep->add_flag("--quiet", o->quiet, "No progress lines on stderr");
  return {sweep, [o] { return run_sweep_command(*o); }};
}

}  // namespace cascade::cli
