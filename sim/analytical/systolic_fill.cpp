#include "sim/analytical/systolic_fill.h"

#include <algorithm>
#include <vector>

namespace cascade {

double systolic_busy_cycles(const Problem& problem, const ResolvedMapping& rm, int e,
                            const PeArray& array, double ii) {
  const ProblemEinsum& pe = problem.einsums[e];
  const ResolvedEinsum& re = rm.einsums[e];
  const double density = pe.box > 0 ? pe.points / pe.box : 0;
  const double plain = ii * re.temporal_iterations * density;
  if (array.rows <= 1 || array.fill_drain == FillDrain::None) return plain;

  // Which slots span the rows and the columns of the array.
  uint64_t rows_mask = 0, cols_mask = 0;
  for (uint32_t i = re.level_end[kBufferLevel]; i < re.level_end[kSpatialLevel]; ++i) {
    const ResolvedLoop& l = re.loops[i];
    if (l.slot >= 0 && l.factor > 1) (i < re.cols_end ? cols_mask : rows_mask) |= uint64_t{1} << l.slot;
  }
  if (rows_mask == 0) return plain;  // one row of PEs in use: nothing moves down
  const uint64_t both = rows_mask | cols_mask;
  // Runs of the Einsum (its DRAM-level iterations) and steps per run.
  double runs = 1, per_run = 1;
  for (uint32_t i = 0; i < re.level_end[kDramLevel]; ++i)
    if (re.loops[i].slot >= 0) runs *= static_cast<double>(re.loops[i].factor);
  thread_local std::vector<int> temporal_slots;  // reused: no allocation per evaluation
  thread_local std::vector<double> temporal_factors;
  temporal_slots.clear();
  temporal_factors.clear();
  for (uint32_t i = re.level_end[kDramLevel]; i < re.loops.size(); ++i) {
    if (i >= re.level_end[kBufferLevel] && i < re.level_end[kSpatialLevel]) continue;
    temporal_slots.push_back(re.loops[i].slot);
    temporal_factors.push_back(static_cast<double>(re.loops[i].factor));
    per_run *= temporal_factors.back();
  }
  // The stationary access: the output if it spans both spatial ranks, else the first read.
  size_t stationary = pe.accesses.size() - 1;
  if ((pe.accesses.back().variables & both) != both)
    for (size_t a = 0; a + 1 < pe.accesses.size(); ++a)
      if ((pe.accesses[a].variables & both) == both) {
        stationary = a;
        break;
      }
  const uint64_t kept = pe.accesses[stationary].variables;
  double stream = 1;
  for (size_t i = temporal_slots.size(); i-- > 0;) {
    if (temporal_slots[i] >= 0 && ((kept >> temporal_slots[i]) & 1)) break;
    stream *= temporal_factors[i];
  }
  const double folds = per_run / stream;
  const double R = static_cast<double>(re.rows_used), C = static_cast<double>(re.cols_used);
  double load = 0, drain = 0;
  bool down = false, across = false;
  for (size_t a = 0; a < pe.accesses.size(); ++a) {
    const ProblemAccess& acc = pe.accesses[a];
    const bool in_rf = rm.tensors[acc.tensor].home == TensorHome::RegisterFile;
    const bool r = (acc.variables & rows_mask) != 0, c = (acc.variables & cols_mask) != 0 ||
                                                        cols_mask == 0;
    if (a == stationary) {
      if (!in_rf) (acc.write ? drain : load) += R;
    } else if (r && c) {
      if (!acc.write && !in_rf) load += R;
    } else {
      down = down || (c && !r);
      across = across || (r && !c);
    }
  }
  const double skew = (down ? R - 1 : 0) + (across ? C - 1 : 0);
  const double streaming = stream * ii * density;
  const double per_fold = load + drain + skew + streaming;
  if (array.fill_drain == FillDrain::PerFold) return runs * folds * per_fold;
  return runs * ((folds - 1) * std::max(streaming, load + drain) + per_fold);
}

}  // namespace cascade
