#include "sim/systemc/register_budget.h"

#include <algorithm>
#include <fmt/core.h>

#include "arch/support/error.h"
#include "sim/systemc/register_occupancy.h"

namespace cascade {

RegisterBudget::RegisterBudget(const Problem& problem, const ArchSpec& arch, const Plan& plan,
                               const std::vector<FoldShape>& shapes)
    : alloc_(plan.ops.size(), 0),
      block_(plan.ops.size(), -1),
      read_blocks_(plan.ops.size()),
      held_(plan.units.size(), 0),
      entries_(plan.units.size(), 0) {
  for (size_t u = 0; u < arch.arrays.size(); ++u)
    entries_[u] = static_cast<double>(arch.arrays[u].register_file_entries);
  const std::vector<double> words = resident_words(problem, arch, plan.resolved, shapes);
  const std::vector<std::vector<int>> readers = resident_readers(problem, plan, words);
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const PlanOp& op = plan.ops[i];
    const double w = op.kind == PlanOp::Kind::Compute ? words[static_cast<size_t>(op.einsum)] : 0;
    if (w <= 0) continue;
    if (w > entries_[static_cast<size_t>(op.unit)])
      throw Error(fmt::format("--register-files enforce: a run of {} keeps {} words per PE in {}'s "
                              "register files, which have {} entries (the mapping's folds per run "
                              "must fit them)",
                              problem.einsums[static_cast<size_t>(op.einsum)].name, w,
                              arch.arrays[static_cast<size_t>(op.unit)].name,
                              entries_[static_cast<size_t>(op.unit)]));
    // In place: the last reader of a resident tile on its array, no larger.
    int inherit = -1;
    for (int d : plan.deps(i)) {
      const size_t k = static_cast<size_t>(d);
      if (block_[k] >= 0 && plan.ops[k].unit == op.unit && !readers[k].empty() &&
          readers[k].back() == static_cast<int>(i) && w <= block_words_[static_cast<size_t>(block_[k])])
        inherit = block_[k];
    }
    if (inherit < 0) {
      inherit = static_cast<int>(block_words_.size());
      block_words_.push_back(w);
      block_unit_.push_back(op.unit);
      readers_left_.push_back(0);
      alloc_[i] = w;
    }
    block_[i] = inherit;
    readers_left_[static_cast<size_t>(inherit)] += static_cast<int>(readers[i].size());
    for (int r : readers[i]) {
      std::vector<int>& rb = read_blocks_[static_cast<size_t>(r)];
      rb.push_back(inherit);  // a reader of two members of one block counts twice, as it does
    }
  }
  // A resident producer nobody reads frees its entries when it finishes.
  for (size_t i = 0; i < plan.ops.size(); ++i)
    if (alloc_[i] > 0 && readers_left_[static_cast<size_t>(block_[i])] == 0) {
      readers_left_[static_cast<size_t>(block_[i])] = 1;
      read_blocks_[i].push_back(block_[i]);
    }
}

bool RegisterBudget::fits(int op) const {
  const size_t u = static_cast<size_t>(block_unit_[static_cast<size_t>(block_[static_cast<size_t>(op)])]);
  return held_[u] + alloc_[static_cast<size_t>(op)] <= entries_[u] + 1e-9;
}

void RegisterBudget::started(int op) {
  if (!allocates(op)) return;
  held_[static_cast<size_t>(block_unit_[static_cast<size_t>(block_[static_cast<size_t>(op)])])] +=
      alloc_[static_cast<size_t>(op)];
}

void RegisterBudget::finished(int op) {
  for (int b : read_blocks_[static_cast<size_t>(op)])
    if (--readers_left_[static_cast<size_t>(b)] == 0)
      held_[static_cast<size_t>(block_unit_[static_cast<size_t>(b)])] -= block_words_[static_cast<size_t>(b)];
}

}  // namespace cascade
