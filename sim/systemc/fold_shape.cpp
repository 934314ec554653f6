#include "sim/systemc/fold_shape.h"

#include <algorithm>

namespace cascade {

FoldShape fold_shape(const Problem& problem, const ResolvedMapping& rm, int einsum) {
  const ProblemEinsum& pe = problem.einsums[einsum];
  const ResolvedEinsum& re = rm.einsums[einsum];
  FoldShape s;
  s.rows = re.rows_used;
  s.cols = re.cols_used;
  uint64_t row_slots = 0, col_slots = 0;
  for (size_t i = re.level_end[kBufferLevel]; i < re.level_end[kSpatialLevel]; ++i) {
    const ResolvedLoop& loop = re.loops[i];
    if (loop.slot < 0 || loop.factor <= 1) continue;
    (i < re.cols_end ? col_slots : row_slots) |= uint64_t{1} << loop.slot;
  }
  s.row_slots = row_slots, s.col_slots = col_slots;
  const uint64_t spatial = row_slots | col_slots;
  auto spans = [&](const ProblemAccess& a) { return (a.variables & spatial) == spatial; };
  // The stationary tile.
  const ProblemAccess& write = pe.accesses.back();
  s.stationary = static_cast<int>(pe.accesses.size()) - 1;
  if (!spans(write))
    for (size_t i = 0; i + 1 < pe.accesses.size(); ++i)
      if (spans(pe.accesses[i])) {
        s.stationary = static_cast<int>(i);
        break;
      }
  const ProblemAccess& stationary = pe.accesses[s.stationary];
  s.dataflow = stationary.write ? Dataflow::OutputStationary : Dataflow::WeightStationary;
  // Stream: the innermost temporal loops over ranks the stationary tile does not use.
  std::vector<const ResolvedLoop*> temporal;
  for (size_t i = re.level_end[kDramLevel]; i < re.level_end[kBufferLevel]; ++i)
    temporal.push_back(&re.loops[i]);
  for (size_t i = re.level_end[kSpatialLevel]; i < re.level_end[kRegisterLevel]; ++i)
    temporal.push_back(&re.loops[i]);
  double total = 1;
  for (const ResolvedLoop* l : temporal) total *= static_cast<double>(l->factor);
  s.stream = 1;
  for (size_t i = temporal.size(); i-- > 0;) {
    const ResolvedLoop& l = *temporal[i];
    if (l.slot >= 0 && ((stationary.variables >> l.slot) & 1)) break;
    s.stream *= static_cast<double>(l.factor);
  }
  s.folds = total / s.stream;
  auto resident = [&](const ProblemAccess& a) {
    return rm.tensors[a.tensor].home == TensorHome::RegisterFile;
  };
  const double R = static_cast<double>(s.rows), C = static_cast<double>(s.cols);
  bool down = false, across = false;
  for (size_t i = 0; i < pe.accesses.size(); ++i) {
    const ProblemAccess& a = pe.accesses[i];
    const bool rows_rank = (a.variables & row_slots) != 0 || row_slots == 0;
    const bool cols_rank = (a.variables & col_slots) != 0 || col_slots == 0;
    if (static_cast<int>(i) == s.stationary) {
      if (a.write && !resident(a)) s.drain += R;
      if (!a.write && !resident(a)) s.load += R;
      continue;
    }
    if (rows_rank && cols_rank) {
      if (!a.write && !resident(a) && spatial != 0) s.load += R;
      continue;
    }
    if (cols_rank && !rows_rank) down = true;
    if (rows_rank && !cols_rank) across = true;
  }
  if (row_slots == 0) s.load = s.drain = 0;  // a single row: nothing moves between PEs
  s.skew = (down ? R - 1 : 0) + (across ? C - 1 : 0);
  // The per-PE model runs a product of two reads reduced over one temporal or spatial rank.
  int reads = 0;
  for (const ProblemAccess& a : pe.accesses) reads += !a.write;
  s.gemm = pe.contraction && reads == 2 && pe.accesses.size() == 3;
  return s;
}

double run_cycles(const FoldShape& s, double ii, double density, FillDrain policy) {
  const double stream = s.stream * ii * density;
  if (policy == FillDrain::None) return s.folds * stream;
  const double overhead = s.load + s.skew + s.drain;
  if (policy == FillDrain::PerFold) return s.folds * (overhead + stream);
  return (s.folds - 1) * std::max(stream, s.load + s.drain) + overhead + stream;
}

}  // namespace cascade
