// Design-space sweeps: a YAML file names a base design point (architecture, workload,
// cascade, mapper, shapes) and axes of values; every combination runs through the
// analytical model (sim/model/design_point.h, as `cascade run` does). Results go to
// SQLite, one row per point keyed by a hash of everything the point depends on (so a rerun
// computes only what is missing or changed), and to CSV: the point's index and axis
// values, its status, then `cascade run --csv`'s summary columns. Format:
// configs/sweeps/README.md. sweep_file.cpp reads sweep files, sweep_point.cpp evaluates
// one point, sweep_database.cpp stores rows, sweep.cpp runs the points and writes the CSV.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "arch/support/error.h"
#include "sim/report/report.h"
#include "sim/sweep/sweep_expression.h"

namespace cascade {

// One axis: a setting and its values, or several settings whose values go together (zip).
// Values are kept as YAML text (a scalar as written, a map or list in flow style).
struct SweepAxis {
  std::vector<std::string> keys;                 // arch.arrays.array_2d.rows, seq, set.E, ...
  std::vector<std::vector<std::string>> values;  // values[i][k]: the i-th value of keys[k]
  std::vector<std::vector<SourceLocation>> value_locs;  // where each value is in the file
  SourceLocation loc;
};

struct SweepSpec {
  std::string name;
  std::string description;
  std::string file;
  // The base point: arch, workload, cascade, mapper, seq, batch, heads,
  // register_file_energy, set.NAME, arch.PATH (values as YAML text).
  std::map<std::string, std::string> base;
  std::map<std::string, SourceLocation> base_loc;        // where each base setting's key is
  std::map<std::string, SourceLocation> base_value_loc;  // and its value
  std::vector<SweepAxis> axes;
  // `where:`: a point is in the sweep only if every one holds (others are skipped: never
  // computed, stored or written, their indices left out of the CSV).
  std::vector<SweepExpression> where;

  // The product of the axes' lengths (checked when the file is read: a product that does
  // not fit in 64 bits is an Error at the axis that overflows it).
  size_t points() const;
};

SweepSpec load_sweep(const std::string& path);
// Memory a sweep of this many points needs for its bookkeeping and CSV rows (an estimate
// used to refuse a sweep that cannot fit, before anything is allocated).
constexpr double kSweepBytesPerPoint = 4096;
SweepSpec parse_sweep_text(const std::string& yaml_text, const std::string& file);

// Point `index` of the cartesian product (the first axis varies slowest).
struct SweepPoint {
  size_t index = 0;
  std::vector<std::pair<std::string, std::string>> values;  // one per axis key, in order
  std::map<std::string, std::string> settings;              // the base with `values` applied
};
SweepPoint sweep_point(const SweepSpec& spec, size_t index);

// What one point gives (the summary row `cascade run --csv` writes, one schema:
// sim/report/report.h) or why it failed.
struct SweepResult {
  size_t index = 0;
  std::string key;          // hash of the settings and of the files they name
  std::string values_json;  // {"axis key": value, ...}
  bool ok = false;
  std::string error;
  SummaryRow summary;  // empty when the point failed
  // The summary's figures a report sorts by.
  std::string mapping;
  double P = 0, latency_s = 0, energy_j = 0, area_mm2 = 0;
};

// Finds a configuration file: (what, folder under configs/, name or path) -> path. The
// CLI's lookup (current directory, $CASCADE_HOME, the source tree) is passed in.
using ConfigFinder = std::function<std::string(const std::string& what, const std::string& folder,
                                               const std::string& given)>;

// Computes the points a run needs elsewhere than in `jobs` threads of this process (the MPI
// driver, sweep_mpi.h): called once, on a thread of its own, with the indices of the points
// and their keys ("" when unknown); hands every result to `deliver` (thread-safe) and
// returns when all are delivered, or early when `stopping()` turns true.
using SweepCompute = std::function<void(const std::vector<size_t>& todo,
                                        const std::vector<std::string>& keys,
                                        const std::function<void(SweepResult)>& deliver,
                                        const std::function<bool()>& stopping)>;

struct SweepOptions {
  std::string db;                  // SQLite file (created if missing)
  std::string csv;                 // CSV of this sweep's points ("" = none)
  int jobs = 1;                    // worker threads
  int shard = 0, shards = 1;       // compute only the points with index % shards == shard
  std::vector<std::string> merge;  // SQLite files of other shards to copy in first
  bool progress = true;            // a progress line on stderr every few seconds
  SweepCompute compute;            // empty: `jobs` threads here
};

struct SweepSummary {
  size_t points = 0;    // in the sweep (all shards)
  size_t selected = 0;  // in this shard
  size_t excluded = 0;  // of this shard, left out by `where:`
  size_t computed = 0;  // evaluated now
  size_t reused = 0;    // found in the database
  size_t failed = 0;    // evaluated now or found, with an error
  size_t written = 0;   // CSV rows (points of the sweep present in the database)
  double seconds = 0;
};

// The files a sweep reads (the sweep file, the architectures, workloads, cascades and
// mapping files its points name), each with what it is; for refusing an output that would
// overwrite one of them.
std::vector<std::pair<std::string, std::string>> sweep_inputs(const SweepSpec& spec,
                                                              const ConfigFinder& find_config);

// Evaluates one point (thread-safe; the finder must be too).
SweepResult evaluate_sweep_point(const SweepPoint& point, const ConfigFinder& find_config);

// Runs the selected points that the database lacks, then writes the CSV. Errors in the
// sweep file (an arch path the architecture does not have, ...) throw before any point
// runs; a point that fails (a tile that does not fit) is a row with its error.
SweepSummary run_sweep(const SweepSpec& spec, const SweepOptions& options,
                       const ConfigFinder& find_config);

}  // namespace cascade
