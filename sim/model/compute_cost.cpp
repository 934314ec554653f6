#include "sim/model/compute_cost.h"

#include <algorithm>
#include <map>

#include "mappings/mapping/resolve.h"

namespace cascade {

ComputeCost compute_cost(const ProblemEinsum& einsum, const PeArray& array) {
  ComputeCost cost;
  std::map<std::string, double> slots;  // issue slots per component
  double issue = 0;
  for (const auto& [op, rate] : einsum.ops_per_point) {
    const auto lowered = lower_operation(array, op);
    if (lowered.empty()) return ComputeCost{};
    for (const auto& [name, times] : lowered) {
      const double n = rate * times;
      issue = std::max(issue, n * array.cycles_of(name));
      for (const OpAction& oa : array.actions_of(name)) {
        slots[oa.component] += n * oa.count;
        auto same = std::find_if(cost.actions.begin(), cost.actions.end(), [&](const PointAction& a) {
          return a.component == oa.component && a.action == oa.action;
        });
        if (same != cost.actions.end())
          same->per_point += n * oa.count;
        else
          cost.actions.push_back({oa.component, oa.action, n * oa.count});
      }
    }
  }
  double busiest = 0;
  for (const auto& [component, n] : slots) busiest = std::max(busiest, n);
  cost.supported = true;
  cost.ii = std::max(busiest, issue);
  return cost;
}

}  // namespace cascade
