#include "sim/systemc/tile_model.h"

#define SC_INCLUDE_DYNAMIC_PROCESSES  // sc_spawn: one thread per unit
#include <algorithm>
#include <chrono>
#include <systemc>

#include "arch/support/error.h"

namespace cascade {

namespace {

// All units of one simulation; the tasks' finish times are read after sc_start returns.
class TileSimulator : public sc_core::sc_module {
 public:
  TileSimulator(sc_core::sc_module_name name, const TileSchedule& schedule)
      : sc_core::sc_module(name),
        schedule_(schedule),
        done_(schedule.tasks.size(), false),
        start_(schedule.tasks.size(), 0),
        finish_(schedule.tasks.size(), 0),
        queue_(schedule.units.size()) {
    for (size_t t = 0; t < schedule.tasks.size(); ++t)
      queue_[schedule.tasks[t].unit].push_back(static_cast<int>(t));
    for (size_t u = 0; u < schedule.units.size(); ++u)
      sc_core::sc_spawn([this, u] { run_unit(u); }, ("unit_" + schedule.units[u]).c_str());
  }

  double start(int t) const { return start_[t]; }
  double finish(int t) const { return finish_[t]; }
  bool all_done() const {
    return std::all_of(done_.begin(), done_.end(), [](bool d) { return d; });
  }

 private:
  // In program order, except that a task of one of the next buffers - 1 steps may go ahead
  // of one that still waits for its inputs (the controller pipelines consecutive tiles, as
  // QK of the next query block while the softmax of this one runs).
  void run_unit(size_t unit) {
    const std::vector<int>& queue = queue_[unit];
    size_t first = 0;  // the first task not yet done
    while (first < queue.size()) {
      int pick = -1;
      const TileTask& oldest = schedule_.tasks[queue[first]];
      for (size_t k = first; k < queue.size(); ++k) {
        const TileTask& candidate = schedule_.tasks[queue[k]];
        if (candidate.group != oldest.group || candidate.step >= oldest.step + schedule_.buffers)
          break;
        if (done_[queue[k]]) continue;
        bool ready = true;
        for (int d : candidate.deps) ready = ready && done_[d];
        if (ready) {
          pick = queue[k];
          break;
        }
      }
      if (pick < 0) {
        wait(finished_);  // the handshake: some task finished, look again
        continue;
      }
      start_[pick] = now();
      if (schedule_.tasks[pick].cycles > 0)
        wait(sc_core::sc_time(schedule_.tasks[pick].cycles, sc_core::SC_NS));
      finish_[pick] = now();
      done_[pick] = true;
      finished_.notify(sc_core::SC_ZERO_TIME);
      while (first < queue.size() && done_[queue[first]]) ++first;
    }
  }
  static double now() { return sc_core::sc_time_stamp().to_seconds() * 1e9; }

  const TileSchedule& schedule_;
  std::vector<bool> done_;
  std::vector<double> start_, finish_;
  std::vector<std::vector<int>> queue_;
  sc_core::sc_event finished_;
};

}  // namespace

TileResult simulate_tiles(const TileSchedule& schedule) {
  const auto wall = std::chrono::steady_clock::now();
  TileSimulator sim("tiles", schedule);
  sc_core::sc_start();
  if (!sim.all_done())
    throw Error("tile model: the simulation stopped with tasks left (a dependency cycle)");
  TileResult r;
  r.tasks = schedule.tasks.size();
  std::vector<double> busy(schedule.units.size(), 0);
  for (const TileSchedule::GroupInfo& g : schedule.groups) {
    TileGroupResult gr;
    gr.name = g.name;
    gr.slices = g.slices;
    gr.slices_simulated = g.slices_simulated;
    const int begin = g.slice_begin.front(), end = g.slice_begin.back();
    double group_start = sim.start(begin);
    std::vector<double> slice_end;
    for (size_t s = 0; s + 1 < g.slice_begin.size(); ++s) {
      double last = 0;
      for (int t = g.slice_begin[s]; t < g.slice_begin[s + 1]; ++t)
        last = std::max(last, sim.finish(t));
      slice_end.push_back(last);
    }
    for (int t = begin; t < end; ++t) group_start = std::min(group_start, sim.start(t));
    gr.simulated_cycles = slice_end.back() - group_start;
    gr.cycles_per_slice = slice_end.size() >= 2 ? slice_end.back() - slice_end[slice_end.size() - 2]
                                                : gr.simulated_cycles;
    const double extra = static_cast<double>(g.slices - g.slices_simulated);
    gr.cycles = gr.simulated_cycles + extra * gr.cycles_per_slice;
    // Busy time per unit: the last simulated slice stands for each extrapolated one.
    const int last_begin = g.slice_begin[g.slice_begin.size() - 2];
    for (int t = begin; t < end; ++t) {
      const double c = schedule.tasks[t].cycles;
      busy[schedule.tasks[t].unit] += c * (t >= last_begin ? 1 + extra : 1);
    }
    r.cycles += gr.cycles;
    r.groups.push_back(gr);
  }
  for (size_t u = 0; u < schedule.units.size(); ++u) r.busy_cycles[schedule.units[u]] = busy[u];
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
  return r;
}

TileResult SystemCModel::simulate(const Mapping& mapping, TileSchedule* schedule_out) const {
  TileSchedule schedule =
      build_tile_schedule(problem_, arch_, mapping, options_.slices, options_.buffers);
  TileResult result = simulate_tiles(schedule);
  if (schedule_out) *schedule_out = std::move(schedule);
  return result;
}

Stats SystemCModel::to_stats(const TileResult& r) {
  Stats stats;
  stats.fidelity = "cycle";
  stats.cycles = r.cycles;
  stats.busy_cycles = r.busy_cycles;
  double most = -1;
  for (const auto& [unit, busy] : r.busy_cycles)
    if (busy > most) {
      most = busy;
      stats.bottleneck = unit;
    }
  for (const TileGroupResult& g : r.groups) {
    GroupStats gs;
    gs.name = g.name;
    gs.cycles = g.cycles;
    stats.groups.push_back(gs);
  }
  stats.notes["tasks_simulated"] = static_cast<double>(r.tasks);
  stats.notes["wall_seconds"] = r.wall_seconds;
  return stats;
}

Stats SystemCModel::evaluate(const Mapping& mapping) const { return to_stats(simulate(mapping)); }

}  // namespace cascade

// libsystemc's own main() calls sc_main, so the library needs one to link; cascade has its
// own main() and starts the kernel with sc_start, so this is never called.
int sc_main(int, char*[]) {
  return 1;
}
