// The 2D arrays' register files as a limit the cycle model enforces (`cascade simulate
// --register-files enforce`): a run that leaves a resident tile (register_occupancy.h) starts
// only when its words per PE fit the entries its array's earlier resident tiles leave free,
// and its words stay allocated until the last run that reads them finishes. A run that reads
// a resident tile and overwrites it in place (SLN over BQK: its last reader in program order,
// no more words) takes over that tile's entries instead of allocating; the entries go free
// when the readers of both have finished. Plain C++ bookkeeping; the array units ask it.
#pragma once

#include <cstdint>
#include <vector>

#include "arch/arch_spec.h"
#include "mappings/problem/problem.h"
#include "sim/systemc/fold_shape.h"
#include "sim/systemc/plan.h"

namespace cascade {

class RegisterBudget {
 public:
  // Error when one run alone needs more words per PE than its array has entries.
  RegisterBudget(const Problem& problem, const ArchSpec& arch, const Plan& plan,
                 const std::vector<FoldShape>& shapes);
  // Whether `op` allocates entries when it starts (fixed per operation), and whether they are
  // free now.
  bool allocates(int op) const { return alloc_[static_cast<size_t>(op)] > 0; }
  bool fits(int op) const;
  void started(int op);   // allocates
  void finished(int op);  // as a reader: frees the tiles whose last reader it was
  double held(int unit) const { return held_[static_cast<size_t>(unit)]; }

 private:
  std::vector<double> alloc_;       // per op: words it allocates (0: none)
  std::vector<int> block_;          // per op: the block its output lives in (-1: none)
  std::vector<double> block_words_;  // per block
  std::vector<int> block_unit_;
  std::vector<int> readers_left_;   // per block
  std::vector<std::vector<int>> read_blocks_;  // per op: the blocks it reads (once each)
  std::vector<double> held_, entries_;  // per unit
};

}  // namespace cascade
