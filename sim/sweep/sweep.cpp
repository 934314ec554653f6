// The sweep engine: which points a run computes (the database has the rest), worker
// threads, progress, and the CSV.
#include "sim/sweep/sweep.h"

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <set>
#include <thread>

#include "arch/support/checked.h"
#include "arch/support/files.h"
#include "arch/support/names.h"
#include "arch/support/yaml_reader.h"
#include "mappings/mappers/registry.h"
#include "sim/report/csv.h"
#include "sim/sweep/sweep_database.h"
#include "sim/sweep/sweep_detail.h"

namespace cascade {

using namespace sweep_detail;

namespace {

// Where a base or axis value is in the sweep file.
struct SettingValue {
  std::string value;
  SourceLocation loc;
};

// Every distinct value of a plain setting, with where it is first written.
std::vector<SettingValue> values_of(const SweepSpec& spec, const std::string& key) {
  std::vector<SettingValue> out;
  auto add = [&](const std::string& v, const SourceLocation& loc) {
    for (const SettingValue& o : out)
      if (o.value == v) return;
    out.push_back({v, loc});
  };
  if (spec.base.count(key)) {
    auto loc = spec.base_value_loc.find(key);
    add(spec.base.at(key), loc == spec.base_value_loc.end() ? SourceLocation{} : loc->second);
  }
  for (const SweepAxis& axis : spec.axes)
    for (size_t k = 0; k < axis.keys.size(); ++k)
      if (axis.keys[k] == key)
        for (size_t i = 0; i < axis.values.size(); ++i)
          add(axis.values[i][k], i < axis.value_locs.size() ? axis.value_locs[i][k] : axis.loc);
  return out;
}

bool swept_anywhere(const SweepSpec& spec, const std::string& key) {
  if (spec.base.count(key)) return true;
  for (const SweepAxis& axis : spec.axes)
    if (contains(axis.keys, key)) return true;
  return false;
}

// Every architecture, workload, cascade and mapping file the sweep names exists, and a
// workload without a cascade is given one: errors at the value in the sweep file (or in
// the workload file), before any point runs.
void check_names(const SweepSpec& spec, FileCache& cache) {
  auto resolve = [&](const std::string& what, const std::string& folder, const SettingValue& v) {
    try {
      return cache.path(what, folder, v.value);
    } catch (const Error& e) {
      throw Error(v.loc, e.message());
    }
  };
  for (const SettingValue& v : values_of(spec, "arch")) resolve("arch", "arch", v);
  for (const SettingValue& v : values_of(spec, "cascade")) resolve("cascade", "cascades", v);
  const std::vector<std::string> mappers = mapper_names();
  for (const SettingValue& v : values_of(spec, "mapper")) {
    if (contains(mappers, v.value)) continue;  // a registered mapper (search, ... included)
    try {
      cache.path("mapping", "mappings", v.value);
    } catch (const Error& e) {
      throw Error(v.loc, "mapper '" + v.value + "' is not a registered mapper (" +
                             join(mappers, ", ") + ") and not a mapping file: " + e.message());
    }
  }
  const bool cascade_given = swept_anywhere(spec, "cascade");
  for (const SettingValue& v : values_of(spec, "workload")) {
    const std::string file = resolve("workload", "workloads", v);
    const std::shared_ptr<const Workload> w = cache.workload(file);
    if (!cascade_given && w->cascade.empty())
      throw Error(w->loc, "workload " + w->name +
                              " names no cascade: add 'cascade:' to it or give 'cascade' in the "
                              "sweep (" + v.loc.str() + ")");
  }
}

// Every arch.PATH the sweep sets must exist in every architecture it uses.
void check_arch_paths(const SweepSpec& spec, FileCache& cache) {
  std::vector<std::pair<std::string, SourceLocation>> paths;
  for (const auto& [k, loc] : spec.base_loc)
    if (starts_with(k, "arch.")) paths.emplace_back(k, loc);
  for (const SweepAxis& axis : spec.axes)
    for (size_t k = 0; k < axis.keys.size(); ++k)
      if (starts_with(axis.keys[k], "arch.")) paths.emplace_back(axis.keys[k], axis.loc);
  if (paths.empty()) return;
  for (const SettingValue& a : values_of(spec, "arch")) {
    const std::string file = cache.path("arch", "arch", a.value);
    cache.arch(file);  // the file itself must read (an Error in it, at its line)
    const YAML::Node tree = YamlReader(file).load(cache.text(file));
    for (const auto& [path, loc] : paths) {
      try {
        node_at(tree, path.substr(5), a.value + " (" + file + ")");
      } catch (const Error& e) {
        throw Error(loc, path + ": " + e.message());
      }
    }
  }
}

// The worker threads: joined on every way out of run_sweep (an Error from the database
// while they run stops them first), so no exception meets a joinable thread.
class Workers {
 public:
  ~Workers() { join(); }
  template <typename F>
  void start(int n, F body) {
    for (int w = 0; w < n; ++w) threads_.emplace_back(body);
  }
  void join() {
    stop_ = true;
    for (std::thread& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
  }
  bool stopping() const { return stop_; }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

constexpr double kBusyGiveUpSeconds = 600;  // another writer holding the database this long

}  // namespace

std::vector<std::pair<std::string, std::string>> sweep_inputs(const SweepSpec& spec,
                                                              const ConfigFinder& find_config) {
  std::vector<std::pair<std::string, std::string>> inputs = {{spec.file, "sweep file"}};
  auto add = [&](const std::string& what, const std::string& folder, const std::string& key) {
    for (const SettingValue& v : values_of(spec, key)) {
      if (key == "mapper" && contains(mapper_names(), v.value)) continue;
      try {
        const std::string path = find_config(what, folder, v.value);
        inputs.emplace_back(path, what + " file");
        if (key == "workload") {
          const Workload w = parse_workload_text(read_text(path), path);
          if (!w.cascade.empty()) inputs.emplace_back(w.cascade, "cascade file");
        }
      } catch (const Error&) {
        // reported when the sweep runs
      }
    }
  };
  add("architecture", "arch", "arch");
  add("workload", "workloads", "workload");
  add("cascade", "cascades", "cascade");
  add("mapping", "mappings", "mapper");
  return inputs;
}

SweepResult evaluate_sweep_point(const SweepPoint& point, const ConfigFinder& find_config) {
  FileCache cache(find_config);
  return evaluate_point(point, cache, "");
}

SweepSummary run_sweep(const SweepSpec& spec, const SweepOptions& options,
                       const ConfigFinder& find_config) {
  if (options.shards < 1 || options.shard < 0 || options.shard >= options.shards)
    throw Error(
        fmt::format("shard {} of {}: give K/N with 0 <= K < N", options.shard, options.shards));
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  SweepSummary summary;
  summary.points = spec.points();
  check_memory(static_cast<double>(summary.points) * kSweepBytesPerPoint,
               fmt::format("sweep {} ({} points, about {} each for its keys and CSV rows; split "
                           "its axes over several sweep files)",
                           spec.name, summary.points, human_bytes(kSweepBytesPerPoint)),
               SourceLocation{spec.file, 1, 1});
  FileCache cache(find_config);
  check_names(spec, cache);
  check_arch_paths(spec, cache);
  for (const std::string& other : options.merge)
    if (same_file(other, options.db))
      throw Error("--merge '" + other + "' is the --db itself: merge other shards' databases into it");
  SweepDatabase db(options.db);
  for (const std::string& other : options.merge) db.merge(other);

  const std::map<std::string, bool> stored = db.stored();
  // Which points of this shard need computing; keys need the files each point names.
  std::vector<size_t> todo;                       // point indices, in order
  std::vector<std::string> keys(summary.points);  // "" until known (a file is missing)
  for (size_t i = 0; i < summary.points; ++i) {
    const SweepPoint p = sweep_point(spec, i);
    if (!spec.where.empty() &&
        !std::all_of(spec.where.begin(), spec.where.end(),
                     [&](const SweepExpression& c) { return c.holds(p.settings); })) {
      if (i % static_cast<size_t>(options.shards) == static_cast<size_t>(options.shard))
        ++summary.excluded;
      continue;  // keys[i] stays "": never computed nor written
    }
    try {
      keys[i] = point_key(p, files_of(p, cache), cache);
    } catch (const Error&) {
      keys[i].clear();  // a file it names is missing: evaluating records the error
    }
    if (i % static_cast<size_t>(options.shards) != static_cast<size_t>(options.shard)) continue;
    ++summary.selected;
    auto it = keys[i].empty() ? stored.end() : stored.find(keys[i]);
    if (it != stored.end() && it->second)
      ++summary.reused;
    else
      todo.push_back(i);
  }

  const std::vector<std::string> todo_keys = [&] {  // read by the workers
    std::vector<std::string> k;
    for (size_t i : todo) k.push_back(keys[i]);
    return k;
  }();
  std::mutex done_mutex;
  std::vector<SweepResult> done;     // computed, not yet taken by the main thread
  std::vector<SweepResult> pending;  // taken, not yet committed (the database was busy)
  std::atomic<size_t> next{0};
  const int jobs = std::max(1, std::min<int>(options.jobs, static_cast<int>(todo.size())));
  double last_report = 0, busy_since = -1;
  size_t stored_count = 0;
  std::atomic<bool> compute_returned{false};
  std::exception_ptr compute_error;  // set before compute_returned
  {
    Workers workers;
    if (!todo.empty() && options.compute)
      workers.start(1, [&] {
        try {
          options.compute(
              todo, todo_keys,
              [&](SweepResult r) {
                if (r.key.empty()) r.key = fmt::format("error-{}-{:016x}", r.index, fnv1a(r.error));
                std::lock_guard<std::mutex> lock(done_mutex);
                done.push_back(std::move(r));
              },
              [&] { return workers.stopping(); });
        } catch (...) {
          compute_error = std::current_exception();
        }
        compute_returned = true;
      });
    else if (!todo.empty())
      workers.start(jobs, [&] {
        for (size_t n; !workers.stopping() && (n = next.fetch_add(1)) < todo.size();) {
          SweepResult r;
          try {
            r = evaluate_point(sweep_point(spec, todo[n]), cache, todo_keys[n]);
          } catch (...) {  // evaluate_point catches everything it expects; never escape
            r.index = todo[n];
            r.ok = false;
            r.error = "internal error while evaluating the point";
          }
          if (r.key.empty()) r.key = fmt::format("error-{}-{:016x}", r.index, fnv1a(r.error));
          std::lock_guard<std::mutex> lock(done_mutex);
          done.push_back(std::move(r));
        }
      });
    // Stores what the workers finished, in one transaction; when another writer holds the
    // database past the busy timeout, the rows stay pending and the next drain retries (a
    // computed row is never dropped).
    auto drain = [&] {
      {
        std::lock_guard<std::mutex> lock(done_mutex);
        for (SweepResult& r : done) pending.push_back(std::move(r));
        done.clear();
      }
      if (pending.empty()) return;
      try {
        db.begin();
        for (const SweepResult& r : pending) db.put(spec.name, r);
        db.commit();
      } catch (const SweepDatabase::Busy& e) {
        db.rollback();
        if (busy_since < 0) busy_since = elapsed();
        if (elapsed() - busy_since > kBusyGiveUpSeconds)
          throw Error(std::string(e.what()) + fmt::format(" (waited {:.0f} s for the other writer)",
                                                          elapsed() - busy_since));
        return;
      } catch (...) {
        db.rollback();
        throw;
      }
      busy_since = -1;
      for (const SweepResult& r : pending) {
        if (keys[r.index].empty()) keys[r.index] = r.key;
        ++summary.computed;
        if (!r.ok) ++summary.failed;
      }
      stored_count += pending.size();
      pending.clear();
    };
    while (stored_count < todo.size()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const bool returned = compute_returned;  // read before draining: all it delivered
      drain();
      if (returned && stored_count < todo.size()) {
        if (compute_error) std::rethrow_exception(compute_error);
        if (pending.empty())
          throw Error(fmt::format("sweep {}: the point computation stopped with {} of {} points "
                                  "stored (a rerun computes the rest)",
                                  spec.name, stored_count, todo.size()));
      }
      if (options.progress && elapsed() - last_report >= 2.0) {
        last_report = elapsed();
        const double rate = summary.computed / std::max(1e-9, elapsed());
        fmt::print(stderr,
                   "sweep {}: {}/{} points computed ({} failed), {:.1f} s, ~{:.0f} s left{}\n",
                   spec.name, summary.computed, todo.size(), summary.failed, elapsed(),
                   rate > 0 ? (todo.size() - summary.computed) / rate : 0.0,
                   pending.empty() ? "" : fmt::format(" ({} rows wait for the database)",
                                                      pending.size()));
      }
    }
    workers.join();
  }

  if (!options.csv.empty()) {
    // index, the axis values (but for settings the summary reports itself: workload, arch,
    // ... appear once), status, error, then the summary of `cascade run --csv`.
    std::vector<std::string> summary_columns = {"arch",    "workload", "cascade",
                                                "mapper",  "batch",    "heads",
                                                "register_file_energy"};
    std::vector<CsvRow> rows;
    SweepResult stored_row;
    for (size_t i = 0; i < summary.points; ++i) {
      if (keys[i].empty() || !db.get(keys[i], stored_row)) continue;
      CsvRow row = {{"index", std::to_string(i)}};
      for (const auto& [k, v] : sweep_point(spec, i).values)
        if (!contains(summary_columns, k)) row.emplace_back(k, v);
      row.emplace_back("status", stored_row.ok ? "ok" : "error");
      row.emplace_back("error", stored_row.error);
      row.insert(row.end(), stored_row.summary.begin(), stored_row.summary.end());
      rows.push_back(std::move(row));
      ++summary.written;
    }
    // A temporary file renamed over the CSV: a failed or killed write leaves the old one.
    write_output_file(options.csv, "--csv", csv_table(rows));
  }
  summary.seconds = elapsed();
  return summary;
}

}  // namespace cascade
