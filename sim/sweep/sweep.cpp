// The sweep engine: which points a run computes (the database has the rest), worker
// threads, progress, and the CSV.
#include "sim/sweep/sweep.h"

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "arch/support/names.h"
#include "sim/report/csv.h"
#include "sim/sweep/sweep_database.h"
#include "sim/sweep/sweep_detail.h"

namespace cascade {

using namespace sweep_detail;

namespace {

// Every arch.PATH the sweep sets must exist in every architecture it uses.
void check_arch_paths(const SweepSpec& spec, FileCache& cache) {
  std::set<std::string> archs;
  if (spec.base.count("arch")) archs.insert(YAML::Load(spec.base.at("arch")).as<std::string>());
  std::vector<std::pair<std::string, SourceLocation>> paths;
  for (const auto& [k, loc] : spec.base_loc)
    if (starts_with(k, "arch.")) paths.emplace_back(k, loc);
  for (const SweepAxis& axis : spec.axes)
    for (size_t k = 0; k < axis.keys.size(); ++k) {
      if (axis.keys[k] == "arch")
        for (const auto& v : axis.values) archs.insert(YAML::Load(v[k]).as<std::string>());
      if (starts_with(axis.keys[k], "arch.")) paths.emplace_back(axis.keys[k], axis.loc);
    }
  for (const std::string& a : archs) {
    const std::string file = cache.path("arch", "arch", a);
    const YAML::Node tree = YAML::Load(cache.text(file));
    for (const auto& [path, loc] : paths) {
      try {
        node_at(tree, path.substr(5), a + " (" + file + ")");
      } catch (const Error& e) {
        throw Error(loc, path + ": " + e.message());
      }
    }
  }
}

}  // namespace

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
  FileCache cache(find_config);
  check_arch_paths(spec, cache);
  SweepDatabase db(options.db);
  for (const std::string& other : options.merge) db.merge(other);

  SweepSummary summary;
  summary.points = spec.points();
  const std::map<std::string, bool> stored = db.stored();
  // Which points of this shard need computing; keys need the files each point names.
  std::vector<size_t> todo;                       // point indices, in order
  std::vector<std::string> keys(summary.points);  // "" until known (a file is missing)
  for (size_t i = 0; i < summary.points; ++i) {
    const SweepPoint p = sweep_point(spec, i);
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
  std::vector<SweepResult> done;
  std::atomic<size_t> next{0};
  const int jobs = std::max(1, std::min<int>(options.jobs, static_cast<int>(todo.size())));
  std::vector<std::thread> workers;
  for (int w = 0; w < jobs && !todo.empty(); ++w)
    workers.emplace_back([&] {
      for (size_t n; (n = next.fetch_add(1)) < todo.size();) {
        SweepResult r = evaluate_point(sweep_point(spec, todo[n]), cache, todo_keys[n]);
        if (r.key.empty()) r.key = fmt::format("error-{}-{:016x}", r.index, fnv1a(r.error));
        std::lock_guard<std::mutex> lock(done_mutex);
        done.push_back(std::move(r));
      }
    });
  double last_report = 0;
  auto drain = [&] {
    std::vector<SweepResult> batch;
    {
      std::lock_guard<std::mutex> lock(done_mutex);
      batch.swap(done);
    }
    if (batch.empty()) return;
    db.begin();
    for (const SweepResult& r : batch) {
      db.put(spec.name, r);
      if (keys[r.index].empty()) keys[r.index] = r.key;
      ++summary.computed;
      if (!r.ok) ++summary.failed;
    }
    db.commit();
  };
  while (summary.computed < todo.size()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    drain();
    if (options.progress && elapsed() - last_report >= 2.0) {
      last_report = elapsed();
      const double rate = summary.computed / std::max(1e-9, elapsed());
      fmt::print(stderr, "sweep {}: {}/{} points computed ({} failed), {:.1f} s, ~{:.0f} s left\n",
                 spec.name, summary.computed, todo.size(), summary.failed, elapsed(),
                 rate > 0 ? (todo.size() - summary.computed) / rate : 0.0);
    }
  }
  for (std::thread& t : workers) t.join();
  drain();

  if (!options.csv.empty()) {
    // index, the axis values (but for settings the summary reports itself: workload, arch,
    // ... appear once), status, error, then the summary of `cascade run --csv`.
    std::vector<std::string> summary_columns = {"arch",    "workload", "cascade",
                                                "mapper",  "batch",    "heads",
                                                "register_file_energy"};
    std::vector<CsvRow> rows;
    SweepResult stored;
    for (size_t i = 0; i < summary.points; ++i) {
      if (keys[i].empty() || !db.get(keys[i], stored)) continue;
      CsvRow row = {{"index", std::to_string(i)}};
      for (const auto& [k, v] : sweep_point(spec, i).values)
        if (!contains(summary_columns, k)) row.emplace_back(k, v);
      row.emplace_back("status", stored.ok ? "ok" : "error");
      row.emplace_back("error", stored.error);
      row.insert(row.end(), stored.summary.begin(), stored.summary.end());
      rows.push_back(std::move(row));
      ++summary.written;
    }
    std::ofstream out(options.csv);
    if (!out) throw Error("cannot write '" + options.csv + "'");
    out << csv_table(rows);
  }
  summary.seconds = elapsed();
  return summary;
}

}  // namespace cascade
