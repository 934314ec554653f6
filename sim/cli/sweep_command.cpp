// `cascade sweep`: many design points from a YAML file (configs/sweeps/README.md).
#include <fmt/core.h>

#include <memory>
#include <thread>

#include "arch/support/files.h"
#include "sim/cli/cli_support.h"
#include "sim/cli/commands.h"
#include "sim/sweep/sweep.h"
#include "sim/sweep/sweep_report.h"
#ifdef CASCADE_HAVE_MPI
#include "sim/sweep/sweep_mpi.h"
#endif

namespace cascade::cli {

namespace {

struct SweepCommandOptions {
  std::string file, db, csv, shard;
  std::vector<std::string> merge;
  std::string jobs;
  bool quiet = false;
};

int run_sweep_command(const SweepCommandOptions& o) {
#ifdef CASCADE_HAVE_MPI
  // Under mpirun with several ranks: rank 0 runs the sweep below with its points handed out
  // to the others, which only evaluate (sim/sweep/sweep_mpi.h).
  std::unique_ptr<SweepMpi> mpi;
  if (launched_by_mpi()) {
    mpi = std::make_unique<SweepMpi>();
    if (mpi->size() == 1) mpi.reset();
  }
  if (mpi && mpi->rank() != 0) {
    mpi->serve([&] { return load_sweep(find_config("sweep", "sweeps", o.file)); },
               [](const std::string& what, const std::string& folder, const std::string& given) {
                 return find_config(what, folder, given);
               });
    return 0;
  }
#endif
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
  std::string workers = fmt::format("{} job{}", options.jobs, options.jobs == 1 ? "" : "s");
#ifdef CASCADE_HAVE_MPI
  if (mpi) {
    options.compute = mpi->compute(spec);
    workers = fmt::format("{} MPI ranks (rank 0 hands out the points)", mpi->size());
  }
#endif
  fmt::print("cascade sweep {}: {} points{}, {}\n", spec.name, spec.points(),
             options.shards > 1 ? fmt::format(" (shard {}/{})", options.shard, options.shards)
                                : std::string(),
             workers);
  const SweepSummary sum = run_sweep(spec, options, find_config);
#ifdef CASCADE_HAVE_MPI
  if (mpi) mpi->finish();
#endif
  fmt::print("  computed {} point{} ({} failed), {} already in {}; {:.2f} s\n", sum.computed,
             sum.computed == 1 ? "" : "s", sum.failed, sum.reused, options.db, sum.seconds);
  fmt::print("  wrote {} ({} of {} points{})\n", options.csv, sum.written, sum.points,
             sum.excluded > 0 ? fmt::format(", {} left out by 'where'", sum.excluded) : "");
  if (sum.failed > 0)
    fmt::print("  {} point{} failed: see the status and error columns\n", sum.failed,
               sum.failed == 1 ? "" : "s");
  if (sum.selected > 0 && sum.failed == sum.selected) {
    fmt::print(stderr, "every point of the sweep failed (first error in {})\n", options.csv);
    return kExitBadInput;
  }
  return 0;
}

struct ReportOptions {
  std::string db, sweep, csv;
};

int run_report_command(const ReportOptions& o) {
  const SweepReport report = sweep_report(o.db, o.sweep);
  if (!o.csv.empty()) {
    OutputFiles::check_paths({{o.csv, "--csv"}}, {{o.db, "sweep database"}});
    write_output_file(o.csv, "--csv", sweep_report_csv(report));
  }
  fmt::print("{}", sweep_report_text(report));
  if (!o.csv.empty()) fmt::print("wrote {} ({} points of the front)\n", o.csv, report.front.size());
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
                   "Sweep file or name in configs/sweeps/ (" + config_names("sweeps") + ")");
  sweep->add_option("--db", o->db, "SQLite file (default: <sweep name>.sqlite)");
  sweep->add_option("--csv", o->csv, "CSV of the sweep's points (default: <sweep name>.csv)");
  sweep->add_option("--jobs,-j", o->jobs, "Worker threads, 1 to 4096 (default: the hardware's)");
  sweep->add_option("--shard", o->shard,
                    "K/N: compute only the points with index % N == K (one process of N, e.g. "
                    "a Slurm array task); merge the databases with --merge");
  sweep->add_option("--merge", o->merge,
                    "SQLite files of other shards to copy into --db before writing the CSV");
  sweep->add_flag("--quiet", o->quiet, "No progress lines on stderr");
  auto r = std::make_shared<ReportOptions>();
  auto* report = sweep->add_subcommand(
      "report",
      "Pareto front of a sweep database over latency, energy and area (all minimized), and "
      "the best point per objective; plot: experiments/sweeps/pareto.py");
  report->add_option("db", r->db, "SQLite file of `cascade sweep`")->required();
  report->add_option("--sweep", r->sweep, "Only the points of this sweep (default: all)");
  report->add_option("--csv", r->csv, "Write the front as CSV");
  sweep->require_subcommand(0, 1);
  return {sweep, [o, r, report] {
            if (*report) return run_report_command(*r);
            if (o->file.empty()) throw Error("cascade sweep: give a sweep file or name (or `report DB`)");
            return run_sweep_command(*o);
          }};
}

}  // namespace cascade::cli
