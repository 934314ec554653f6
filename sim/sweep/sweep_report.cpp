// The Pareto report of a sweep database (sweep_report.h).
#include "sim/sweep/sweep_report.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "sim/report/csv.h"
#include "sim/sweep/sweep_database.h"

namespace cascade {

namespace {

bool no_worse(const SweepResult& a, const SweepResult& b) {
  return a.latency_s <= b.latency_s && a.energy_j <= b.energy_j && a.area_mm2 <= b.area_mm2;
}
bool dominates(const SweepResult& a, const SweepResult& b) {
  return no_worse(a, b) && (a.latency_s < b.latency_s || a.energy_j < b.energy_j ||
                            a.area_mm2 < b.area_mm2);
}

}  // namespace

std::vector<size_t> pareto_front(const std::vector<SweepResult>& points) {
  // Sorted lexicographically, a point can only be dominated by one before it; checking it
  // against the front found so far is enough (a dominated earlier point is itself dominated
  // by a front member, which then dominates this one too).
  std::vector<size_t> order(points.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const SweepResult &x = points[a], &y = points[b];
    if (x.latency_s != y.latency_s) return x.latency_s < y.latency_s;
    if (x.energy_j != y.energy_j) return x.energy_j < y.energy_j;
    if (x.area_mm2 != y.area_mm2) return x.area_mm2 < y.area_mm2;
    return a < b;
  });
  std::vector<size_t> front;
  for (size_t i : order)
    if (std::none_of(front.begin(), front.end(),
                     [&](size_t f) { return dominates(points[f], points[i]); }))
      front.push_back(i);
  std::sort(front.begin(), front.end());
  return front;
}

SweepReport sweep_report(const std::string& db, const std::string& sweep) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db, ec))
    throw Error("sweep database '" + db + "' does not exist (run `cascade sweep` first)");
  SweepDatabase store(db);
  SweepReport r;
  r.points = store.ok_points(sweep);
  if (r.points.empty())
    throw Error("sweep database '" + db + "' has no successful point" +
                (sweep.empty() ? std::string() : " of sweep '" + sweep + "'"));
  r.front = pareto_front(r.points);
  auto best = [&](auto figure) {
    size_t b = 0;
    for (size_t i = 1; i < r.points.size(); ++i)
      if (figure(r.points[i]) < figure(r.points[b])) b = i;
    return b;
  };
  r.best_latency = best([](const SweepResult& p) { return p.latency_s; });
  r.best_energy = best([](const SweepResult& p) { return p.energy_j; });
  r.best_area = best([](const SweepResult& p) { return p.area_mm2; });
  return r;
}

std::string sweep_report_text(const SweepReport& r) {
  std::vector<size_t> front = r.front;
  std::sort(front.begin(), front.end(), [&](size_t a, size_t b) {
    return r.points[a].latency_s < r.points[b].latency_s;
  });
  std::string out = fmt::format("Pareto front over (latency, energy, area): {} of {} points\n",
                                front.size(), r.points.size());
  out += fmt::format("{:>8}  {:>13}  {:>13}  {:>11}  {}\n", "index", "latency_s", "energy_j",
                     "area_mm2", "point");
  for (size_t i : front) {
    const SweepResult& p = r.points[i];
    out += fmt::format("{:>8}  {:>13.6e}  {:>13.6e}  {:>11.4f}  {}\n", p.index, p.latency_s,
                       p.energy_j, p.area_mm2, p.values_json);
  }
  out += "Best per objective:\n";
  for (const auto& [what, i] : {std::pair<const char*, size_t>{"latency", r.best_latency},
                                {"energy", r.best_energy},
                                {"area", r.best_area}}) {
    const SweepResult& p = r.points[i];
    out += fmt::format("  {:<8} index {}: latency {:.6e} s, energy {:.6e} J, area {:.4f} mm2  {}\n",
                       what, p.index, p.latency_s, p.energy_j, p.area_mm2, p.values_json);
  }
  return out;
}

std::string sweep_report_csv(const SweepReport& r) {
  std::vector<CsvRow> rows;
  for (size_t i : r.front) {
    const SweepResult& p = r.points[i];
    rows.push_back({{"index", std::to_string(p.index)},
                    {"key", p.key},
                    {"point", p.values_json},
                    {"mapping", p.mapping},
                    {"latency_s", fmt::format("{:.17g}", p.latency_s)},
                    {"energy_j", fmt::format("{:.17g}", p.energy_j)},
                    {"area_mm2", fmt::format("{:.17g}", p.area_mm2)}});
  }
  return csv_table(rows);
}

}  // namespace cascade
