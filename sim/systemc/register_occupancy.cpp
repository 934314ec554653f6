#include "sim/systemc/register_occupancy.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace cascade {

std::vector<double> resident_words(const Problem& problem, const ArchSpec& arch,
                                   const ResolvedMapping& rm, const std::vector<FoldShape>& shapes) {
  std::vector<double> words(problem.einsums.size(), 0);
  for (size_t e = 0; e < problem.einsums.size(); ++e) {
    const FoldShape& s = shapes[e];
    const ProblemAccess& write = problem.einsums[e].accesses.back();
    const bool spans = s.row_slots != 0 && (write.variables & s.row_slots) == s.row_slots &&
                       (write.variables & s.col_slots) == s.col_slots;
    if (spans && rm.tensors[static_cast<size_t>(write.tensor)].home == TensorHome::RegisterFile &&
        arch.arrays[static_cast<size_t>(rm.einsums[e].array)].rows > 1)
      words[e] = std::round(s.folds);
  }
  return words;
}

std::vector<std::vector<int>> resident_readers(const Problem& problem, const Plan& plan,
                                               const std::vector<double>& words) {
  std::vector<std::vector<int>> readers(plan.ops.size());
  for (size_t j = 0; j < plan.ops.size(); ++j) {
    const PlanOp& reader = plan.ops[j];
    if (reader.kind != PlanOp::Kind::Compute) continue;
    for (int d : plan.deps(j)) {
      const size_t i = static_cast<size_t>(d);
      const PlanOp& producer = plan.ops[i];
      if (producer.kind != PlanOp::Kind::Compute || words[static_cast<size_t>(producer.einsum)] <= 0 ||
          (!readers[i].empty() && readers[i].back() == static_cast<int>(j)))
        continue;
      const int tensor = problem.einsums[static_cast<size_t>(producer.einsum)].accesses.back().tensor;
      for (const ProblemAccess& a : problem.einsums[static_cast<size_t>(reader.einsum)].accesses)
        if (!a.write && a.tensor == tensor) {
          readers[i].push_back(static_cast<int>(j));
          break;
        }
    }
  }
  return readers;
}

std::vector<RegisterOccupancy> register_occupancy(const Problem& problem, const ArchSpec& arch,
                                                  const Plan& plan, const std::vector<FoldShape>& shapes,
                                                  const std::vector<double>& finish) {
  const std::vector<double> words = resident_words(problem, arch, plan.resolved, shapes);
  if (std::none_of(words.begin(), words.end(), [](double w) { return w > 0; })) return {};
  // Each resident run's words are held until its last reader finishes.
  const std::vector<std::vector<int>> readers = resident_readers(problem, plan, words);
  std::vector<double> until(plan.ops.size(), -1);
  for (size_t i = 0; i < plan.ops.size(); ++i)
    for (int j : readers[i]) until[i] = std::max(until[i], finish[static_cast<size_t>(j)]);
  std::vector<RegisterOccupancy> out;
  for (size_t u = 0; u < arch.arrays.size(); ++u) {
    const PeArray& array = arch.arrays[u];
    std::vector<std::pair<double, double>> events;  // (cycle, +words / -words)
    std::vector<bool> counted(problem.einsums.size(), false);
    for (size_t i = 0; i < plan.ops.size(); ++i) {
      const PlanOp& op = plan.ops[i];
      if (op.kind != PlanOp::Kind::Compute || op.unit != static_cast<int>(u) || until[i] <= finish[i])
        continue;
      const double w = words[static_cast<size_t>(op.einsum)];
      counted[static_cast<size_t>(op.einsum)] = true;
      events.emplace_back(finish[i], w);
      events.emplace_back(until[i], -w);
    }
    if (events.empty()) continue;
    std::sort(events.begin(), events.end());  // at one cycle, releases (negative) first
    RegisterOccupancy r;
    r.array = array.name;
    r.entries = array.register_file_entries;
    double held = 0;
    for (const auto& [cycle, delta] : events) {
      held += delta;
      if (held > r.peak_words) r.peak_words = held, r.peak_cycle = cycle;
      if (!r.held.empty() && r.held.back().first == cycle)
        r.held.back().second = held;  // one value per cycle: the last change's
      else
        r.held.emplace_back(cycle, held);
    }
    for (size_t e = 0; e < problem.einsums.size(); ++e)
      if (counted[e]) r.tensors.push_back(problem.einsums[e].name);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace cascade
