#include "sim/systemc/plan.h"

#include <fmt/core.h>

#include "mappings/analysis/evaluation_order.h"

#include <algorithm>
#include <map>
#include <set>

namespace cascade {

namespace {

// One tensor access of one Einsum as the plan moves it.
struct AccessPlan {
  int einsum = -1;
  size_t access = 0;
  int tensor = -1;
  bool write = false;
  TensorHome home = TensorHome::Dram;
  bool staged = true;
  bool spill = false;
  std::vector<size_t> relevant;  // inner DRAM loops (group order) whose index changes the tile
  double tile = 0;               // elements of the tile at the level it moves to
  double per_run = 1;            // tiles moved per run inside the Einsum's loop nest
  double per_run_distinct = 1;   // of which different (writes: the rest read partial sums)
  bool changes_in_run = false;   // a loop inside the run changes the tile: it moves every run
};

// Tiles moved across the boundary below `level` within one run of the Einsum (its loops
// between the DRAM level and the boundary), by the reuse rule: from the innermost loop whose
// rank the access uses, every loop outward multiplies.
void run_fetches(const ResolvedEinsum& re, const ProblemAccess& a, int boundary, AccessPlan& p) {
  double n = 1, d = 1;
  bool reached = false;
  for (size_t i = re.level_end[boundary - 1]; i-- > re.level_end[kDramLevel];) {
    const ResolvedLoop& loop = re.loops[i];
    if (loop.slot < 0) continue;
    const bool relevant = (a.variables >> loop.slot) & 1;
    if (relevant) {
      reached = true;
      d *= loop.effective;
    }
    if (reached) n *= loop.effective;
  }
  p.per_run = n;
  p.per_run_distinct = d;
  p.changes_in_run = reached;
}

struct EinsumPlan {
  std::vector<bool> iterates, at_last;  // per inner DRAM loop
  std::vector<int> producers;           // Einsums of the group it reads
  std::vector<AccessPlan> accesses;
  int recurrence = -1;                  // index into GroupState::recurrences
};

// Einsums that depend on each other through an iterative rank (RD[m1+1] = SPD[m1] + SLD[m1],
// SPD[m1] = RD[m1] * PRM[m1]) and whose runs cover several steps of it: no member can finish
// its run before the others, so they run interleaved step by step, as one. Each member waits
// for every member's producers and the members before it; whatever reads a member's result
// waits for the last member.
struct Recurrence {
  std::vector<int> members;    // evaluation order
  std::vector<int> producers;  // Einsums outside it that its members read
};

}  // namespace

Plan build_plan(const Problem& problem, const ArchSpec& arch, const Mapping& mapping,
                int64_t max_slices) {
  Plan plan;
  plan.resolved = resolve_mapping(problem, arch, mapping);
  const ResolvedMapping& rm = plan.resolved;
  for (const PeArray& a : arch.arrays) plan.units.push_back(a.name);
  plan.units.push_back("dram");
  plan.dram = static_cast<int>(arch.arrays.size());
  plan.overlapped = rm.schedule == GroupSchedule::Overlapped;
  const double capacity = arch.global_buffer() ? arch.global_buffer()->capacity_bytes : 0;

  struct GroupState {
    std::vector<int> einsums;  // evaluation order
    std::vector<EinsumPlan> per;
    size_t first_inner = 0;
    std::vector<int64_t> factor;
    double spilled = 0;
    std::vector<Recurrence> recurrences;
  };
  std::vector<GroupState> states(rm.groups.size());
  std::vector<double> needed;  // per group, for the spill room
  for (const GroupBuffer& b : rm.buffers) needed.push_back(b.needed_bytes);
  for (size_t g = 0; g < rm.groups.size(); ++g) {
    const MappingGroup& mg = mapping.groups[g];
    GroupState& gs = states[g];
    PlanGroup info;
    info.name = mg.name;
    info.serialized_units = mg.serialized_units;
    while (gs.first_inner < mg.dram_loops.size() &&
           (mg.dram_loops[gs.first_inner].rank == kBatchRank ||
            mg.dram_loops[gs.first_inner].rank == kHeadRank))
      info.slices *= mg.dram_loops[gs.first_inner++].factor;
    for (size_t l = gs.first_inner; l < mg.dram_loops.size(); ++l) {
      gs.factor.push_back(mg.dram_loops[l].factor);
      info.iterations *= mg.dram_loops[l].factor;
    }
    info.slices_planned = max_slices <= 0 ? info.slices : std::min(info.slices, max_slices);
    const GroupBuffer& usage = rm.buffers[g];
    info.resident_bytes = usage.needed_bytes + usage.spillable_bytes;
    gs.spilled = spilled_fraction(usage.spillable_bytes,
                                  spill_room(needed, static_cast<int>(g), plan.overlapped, capacity));
    plan.groups.push_back(info);

    const size_t inner = gs.factor.size();
    for (int e : problem.order)
      if (rm.einsums[e].group == static_cast<int>(g)) gs.einsums.push_back(e);
    gs.per.resize(problem.einsums.size());
    for (EinsumPlan& ep : gs.per) {
      ep.iterates.assign(inner, false);
      ep.at_last.assign(inner, false);
    }
    for (int e : gs.einsums)
      for (size_t l = 0; l < inner; ++l)
        gs.per[e].iterates[l] = rm.einsums[e].loops[gs.first_inner + l].slot >= 0;
    // A read of an Einsum later in the order is a recurrence's carried value (the previous
    // run's): it orders the runs but decides nothing about where this one runs.
    for (int e : gs.einsums) {
      const ProblemEinsum& pe = problem.einsums[e];
      const ResolvedEinsum& re = rm.einsums[e];
      EinsumPlan& ep = gs.per[e];
      for (size_t i = 0; i < pe.accesses.size(); ++i) {
        const ProblemAccess& a = pe.accesses[i];
        if (!a.write) {
          const int p = problem.tensors[a.tensor].producer;
          if (p >= 0 && p != e && rm.einsums[p].group == static_cast<int>(g)) {
            if (std::find(ep.producers.begin(), ep.producers.end(), p) == ep.producers.end())
              ep.producers.push_back(p);
            for (size_t l = 0; l < inner; ++l)
              if (gs.per[p].iterates[l] || gs.per[p].at_last[l]) ep.at_last[l] = true;
          }
        }
        const ResolvedTensor& rt = rm.tensors[a.tensor];
        if (rt.home == TensorHome::RegisterFile) continue;
        AccessPlan ap;
        ap.einsum = e;
        ap.access = i;
        ap.tensor = a.tensor;
        ap.write = a.write;
        ap.home = rt.home;
        ap.staged = rt.home != TensorHome::Dram || re.is_staged(i);
        ap.spill = rt.home == TensorHome::GlobalBuffer && rt.spill;
        for (size_t l = 0; l < inner; ++l) {
          const int slot = re.loops[gs.first_inner + l].slot;
          if (slot >= 0 && ((a.variables >> slot) & 1)) ap.relevant.push_back(l);
        }
        // The tile the array works on (below the buffer level); a staged DRAM tensor also
        // moves as its buffer-level tile (AccessPlan with the buffer boundary, made below).
        double ext[64];
        tile_extents(pe, re, kSpatialLevel, ext);
        ap.tile = access_elements(problem, a, ext, false);
        run_fetches(re, a, kSpatialLevel, ap);
        ep.accesses.push_back(ap);
      }
    }
  }

  // Recurrences whose runs cover several of their steps (the iterative rank is not a DRAM loop).
  const std::vector<EinsumGroup> order = evaluation_order(problem.cascade);
  for (size_t g = 0; g < rm.groups.size(); ++g) {
    GroupState& gs = states[g];
    for (const EinsumGroup& eg : order) {
      if (eg.iterative_variable.empty() || eg.einsums.size() < 2) continue;
      Recurrence r;
      bool spans = false;
      for (int e : eg.einsums) {
        if (rm.einsums[e].group != static_cast<int>(g)) continue;
        r.members.push_back(e);
        const ResolvedEinsum& re = rm.einsums[e];
        const int slot = problem.einsums[e].slot_of_rank(rank_of_variable(eg.iterative_variable));
        double steps = 1;
        for (size_t i = re.level_end[kDramLevel]; i < re.loops.size(); ++i)
          if (slot >= 0 && re.loops[i].slot == slot) steps *= re.loops[i].effective;
        spans = spans || steps > 1;
      }
      if (!spans || r.members.size() < 2) continue;
      for (int e : r.members)
        for (int p : gs.per[e].producers)
          if (std::find(r.members.begin(), r.members.end(), p) == r.members.end() &&
              std::find(r.producers.begin(), r.producers.end(), p) == r.producers.end())
            r.producers.push_back(p);
      for (int e : r.members) gs.per[e].recurrence = static_cast<int>(gs.recurrences.size());
      gs.recurrences.push_back(std::move(r));
    }
  }

  // The ops of one slice of one group; `barrier`: what its first ops wait for.
  std::vector<int> barrier;
  // Per group and tensor, the stores of the current slice (overlapped groups read them).
  std::map<std::pair<int64_t, int>, std::vector<int>> stores_of_tensor;  // (slice, tensor)
  auto plan_slice = [&](size_t g, int64_t slice) {
    GroupState& gs = states[g];
    PlanGroup& info = plan.groups[g];
    const size_t inner = gs.factor.size();
    const int group = static_cast<int>(g);
    std::vector<int> last_run(problem.einsums.size(), -1);
    std::vector<int> latest_load(problem.tensors.size(), -1);
    // Coordinates of each tensor's current buffer tile (staged DRAM tensors: the one the
    // buffer holds; writes: the one being accumulated) and of each access's array tile.
    std::map<std::pair<int, bool>, std::vector<int64_t>> buffer_tile;  // (tensor, write)
    std::map<int, std::set<std::vector<int64_t>>> written;  // tiles stored so far
    std::map<std::pair<int, size_t>, std::vector<int64_t>> array_tile;
    // per write access: the array tiles earlier runs wrote (a revisit reads its partial sums)
    std::map<std::pair<int, size_t>, std::set<std::vector<int64_t>>> run_tiles;
    std::map<int, int> pending_store_compute;  // tensor -> compute op that finished the tile
    std::map<int, double> pending_store_words;
    std::map<int, bool> pending_store_staged;
    int previous_compute = -1;
    std::vector<int64_t> index(inner, 0);
    auto coordinates = [&](const AccessPlan& ap) {
      std::vector<int64_t> c;
      for (size_t l : ap.relevant) c.push_back(index[l]);
      return c;
    };
    auto add = [&](PlanOp op, const std::vector<int>& deps) {
      op.group = group;
      op.slice = slice;
      op.step = slice * info.iterations + op.iteration;
      plan.ops.push_back(op);
      plan.dep_list.insert(plan.dep_list.end(), deps.begin(), deps.end());
      plan.dep_begin.push_back(static_cast<int64_t>(plan.dep_list.size()));
      return static_cast<int>(plan.ops.size()) - 1;
    };
    auto read_deps = [&](int tensor) {
      std::vector<int> deps = barrier;
      for (int st : stores_of_tensor[{slice, tensor}]) deps.push_back(st);
      return deps;
    };
    // The share of a tile a partial last DRAM-level tile holds (the outermost loop over a
    // rank pads its last iteration: it moves only what is left).
    auto partial = [&](int e, const AccessPlan& ap) {
      double scale = 1;
      for (size_t l : ap.relevant) {
        const ResolvedLoop& loop = rm.einsums[e].loops[gs.first_inner + l];
        const double f = static_cast<double>(loop.factor);
        if (loop.effective < f && index[l] == loop.factor - 1) scale *= loop.effective - (f - 1);
      }
      return scale;
    };
    // A DRAM transfer of `words` of `tensor` for Einsum e's run at iteration `it`.
    auto transfer = [&](PlanOp::Kind kind, int tensor, int e, int64_t it, double words,
                        bool staged) {
      PlanOp t;
      t.kind = kind;
      t.unit = plan.dram;
      t.iteration = it;
      t.tensor = tensor;
      t.einsum = e;
      t.words = words;
      t.staged = staged;
      return t;
    };
    auto load = [&](int tensor, int e, int64_t it, double words, bool staged) {
      return add(transfer(PlanOp::Kind::Load, tensor, e, it, words, staged),
                 tensor >= 0 ? read_deps(tensor) : barrier);
    };
    auto expect_store = [&](int tensor, double words, bool staged) {
      pending_store_compute[tensor] = -1;  // the compute that finishes the tile: set below
      pending_store_words[tensor] = words;
      pending_store_staged[tensor] = staged;
    };
    auto flush_store = [&](int tensor, int64_t it) {
      auto c = pending_store_compute.find(tensor);
      if (c == pending_store_compute.end()) return;
      PlanOp store;
      store.kind = PlanOp::Kind::Store;
      store.unit = plan.dram;
      store.iteration = it;
      store.tensor = tensor;
      store.einsum = plan.ops[c->second].einsum;
      store.words = pending_store_words[tensor];
      store.staged = pending_store_staged[tensor];
      const int id = add(store, {c->second});
      stores_of_tensor[{slice, tensor}].push_back(id);
      pending_store_compute.erase(c);
    };
    // Before a read of a DRAM tensor produced in this group: the producer's tile goes back to
    // DRAM first (the read loads what the store wrote, not what DRAM held before).
    auto write_back = [&](int tensor, int e, int64_t it) {
      const int p = problem.tensors[tensor].producer;
      auto pending = pending_store_compute.find(tensor);
      if (p >= 0 && p != e && rm.einsums[p].group == group &&
          pending != pending_store_compute.end() && pending->second >= 0)
        flush_store(tensor, it);
    };
    for (int64_t it = 0; it < info.iterations; ++it) {
      for (int e : gs.einsums) {
        const EinsumPlan& ep = gs.per[e];
        bool runs = true;
        for (size_t l = 0; l < inner && runs; ++l)
          if (!ep.iterates[l]) runs = index[l] == (ep.at_last[l] ? gs.factor[l] - 1 : 0);
        if (!runs) continue;
        const ProblemEinsum& pe = problem.einsums[e];
        const ResolvedEinsum& re = rm.einsums[e];
        PlanOp compute;
        compute.kind = PlanOp::Kind::Compute;
        compute.unit = re.array;
        compute.iteration = it;
        compute.einsum = e;
        std::vector<int> loads;
        for (const AccessPlan& ap : ep.accesses) {
          const std::vector<int64_t> coords = coordinates(ap);
          const auto key = std::make_pair(e, ap.access);
          const bool moved = ap.changes_in_run || array_tile.count(key) == 0 ||
                             array_tile[key] != coords;
          array_tile[key] = coords;
          const double scale = partial(e, ap);
          const double array_words = moved ? ap.tile * ap.per_run * scale : 0;
          // Partial sums the array reads back: its tiles revisited within the run, and all of
          // them when an earlier run (another DRAM-level iteration) wrote them.
          const bool revisit = moved && ap.write && !run_tiles[key].insert(coords).second;
          const double partial_sums =
              moved && ap.write
                  ? ap.tile * (ap.per_run - ap.per_run_distinct + (revisit ? ap.per_run_distinct : 0)) * scale
                  : 0;
          if (ap.home == TensorHome::Dram && !ap.staged) {
            // Streamed between DRAM and the array with the run.
            if (array_words <= 0) continue;
            if (!ap.write) {
              write_back(ap.tensor, e, it);
              loads.push_back(load(ap.tensor, e, it, array_words, false));
              continue;
            }
            if (partial_sums > 0)
              loads.push_back(load(ap.tensor, e, it, partial_sums, false));
            expect_store(ap.tensor, array_words, false);
            continue;
          }
          // Through the global buffer: the array's traffic with it (or with DRAM for the
          // part of a spilling tensor that does not fit).
          const double spilled = ap.spill ? gs.spilled : 0;
          if (ap.write) {
            compute.buffer_writes += array_words * (1 - spilled);
            compute.buffer_reads += partial_sums * (1 - spilled);
            compute.spill_writes += array_words * spilled;
            compute.spill_reads += partial_sums * spilled;
          } else {
            compute.buffer_reads += array_words * (1 - spilled);
            compute.spill_reads += array_words * spilled;
          }
          if (ap.home != TensorHome::Dram) continue;
          // A staged DRAM tensor: its buffer tile.
          double ext[64];
          tile_extents(pe, re, kBufferLevel, ext);
          const double tile =
              access_elements(problem, pe.accesses[ap.access], ext, false) * scale;
          const std::vector<int64_t> tile_coords = coords;
          if (!ap.write) {
            auto held = buffer_tile.find({ap.tensor, false});
            if (held == buffer_tile.end() || held->second != tile_coords) {
              write_back(ap.tensor, e, it);
              buffer_tile[{ap.tensor, false}] = tile_coords;
              latest_load[ap.tensor] = load(ap.tensor, e, it, tile, true);
            }
            if (latest_load[ap.tensor] >= 0) loads.push_back(latest_load[ap.tensor]);
          } else {
            auto held = buffer_tile.find({ap.tensor, true});
            if (held != buffer_tile.end() && held->second != tile_coords)
              flush_store(ap.tensor, it);
            if (held == buffer_tile.end() || held->second != tile_coords) {
              buffer_tile[{ap.tensor, true}] = tile_coords;
              if (written[ap.tensor].count(tile_coords))  // revisited: partial sums back
                loads.push_back(load(ap.tensor, e, it, tile, true));
              written[ap.tensor].insert(tile_coords);
            }
            expect_store(ap.tensor, tile, true);
          }
        }
        if (compute.spill_reads > 0)  // the part of a spilling tensor that lives in DRAM
          loads.push_back(load(-1, e, it, compute.spill_reads, false));
        std::vector<int> deps = std::move(loads);
        const Recurrence* rec = ep.recurrence >= 0 ? &gs.recurrences[ep.recurrence] : nullptr;
        for (int p : rec ? rec->producers : ep.producers)
          if (last_run[p] >= 0) deps.push_back(last_run[p]);
        if (rec)
          for (int m : rec->members) {
            if (m == e) break;
            if (last_run[m] >= 0) deps.push_back(last_run[m]);
          }
        if (last_run[e] >= 0) deps.push_back(last_run[e]);
        if (it == 0 && last_run[e] < 0) deps.insert(deps.end(), barrier.begin(), barrier.end());
        if (info.serialized_units && previous_compute >= 0) deps.push_back(previous_compute);
        const int id = add(compute, deps);
        last_run[e] = previous_compute = id;
        for (auto& [tensor, op] : pending_store_compute)
          if (op == -1 && problem.tensors[tensor].producer == e) op = id;
        if (rec && rec->members.back() == e) {  // the recurrence's results are complete now
          for (int m : rec->members) last_run[m] = id;
          for (auto& [tensor, op] : pending_store_compute)
            if (std::find(rec->members.begin(), rec->members.end(),
                          problem.tensors[tensor].producer) != rec->members.end())
              op = id;
        }
        if (plan.ops[id].spill_writes > 0) {
          PlanOp t = transfer(PlanOp::Kind::Store, -1, e, it, plan.ops[id].spill_writes, false);
          add(t, {id});
        }
        // A streamed output leaves with its run.
        for (const AccessPlan& ap : ep.accesses)
          if (ap.write && ap.home == TensorHome::Dram && !ap.staged) flush_store(ap.tensor, it);
      }
      for (size_t l = inner; l-- > 0;) {  // next index, innermost loop fastest
        if (++index[l] < gs.factor[l]) break;
        index[l] = 0;
      }
    }
    std::vector<int> remaining;
    for (const auto& [tensor, op] : pending_store_compute) remaining.push_back(tensor);
    for (int t : remaining) flush_store(t, info.iterations - 1);
  };

  auto tail_of = [&](int begin, int end) {
    std::vector<int> last(plan.units.size(), -1), tail;
    for (int t = begin; t < end; ++t) last[plan.ops[t].unit] = t;
    for (int t : last)
      if (t >= 0) tail.push_back(t);
    return tail;
  };
  if (!plan.overlapped) {
    for (size_t g = 0; g < rm.groups.size(); ++g) {
      const int begin = static_cast<int>(plan.ops.size());
      for (int64_t s = 0; s < plan.groups[g].slices_planned; ++s) {
        plan.groups[g].slice_begin.push_back(static_cast<int>(plan.ops.size()));
        plan_slice(g, s);
      }
      plan.groups[g].slice_begin.push_back(static_cast<int>(plan.ops.size()));
      barrier = tail_of(begin, static_cast<int>(plan.ops.size()));
    }
  } else {
    // Overlapped groups: slice by slice, every group's part of the slice; a group reads
    // what an earlier group of the same slice stored (the loads wait for those stores).
    int64_t slices = 0;
    for (const PlanGroup& pg : plan.groups) slices = std::max(slices, pg.slices_planned);
    for (int64_t s = 0; s < slices; ++s)
      for (size_t g = 0; g < rm.groups.size(); ++g) {
        if (s >= plan.groups[g].slices_planned) continue;
        plan.groups[g].slice_begin.push_back(static_cast<int>(plan.ops.size()));
        plan_slice(g, s);
      }
    for (PlanGroup& pg : plan.groups) pg.slice_begin.push_back(static_cast<int>(plan.ops.size()));
  }
  for (size_t t = 0; t < plan.ops.size(); ++t)
    for (int d : plan.deps(t))
      if (d < 0 || d >= static_cast<int>(t))
        throw Error(fmt::format("plan: operation {} depends on operation {}", t, d));
  return plan;
}

}  // namespace cascade
