#include "mappings/mapping/data_movement.h"

#include <algorithm>

namespace cascade {

namespace {

// Times the tile below `boundary` is fetched (or written back): the loops above it, less
// the innermost ones whose ranks the access does not use. `distinct` gets the number of
// different tiles (relevant loops only).
double fetches(const ResolvedEinsum& re, const ProblemAccess& a, int boundary, double* distinct) {
  double n = 1, d = 1;
  bool reached = false;
  for (size_t i = re.level_end[boundary - 1]; i-- > 0;) {
    const ResolvedLoop& loop = re.loops[i];
    if (loop.slot < 0) continue;  // a group loop this Einsum does not iterate
    const bool relevant = (a.variables >> loop.slot) & 1;
    if (relevant) {
      reached = true;
      d *= loop.effective;
    }
    if (reached) n *= loop.effective;
  }
  if (distinct) *distinct = d;
  return n;
}

struct Transfer {
  double count = 0;          // elements moved across the boundary
  double partial_reads = 0;  // write accesses: partial sums read back
};

Transfer transfer(const Problem& problem, const ProblemEinsum& pe, const ResolvedEinsum& re,
                  const ProblemAccess& a, int boundary) {
  double ext[64];
  tile_extents(pe, re, boundary, ext);
  const double tile = access_elements(problem, a, ext, false);
  double distinct = 1;
  const double n = fetches(re, a, boundary, &distinct);
  Transfer t;
  t.count = tile * n;
  if (a.write) t.partial_reads = std::max(0.0, tile * (n - distinct));
  return t;
}

}  // namespace

DataMovement analyze_data_movement(const Problem& problem, const ArchSpec& arch,
                                   const ResolvedMapping& rm) {
  DataMovement dm;
  analyze_data_movement(problem, arch, rm, dm);
  return dm;
}

void analyze_data_movement(const Problem& problem, const ArchSpec& arch, const ResolvedMapping& rm,
                           DataMovement& dm) {
  dm.tensors.assign(problem.tensors.size(), TensorTraffic{});
  dm.groups.resize(rm.groups.size());
  for (GroupTraffic& gt : dm.groups) {  // reset, keeping the tiles' storage
    gt.buffer.needed_bytes = gt.buffer.spillable_bytes = gt.buffer.spilled_fraction = 0;
    gt.buffer.tiles.clear();
    gt.dram_reads = gt.dram_writes = 0;
  }
  dm.dram_reads = dm.dram_writes = dm.buffer_reads = dm.buffer_writes = 0;
  thread_local std::vector<double> fill;
  fill.assign(problem.tensors.size(), 0.0);
  thread_local std::vector<double> needed;
  needed.assign(rm.groups.size(), 0.0);
  for (size_t g = 0; g < rm.groups.size(); ++g) {
    GroupTraffic& gt = dm.groups[g];
    if (g < rm.buffers.size()) {  // the numbers, not the tiles (rm.buffers has those)
      gt.buffer.needed_bytes = rm.buffers[g].needed_bytes;
      gt.buffer.spillable_bytes = rm.buffers[g].spillable_bytes;
    } else {
      group_buffer_usage(problem, rm, static_cast<int>(g), gt.buffer);
    }
    needed[g] = gt.buffer.needed_bytes;
  }
  const double capacity = arch.global_buffer() ? arch.global_buffer()->capacity_bytes : 0;
  for (size_t g = 0; g < rm.groups.size(); ++g) {
    GroupTraffic& gt = dm.groups[g];
    gt.buffer.spilled_fraction = spilled_fraction(
        gt.buffer.spillable_bytes, spill_room(needed, static_cast<int>(g),
                                              rm.schedule == GroupSchedule::Overlapped, capacity));
    const double spilled = gt.buffer.spilled_fraction;
    std::fill(fill.begin(), fill.end(), 0.0);
    for (int e : rm.groups[g].einsums) {
      const ProblemEinsum& pe = problem.einsums[e];
      const ResolvedEinsum& re = rm.einsums[e];
      for (const ProblemAccess& a : pe.accesses) {
        const ResolvedTensor& rt = rm.tensors[a.tensor];
        TensorTraffic& tt = dm.tensors[a.tensor];
        double dram_r = 0, dram_w = 0;
        if (rt.home == TensorHome::RegisterFile) continue;
        const Transfer inner = transfer(problem, pe, re, a, kSpatialLevel);
        if (rt.home == TensorHome::Dram && !re.is_staged(&a - pe.accesses.data())) {
          if (a.write) {
            dram_w += inner.count;
            dram_r += inner.partial_reads;
          } else {
            dram_r += inner.count;
          }
        } else {
          double buf_r = 0, buf_w = 0;
          if (a.write) {
            buf_w += inner.count;
            buf_r += inner.partial_reads;
          } else {
            buf_r += inner.count;
          }
          if (rt.home == TensorHome::Dram) {
            const Transfer outer = transfer(problem, pe, re, a, kBufferLevel);
            if (a.write) {
              dram_w += outer.count;
              dram_r += outer.partial_reads;
              buf_r += outer.count;
            } else {
              fill[a.tensor] = std::max(fill[a.tensor], outer.count);
            }
          } else if (rt.spill && spilled > 0) {
            dram_r += buf_r * spilled;
            dram_w += buf_w * spilled;
            buf_r *= 1 - spilled;
            buf_w *= 1 - spilled;
          }
          tt.buffer_reads += buf_r;
          tt.buffer_writes += buf_w;
        }
        tt.dram_reads += dram_r;
        tt.dram_writes += dram_w;
        gt.dram_reads += dram_r;
        gt.dram_writes += dram_w;
      }
    }
    for (size_t t = 0; t < fill.size(); ++t) {
      if (fill[t] <= 0) continue;
      dm.tensors[t].dram_reads += fill[t];
      dm.tensors[t].buffer_writes += fill[t];
      gt.dram_reads += fill[t];
    }
  }
  for (const TensorTraffic& t : dm.tensors) {
    dm.dram_reads += t.dram_reads;
    dm.dram_writes += t.dram_writes;
    dm.buffer_reads += t.buffer_reads;
    dm.buffer_writes += t.buffer_writes;
  }
}

// ---------------------------------------------------------------------------------------
}  // namespace cascade
