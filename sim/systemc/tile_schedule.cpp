#include "sim/systemc/tile_schedule.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>

#include "mappings/mapping/data_movement.h"
#include "mappings/mapping/resolve.h"
#include "sim/model/compute_cost.h"

namespace cascade {

TileSchedule build_tile_schedule(const Problem& problem, const ArchSpec& arch,
                                 const Mapping& mapping, int64_t max_slices, int buffers) {
  if (buffers < 2)
    throw Error("the tile model needs at least 2 tile buffers, got " + std::to_string(buffers));
  if (mapping.schedule != GroupSchedule::Sequential)
    throw Error("the tile model runs groups in sequence; mapping '" + mapping.name +
                "' overlaps its groups (schedule: overlapped), which it does not model yet");
  const ResolvedMapping rm = resolve_mapping(problem, arch, mapping);
  TileSchedule s;
  s.buffers = buffers;
  for (const PeArray& a : arch.arrays) s.units.push_back(a.name);
  s.units.push_back("dram");
  const int dram = static_cast<int>(arch.arrays.size());
  // Busy cycles of each Einsum on its array: the issue interval of one point times the
  // temporal iterations of its loop nest, times the share of the box its `where` keeps.
  std::vector<double> einsum_cycles(problem.einsums.size(), 0);
  for (size_t e = 0; e < problem.einsums.size(); ++e) {
    const ProblemEinsum& pe = problem.einsums[e];
    const ResolvedEinsum& re = rm.einsums[e];
    const ComputeCost cost = compute_cost(pe, arch.arrays[re.array]);
    if (!cost.supported)
      throw Error("einsum " + pe.name + ": " + arch.arrays[re.array].name +
                  " does not support its operations");
    const double density = pe.box > 0 ? pe.points / pe.box : 0;
    einsum_cycles[e] = cost.ii * re.temporal_iterations * density;
  }
  const DataMovement traffic = analyze_data_movement(problem, arch, rm);
  const Component* dram_component = arch.dram();
  const double bandwidth = dram_component ? dram_component->bandwidth_bytes_per_s : 0;

  std::vector<int> previous_group_tail;  // the last task of each unit in the previous group
  for (size_t g = 0; g < rm.groups.size(); ++g) {
    const MappingGroup& mg = mapping.groups[g];
    TileSchedule::GroupInfo info;
    info.name = mg.name;
    // Leading batch / head loops make the slices; the rest iterate inside a slice.
    size_t first_inner = 0;
    while (first_inner < mg.dram_loops.size() && (mg.dram_loops[first_inner].rank == "batch" ||
                                                  mg.dram_loops[first_inner].rank == "head"))
      info.slices *= mg.dram_loops[first_inner++].factor;
    std::vector<int64_t> factor;
    for (size_t l = first_inner; l < mg.dram_loops.size(); ++l) {
      factor.push_back(mg.dram_loops[l].factor);
      info.iterations *= mg.dram_loops[l].factor;
    }
    const size_t inner = factor.size();
    info.slices_simulated = max_slices <= 0 ? info.slices : std::min(info.slices, max_slices);

    // Per Einsum of the group (cascade evaluation order): which inner loops it iterates,
    // and for those it lacks, whether it runs at their last iteration (it reads something
    // accumulated over them) or their first.
    std::vector<int> einsums;
    for (int e : problem.order)
      if (rm.einsums[e].group == static_cast<int>(g)) einsums.push_back(e);
    std::vector<std::vector<bool>> iterates(problem.einsums.size(), std::vector<bool>(inner));
    std::vector<std::vector<bool>> at_last(problem.einsums.size(), std::vector<bool>(inner));
    std::vector<double> cycles_per_run(problem.einsums.size(), 0);
    std::vector<std::vector<int>> producers(problem.einsums.size());
    for (int e : einsums) {
      const ResolvedEinsum& re = rm.einsums[e];
      for (size_t l = 0; l < inner; ++l) iterates[e][l] = re.loops[first_inner + l].slot >= 0;
      for (const ProblemAccess& a : problem.einsums[e].accesses) {
        if (a.write) continue;
        const int p = problem.tensors[a.tensor].producer;
        if (p < 0 || p == e || rm.einsums[p].group != static_cast<int>(g)) continue;
        if (std::find(producers[e].begin(), producers[e].end(), p) == producers[e].end())
          producers[e].push_back(p);
        for (size_t l = 0; l < inner; ++l)
          if (iterates[p][l] || at_last[p][l]) at_last[e][l] = true;
      }
      double runs = static_cast<double>(info.slices);
      for (size_t l = 0; l < inner; ++l)
        if (iterates[e][l]) runs *= static_cast<double>(factor[l]);
      cycles_per_run[e] = einsum_cycles[e] / runs;
    }
    const double group_bytes =
        (traffic.groups[g].dram_reads + traffic.groups[g].dram_writes) * problem.word_bytes;
    const double dram_cycles = bandwidth > 0 ? group_bytes / bandwidth * arch.clock_hz : 0;
    const double dram_per_iteration =
        dram_cycles / static_cast<double>(info.slices * info.iterations);

    std::vector<std::vector<int>> step_tasks;               // compute tasks per step
    std::vector<int> own_last(problem.einsums.size(), -1);  // an Einsum's latest run
    for (int64_t slice = 0; slice < info.slices_simulated; ++slice) {
      info.slice_begin.push_back(static_cast<int>(s.tasks.size()));
      std::vector<int> last_run(problem.einsums.size(), -1);  // latest task in this slice
      std::vector<int64_t> index(inner, 0);
      for (int64_t it = 0; it < info.iterations; ++it) {
        // DRAM transfers of this iteration: once the step `buffers` back is computed (its
        // buffer is free), and after the previous group.
        TileTask load;
        load.unit = dram;
        load.group = static_cast<int>(g);
        load.slice = slice;
        load.iteration = it;
        load.step = slice * info.iterations + it;
        load.cycles = dram_per_iteration;
        if (load.step >= buffers)
          load.deps = step_tasks[load.step - buffers];
        else
          load.deps = previous_group_tail;  // the group barrier
        const int load_id = static_cast<int>(s.tasks.size());
        s.tasks.push_back(load);
        step_tasks.emplace_back();
        for (int e : einsums) {
          bool runs = true;
          for (size_t l = 0; l < inner && runs; ++l)
            if (!iterates[e][l]) runs = index[l] == (at_last[e][l] ? factor[l] - 1 : 0);
          if (!runs) continue;
          TileTask t;
          t.unit = rm.einsums[e].array;
          t.group = static_cast<int>(g);
          t.slice = slice;
          t.iteration = it;
          t.step = load.step;
          t.einsum = e;
          t.cycles = cycles_per_run[e];
          t.deps.push_back(load_id);
          for (int p : producers[e])
            if (last_run[p] >= 0) t.deps.push_back(last_run[p]);
          if (own_last[e] >= 0) t.deps.push_back(own_last[e]);  // its own previous run
          if (slice == 0 && it == 0)
            t.deps.insert(t.deps.end(), previous_group_tail.begin(), previous_group_tail.end());
          last_run[e] = own_last[e] = static_cast<int>(s.tasks.size());
          step_tasks.back().push_back(last_run[e]);
          s.tasks.push_back(std::move(t));
        }
        for (size_t l = inner; l-- > 0;) {  // next index, innermost loop fastest
          if (++index[l] < factor[l]) break;
          index[l] = 0;
        }
      }
    }
    info.slice_begin.push_back(static_cast<int>(s.tasks.size()));
    // The next group starts when this one has drained: its first tasks wait for the last
    // task of every unit (units run their tasks in order).
    previous_group_tail.clear();
    std::vector<int> last_of_unit(s.units.size(), -1);
    for (int t = info.slice_begin.front(); t < info.slice_begin.back(); ++t)
      last_of_unit[s.tasks[t].unit] = t;
    for (int t : last_of_unit)
      if (t >= 0) previous_group_tail.push_back(t);
    s.groups.push_back(std::move(info));
  }
  for (size_t t = 0; t < s.tasks.size(); ++t)
    for (int d : s.tasks[t].deps)
      if (d < 0 || d >= static_cast<int>(t))
        throw Error(fmt::format("tile schedule: task {} depends on task {}", t, d));
  return s;
}

}  // namespace cascade
