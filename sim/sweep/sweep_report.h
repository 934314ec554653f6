// `cascade sweep report DB`: the Pareto front of a sweep database over (latency, energy,
// area), all three minimized, and the best point per objective.
#pragma once

#include <string>
#include <vector>

#include "sim/sweep/sweep.h"

namespace cascade {

// Indices into `points` of the non-dominated ones, in the order of `points`. A point is
// dominated when another is no worse in all three figures and better in one; points equal
// in all three are all kept.
std::vector<size_t> pareto_front(const std::vector<SweepResult>& points);

struct SweepReport {
  std::vector<SweepResult> points;  // the successful points read
  std::vector<size_t> front;        // pareto_front(points)
  // Per objective (latency, energy, area): the point with the least value (ties: the first).
  size_t best_latency = 0, best_energy = 0, best_area = 0;
};

// Reads the successful points of `sweep` ("" = all) from an existing database; an Error
// when it has none.
SweepReport sweep_report(const std::string& db, const std::string& sweep);
// The report as text: the front (sorted by latency) as a table, then the best points.
std::string sweep_report_text(const SweepReport& report);
// The front as CSV: index, key, the point's values (JSON), mapping, latency_s, energy_j,
// area_mm2.
std::string sweep_report_csv(const SweepReport& report);

}  // namespace cascade
