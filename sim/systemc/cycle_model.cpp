#include "sim/systemc/cycle_model.h"

#include <fmt/core.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>

#include "arch/support/files.h"
#include "sim/model/compute_cost.h"
#include "sim/systemc/fold_shape.h"
#include "sim/systemc/lane_program.h"
#include "sim/systemc/register_budget.h"
#include "sim/systemc/steady_window.h"
#include "sim/systemc/tile_program.h"
#include "sim/systemc/units.h"

namespace cascade {

namespace {

using cycle::OpWork;

// For traces and deadlock reports (not stored per operation: FLAT 256K plans 15.7M).
std::string operation_name(const Problem& problem, const PlanOp& op) {
  if (op.kind == PlanOp::Kind::Compute) return problem.einsums[op.einsum].name;
  return std::string(op.kind == PlanOp::Kind::Load ? "load " : "store ") +
         (op.tensor >= 0 ? problem.tensors[op.tensor].name : "spill");
}

double accesses(const Component& c, double words, int word_bits) {
  const int bits = c.access_bits > 0 ? c.access_bits : word_bits;
  return words * static_cast<double>(word_bits) / static_cast<double>(bits);
}

}  // namespace

SystemCModel::SystemCModel(const Problem& problem, const ArchSpec& arch, CycleModelOptions options)
    : problem_(problem), arch_(arch), options_(std::move(options)) {
  if (options_.slices < -1)
    throw Error("--slices must be >= 0 (0 simulates every slice; default: 3 x tiles in flight + 1)");
  if (options_.tiles_in_flight < 1)
    throw Error("--tiles-in-flight must be at least 1, got " +
                std::to_string(options_.tiles_in_flight));
  if (options_.vector_engine && !options_.per_pe)
    throw Error("a vector engine runs per-PE mode's 1D commands: it needs per-PE mode");
  if (options_.gemm_engine) {
    if (!options_.per_pe) throw Error("a GEMM engine runs per-PE mode's GEMMs: it needs per-PE mode");
    for (const PeArray& a : arch.arrays)
      if (a.rows > 1) options_.gemm_engine->check_array(a.name, a.rows, a.cols);
  }
  if (options_.per_pe)
    for (const PeArray& a : arch.arrays)
      if (a.rows > 1 && (a.rows > 64 || a.cols > 64))
        throw Error("per-PE mode simulates arrays up to 64 x 64; " + a.name + " is " +
                    std::to_string(a.rows) + " x " + std::to_string(a.cols) +
                    " (use the wavefront granularity)");
}

Stats SystemCModel::evaluate(const Mapping& mapping) const { return simulate(mapping).stats; }

CycleResult SystemCModel::simulate(const Mapping& mapping) const {
  const auto wall = std::chrono::steady_clock::now();
  const Problem& problem = problem_;
  const ArchSpec& arch = arch_;
  const int64_t slices =
      options_.slices < 0 ? 3 * static_cast<int64_t>(options_.tiles_in_flight) + 1 : options_.slices;
  const Plan plan = build_plan(problem, arch, mapping, slices);
  const ResolvedMapping& rm = plan.resolved;
  const Component* dram = arch.dram();
  const Component* buffer = arch.global_buffer();
  const double word_bytes = problem.word_bytes;
  const double bytes_per_cycle =
      dram && dram->bandwidth_bytes_per_s > 0 ? dram->bandwidth_bytes_per_s / arch.clock_hz : 0;
  const double burst = dram && dram->burst_bytes > 0   ? dram->burst_bytes
                       : dram && dram->access_bits > 0 ? dram->access_bits / 8.0
                                                       : word_bytes;

  // Per Einsum: its cost on its array, its fold shape, its runs over the whole mapping.
  const double bh = static_cast<double>(problem.batch * problem.heads);
  std::vector<ComputeCost> cost(problem.einsums.size());
  std::vector<FoldShape> shape(problem.einsums.size());
  std::vector<double> runs_planned(problem.einsums.size(), 0), slices_of(problem.einsums.size(), 1);
  for (size_t e = 0; e < problem.einsums.size(); ++e) {
    const PeArray& array = arch.arrays[rm.einsums[e].array];
    cost[e] = compute_cost(problem.einsums[e], array);
    if (!cost[e].supported)
      throw Error("einsum " + problem.einsums[e].name + ": " + array.name +
                  " does not support its operations");
    shape[e] = fold_shape(problem, rm, static_cast<int>(e));
    const PlanGroup& g = plan.groups[rm.einsums[e].group];
    slices_of[e] = static_cast<double>(g.slices) / static_cast<double>(g.slices_planned);
  }
  for (const PlanOp& op : plan.ops)
    if (op.kind == PlanOp::Kind::Compute) runs_planned[op.einsum] += 1;

  // Per-PE mode: the 1D arrays' Einsums the softmax unit runs as its commands, and the
  // arrays that run them (lane_program.h).
  const std::vector<LaneRole> roles = options_.per_pe ? lane_roles(problem) : std::vector<LaneRole>();
  std::vector<bool> lane_array(arch.arrays.size(), false);
  // Per-PE mode: the 2D arrays' Einsums that run as programs on resident tiles.
  const std::vector<TileRole> tile_role =
      options_.per_pe ? tile_roles(problem, rm, shape) : std::vector<TileRole>(problem.einsums.size(), TileRole::None);
  std::vector<OpWork> work(plan.ops.size());
  std::vector<int> last_staged_load(problem.tensors.size(), -1);
  std::vector<int> consumers(plan.ops.size(), 0);
  bool dram_traffic = false;
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const PlanOp& op = plan.ops[i];
    OpWork& w = work[i];
    if (op.kind == PlanOp::Kind::Compute) {
      const int e = op.einsum;
      const ProblemEinsum& pe = problem.einsums[e];
      const PeArray& array = arch.arrays[op.unit];
      const double density = pe.box > 0 ? pe.points / pe.box : 0;
      const FillDrain policy = array.rows > 1 ? array.fill_drain : FillDrain::None;
      w.compute_cycles = run_cycles(shape[e], cost[e].ii, density, policy);
      w.stream_cycles = run_cycles(shape[e], cost[e].ii, density, FillDrain::None);
      const double points = pe.points * bh / (runs_planned[e] * slices_of[e]);
      w.pe_cycles = points * cost[e].ii / static_cast<double>(array.pes());
      w.buffer_words = op.buffer_reads + op.buffer_writes;
      w.first_bank = e * 3;
      w.dataflow = shape[e].dataflow;
      if (options_.per_pe && array.rows == 1 && roles[e].kind != LaneRole::Kind::None) {
        w.lane_command = static_cast<int8_t>(roles[e].command);
        const double rounds = roles[e].kind == LaneRole::Kind::Leader
                                  ? std::ceil(std::round(points) / static_cast<double>(array.cols))
                                  : 0;
        if (rounds > 1e9)
          throw Error("per-PE mode: " + pe.name + " issues " + fmt::format("{:.0f}", rounds) +
                      " commands per run on " + array.name + "; simulate a smaller size");
        w.lane_rounds = static_cast<int>(rounds);
        lane_array[op.unit] = true;
      }
      if (options_.per_pe && array.rows > 1 && shape[e].gemm && policy != FillDrain::None) {
        w.gemm_per_pe = true;
        w.overlap = policy == FillDrain::Overlapped;
        const int64_t folds = static_cast<int64_t>(std::llround(shape[e].folds));
        const int64_t stream = static_cast<int64_t>(std::llround(shape[e].stream));
        if (shape[e].dataflow == Dataflow::OutputStationary) {
          w.gemm_m = shape[e].rows, w.gemm_n = shape[e].cols * folds, w.gemm_k = stream;
        } else {
          w.gemm_m = stream, w.gemm_n = shape[e].cols * folds, w.gemm_k = shape[e].rows;
        }
      }
      if (options_.per_pe && array.rows > 1 && tile_role[e] != TileRole::None && policy != FillDrain::None &&
          array.register_file_entries > 0) {
        w.tile_role = tile_role[e];
        w.tile_entries = static_cast<int8_t>(std::min<int64_t>(array.register_file_entries, 16));
        w.tile_folds = static_cast<int64_t>(std::llround(shape[e].folds));
        if (w.tile_folds > 1'000'000)
          throw Error("per-PE mode: " + pe.name + " runs " + std::to_string(w.tile_folds) +
                      " folds per run on " + array.name + "; simulate a smaller size");
      }
      for (int d : plan.deps(i))
        if (plan.ops[d].kind == PlanOp::Kind::Load && plan.ops[d].staged) ++consumers[d];
    } else {
      dram_traffic = dram_traffic || op.words > 0;
      w.bytes = std::ceil(op.words * word_bytes / burst - 1e-9) * burst;
      w.compute_cycles = bytes_per_cycle > 0 ? w.bytes / bytes_per_cycle : 0;
      w.buffer_words = op.staged ? op.words : 0;
      w.first_bank = (op.tensor * 5 + static_cast<int>(op.iteration)) & 0x7fff;
      if (op.kind == PlanOp::Kind::Load && op.staged && op.tensor >= 0) {
        w.replaces = last_staged_load[op.tensor];
        last_staged_load[op.tensor] = static_cast<int>(i);
        w.hold_bytes = op.words * word_bytes;
      }
    }
  }
  if (dram_traffic && bytes_per_cycle <= 0)
    throw Error("architecture " + arch.name + (dram ? ": " + dram->name + " has no bandwidth" : " has no DRAM") +
                ", and mapping '" + mapping.name + "' moves data through it");
  for (size_t i = 0; i < plan.ops.size(); ++i) work[i].consumers = consumers[i];

  // Space loads may hold beyond what one iteration keeps (the largest group's).
  double resident = 0;
  for (const PlanGroup& g : plan.groups)
    resident = plan.overlapped ? resident + g.resident_bytes : std::max(resident, g.resident_bytes);
  const double capacity = buffer ? buffer->capacity_bytes : 0;
  const double prefetch = std::max(0.0, capacity - resident);

  // Elaborate.
  sc_core::sc_set_time_resolution(1, sc_core::SC_FS);
  cycle::Shared shared;
  shared.plan = &plan;
  shared.work = &work;
  shared.tiles_in_flight = options_.tiles_in_flight;
  shared.start.assign(plan.ops.size(), 0);
  shared.finish.assign(plan.ops.size(), -1);
  shared.retire_after = consumers;
  shared.index_dependencies();
  cycle::Scoreboard scoreboard(plan.ops.size());
  std::unique_ptr<Datapath> datapath;
  if (options_.inputs)
    datapath = std::make_unique<Datapath>(problem, plan, *options_.inputs, options_.execution);
  shared.datapath = datapath.get();
  if (datapath) {  // per-PE mode: the GEMM-shaped runs compute the data's values on the array
    if (options_.gemm_engine)
      datapath->feed_gemms([engine = options_.gemm_engine](NumberFormat a, NumberFormat b,
                                                           NumberFormat acc) {
        return engine->takes_values(a, b, acc);
      });
    datapath->feed_lanes([engine = options_.vector_engine](NumberFormat s, NumberFormat acc, ExpMode exp) {
      return engine ? engine->takes_values(s, acc, exp) : SoftmaxLanes::takes_values(s, acc, exp);
    });
    for (size_t i = 0; i < work.size(); ++i)
      if (work[i].lane_rounds > 0)
        datapath->feed_lane_run(static_cast<int>(i), static_cast<int>(arch.arrays[plan.ops[i].unit].cols));
    for (size_t i = 0; i < work.size(); ++i) {
      const cycle::OpWork& w = work[i];
      if (!w.gemm_per_pe) continue;
      const PeArray& a = arch.arrays[plan.ops[i].unit];
      datapath->feed_gemm(static_cast<int>(i), a.rows, a.cols, w.dataflow,
                          systolic_geometry(a.rows, a.cols, w.dataflow, w.gemm_m, w.gemm_n, w.gemm_k));
    }
  }
  const int banks = buffer ? buffer->banks : 1;
  const double row_words = buffer && buffer->row_bits > 0
                               ? buffer->row_bits / static_cast<double>(arch.word_bits)
                               : (buffer && buffer->access_bits > 0
                                      ? buffer->access_bits / static_cast<double>(arch.word_bits)
                                      : 1.0);
  cycle::GlobalBuffer global_buffer(banks, row_words, buffer ? buffer->ports : 1, prefetch);
  shared.scoreboard = &scoreboard;
  shared.buffer = &global_buffer;
  std::vector<size_t> per_unit(plan.units.size(), 0);
  for (const PlanOp& op : plan.ops) ++per_unit[op.unit];
  const NumberFormat accumulate = NumberFormat::FP32;
  std::vector<std::unique_ptr<cycle::Unit>> units;
  for (size_t u = 0; u < arch.arrays.size(); ++u)
    units.push_back(std::make_unique<cycle::ArrayUnit>(
        ("unit_" + arch.arrays[u].name).c_str(), static_cast<int>(u), per_unit[u] + 1, shared,
        accumulate, arch.arrays[u].rows, arch.arrays[u].cols));
  units.push_back(std::make_unique<cycle::DramUnit>("unit_dram", plan.dram, per_unit[plan.dram] + 1,
                                                    shared, dram ? dram->latency_cycles : 0));
  if (options_.gemm_engine)
    for (size_t u = 0; u < arch.arrays.size(); ++u)
      if (arch.arrays[u].rows > 1)
        options_.gemm_engine->elaborate(static_cast<int>(u), arch.arrays[u].rows, arch.arrays[u].cols);
  shared.gemm_engine = options_.gemm_engine;
  if (options_.vector_engine)
    for (size_t u = 0; u < arch.arrays.size(); ++u)
      if (lane_array[u]) {
        options_.vector_engine->check_array(arch.arrays[u].name, arch.arrays[u].cols);
        options_.vector_engine->elaborate(static_cast<int>(u), arch.arrays[u].cols);
      }
  shared.vector_engine = options_.vector_engine;
  shared.tile_exp = options_.execution.exp == ExpMode::Fast ? ExpMode::Fast : ExpMode::Hardware;
  shared.tile_programs.assign(problem.einsums.size(), 0);
  std::optional<RegisterBudget> registers;
  if (options_.enforce_register_files) registers.emplace(problem, arch, plan, shape);
  shared.registers = registers ? &*registers : nullptr;
  std::vector<cycle::Unit*> raw;
  for (auto& u : units) raw.push_back(u.get());
  cycle::Controller controller("controller", shared, raw, options_.progress);
  sc_core::sc_trace_file* vcd = nullptr;
  sc_core::sc_signal<double, sc_core::SC_MANY_WRITERS> held_bytes("buffer_held_bytes", 0.0);
  // SystemC writes the VCD under a temporary name (it appends ".vcd"); renamed over --vcd
  // once the run ends, so a failed or killed run leaves the previous file, never half a one.
  std::optional<StagedOutput> vcd_file;
  if (!options_.vcd.empty()) {
    vcd_file.emplace(options_.vcd, "--vcd", ".vcd");
    const std::string base = vcd_file->temp().substr(0, vcd_file->temp().size() - 4);
    vcd = sc_core::sc_create_vcd_trace_file(base.c_str());
    vcd->set_time_unit(1, sc_core::SC_NS);
    for (size_t u = 0; u < units.size(); ++u)
      sc_core::sc_trace(vcd, units[u]->busy, plan.units[u] + "_busy");
    global_buffer.held_bytes = &held_bytes;
    sc_core::sc_trace(vcd, held_bytes, "buffer_held_bytes");
  }
  sc_core::sc_start();
  if (vcd) sc_core::sc_close_vcd_trace_file(vcd);
  if (shared.failure) std::rethrow_exception(shared.failure);
  if (vcd_file) vcd_file->commit();  // a deadlock's too: it shows where the units stopped
  if (scoreboard.completed() != plan.ops.size()) {
    std::string blocked;
    for (size_t t = 0; t < plan.ops.size(); ++t) {
      if (scoreboard.done(static_cast<int>(t)) || shared.start[t] > 0) continue;
      blocked += fmt::format("\n  {} waits for operation {} ({})", plan.units[plan.ops[t].unit],
                             t, operation_name(problem, plan.ops[t]));
      if (blocked.size() > 2000) break;
    }
    throw Error(fmt::format("cycle model: the simulation stopped with {} of {} operations done "
                            "(a deadlock); blocked:{}",
                            scoreboard.completed(), plan.ops.size(), blocked));
  }

  // Results. A group's simulated slices end at e[0..N-1]; its n slices take
  // e[N-1] - start + (n - N) x the increment averaged over the middle slices [lo, hi]
  // (steady_window.h: the first and last tiles_in_flight are the pipeline filling and
  // draining; a whole number of the increments' period), and every operation of a slice in
  // (lo, hi] stands for (n - N) / (hi - lo) more.
  CycleResult result;
  Stats& st = result.stats;
  st.fidelity = "cycle";
  result.operations = plan.ops.size();
  for (size_t e = 0; e < problem.einsums.size(); ++e)
    if (shared.tile_programs[e] > 0) result.tile_programs[problem.einsums[e].name] = shared.tile_programs[e];
  result.register_files = register_occupancy(problem, arch, plan, shape, shared.finish);
  const int64_t warm = options_.tiles_in_flight;
  auto window = [&](const std::vector<double>& end, int64_t& lo, int64_t& hi) {
    const SteadyWindow w = steady_window(end, warm);
    lo = w.lo, hi = w.hi;
  };
  std::map<std::pair<int, int64_t>, double> weight;  // (group, slice) -> times it counts
  struct Repeat {
    double from = 0, to = 0, factor = 0;  // [from, to] of simulated time repeats factor more
  };
  std::vector<Repeat> repeats;
  double total = 0;
  if (!plan.overlapped) {
    for (size_t g = 0; g < plan.groups.size(); ++g) {
      const PlanGroup& pg = plan.groups[g];
      CycleGroupResult gr;
      gr.name = pg.name;
      gr.slices = pg.slices;
      gr.slices_simulated = pg.slices_planned;
      std::vector<double> end;
      double start = 1e300;
      for (size_t k = 0; k + 1 < pg.slice_begin.size(); ++k) {
        double e = 0;
        for (int t = pg.slice_begin[k]; t < pg.slice_begin[k + 1]; ++t) {
          e = std::max(e, shared.finish[t]);
          start = std::min(start, shared.start[t]);
        }
        end.push_back(e);
      }
      const int64_t n = static_cast<int64_t>(end.size());
      int64_t lo = 0, hi = 0;
      window(end, lo, hi);
      gr.cycles_per_slice = hi > lo ? (end[hi] - end[lo]) / static_cast<double>(hi - lo)
                                    : end.back() - start;
      const double extra = static_cast<double>(pg.slices - pg.slices_planned);
      gr.cycles = end.back() - start + extra * gr.cycles_per_slice;
      if (hi > lo && extra > 0)
        repeats.push_back({end[lo], end[hi], extra / static_cast<double>(hi - lo)});
      else if (extra > 0)
        repeats.push_back({start, end.back(), extra});
      for (int64_t k = 0; k < n; ++k)
        weight[{static_cast<int>(g), k}] =
            1 + (k > lo && k <= hi ? extra / static_cast<double>(hi - lo)
                                   : (hi == lo && k == hi ? extra : 0));
      total += gr.cycles;
      GroupStats gs;
      gs.name = gr.name;
      gs.cycles = gr.cycles;
      st.groups.push_back(gs);
      result.groups.push_back(gr);
    }
  } else {
    // Overlapped groups interleave slice by slice: extrapolate the whole.
    int64_t n = 0, slices_all = 0;
    for (const PlanGroup& pg : plan.groups) {
      n = std::max(n, pg.slices_planned);
      slices_all = std::max(slices_all, pg.slices);
    }
    std::vector<double> end(static_cast<size_t>(n), 0);
    for (size_t t = 0; t < plan.ops.size(); ++t)
      end[plan.ops[t].slice] = std::max(end[plan.ops[t].slice], shared.finish[t]);
    for (size_t k = 1; k < end.size(); ++k) end[k] = std::max(end[k], end[k - 1]);
    int64_t lo = 0, hi = 0;
    window(end, lo, hi);
    const double step = hi > lo ? (end[hi] - end[lo]) / static_cast<double>(hi - lo) : end.back();
    const double extra = static_cast<double>(slices_all - n);
    total = end.back() + extra * step;
    if (hi > lo && extra > 0)
      repeats.push_back({end[lo], end[hi], extra / static_cast<double>(hi - lo)});
    else if (extra > 0)
      repeats.push_back({0, end.back(), extra});
    for (size_t g = 0; g < plan.groups.size(); ++g)
      for (int64_t k = 0; k < n; ++k)
        weight[{static_cast<int>(g), k}] =
            1 + (k > lo && k <= hi ? extra / static_cast<double>(hi - lo)
                                   : (hi == lo && k == hi ? extra : 0));
    for (const PlanGroup& pg : plan.groups) {
      CycleGroupResult gr;
      gr.name = pg.name;
      gr.slices = pg.slices;
      gr.slices_simulated = pg.slices_planned;
      gr.cycles = total;
      gr.cycles_per_slice = step;
      result.groups.push_back(gr);
      GroupStats gs;
      gs.name = pg.name;
      gs.cycles = total;
      st.groups.push_back(gs);
    }
  }
  st.cycles = total;
  double simulated_end = 0;
  for (double f : shared.finish) simulated_end = std::max(simulated_end, f);
  auto weight_of = [&](const PlanOp& op) {
    auto it = weight.find({op.group, op.slice});
    return it == weight.end() ? 1.0 : it->second;
  };

  std::map<std::string, double> busy, pe_cycles;
  double dram_reads = 0, dram_writes = 0, buffer_reads = 0, buffer_writes = 0;
  std::vector<double> einsum_cycles(problem.einsums.size(), 0);
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const PlanOp& op = plan.ops[i];
    const OpWork& w = work[i];
    const double k = weight_of(op);
    const std::string& unit = plan.units[op.unit];
    if (op.kind == PlanOp::Kind::Compute) {
      const ProblemEinsum& pe = problem.einsums[op.einsum];
      const PeArray& array = arch.arrays[op.unit];
      const double points = pe.points * bh / (runs_planned[op.einsum] * slices_of[op.einsum]) * k;
      for (const PointAction& a : cost[op.einsum].actions) st.add(a.component, a.action, a.per_point * points);
      if (!array.register_file.empty()) {
        const Component& rf = arch.component(array.register_file);
        st.add(rf.name, "read", accesses(rf, pe.operand_reads_per_point * points, arch.word_bits));
        st.add(rf.name, "write", accesses(rf, pe.result_writes_per_point * points, arch.word_bits));
      }
      busy[unit] += w.stream_cycles * k;
      pe_cycles[unit] += w.pe_cycles * k;
      einsum_cycles[op.einsum] += w.stream_cycles * k;
      buffer_reads += op.buffer_reads * k;
      buffer_writes += op.buffer_writes * k;
    } else {
      busy[unit] += w.compute_cycles * k;
      (op.kind == PlanOp::Kind::Load ? dram_reads : dram_writes) += op.words * k;
      if (op.staged) (op.kind == PlanOp::Kind::Load ? buffer_writes : buffer_reads) += op.words * k;
    }
  }
  if (buffer && (buffer_reads > 0 || buffer_writes > 0)) {
    st.add(buffer->name, "read", accesses(*buffer, buffer_reads, arch.word_bits));
    st.add(buffer->name, "write", accesses(*buffer, buffer_writes, arch.word_bits));
  }
  if (dram && dram_reads + dram_writes > 0) {
    st.add(dram->name, "read", accesses(*dram, dram_reads, arch.word_bits));
    st.add(dram->name, "write", accesses(*dram, dram_writes, arch.word_bits));
  }
  st.dram_read_bytes = dram_reads * word_bytes;
  st.dram_write_bytes = dram_writes * word_bytes;
  st.dram_bytes = st.dram_read_bytes + st.dram_write_bytes;
  double most = -1;
  for (const std::string& unit : plan.units) {
    st.busy_cycles[unit] = busy[unit];
    if (busy[unit] > most) {
      most = busy[unit];
      st.bottleneck = unit;
    }
  }
  for (size_t a = 0; a < arch.arrays.size(); ++a)
    st.utilization[arch.arrays[a].name] = total > 0 ? pe_cycles[arch.arrays[a].name] / total : 0;

  // Each unit's time by cause, the repeated windows weighted: busy + causes + idle = cycles.
  auto weighted = [&](double a, double b) {
    double w = b - a;
    for (const Repeat& r : repeats) w += r.factor * std::max(0.0, std::min(b, r.to) - std::max(a, r.from));
    return w;
  };
  units[static_cast<size_t>(plan.dram)]->close_waits(simulated_end);
  // Its queues overlap: while the channel idles, what the reads wait for is the cause (the
  // write queue only ever waits for the computes).
  units[static_cast<size_t>(plan.dram)]->time.disjoin("waiting_for_compute");
  for (size_t u = 0; u < units.size(); ++u) {
    const cycle::UnitTime& t = units[u]->time;
    std::vector<double> by(t.causes.size(), 0);
    for (const cycle::TimeInterval& i : t.intervals) by[i.cause] += weighted(i.start, i.end);
    double accounted = 0;
    for (size_t c = 0; c < t.causes.size(); ++c) {
      accounted += by[c];
      if (t.causes[c] != "busy" && by[c] > 0) st.stalls[plan.units[u] + "." + t.causes[c]] += by[c];
    }
    const double idle = total - accounted;
    if (idle > 1e-6 * std::max(1.0, total)) st.stalls[plan.units[u] + ".idle"] += idle;
    st.notes[plan.units[u] + ".busy_time"] = accounted - [&] {
      double s = 0;
      for (size_t c = 0; c < t.causes.size(); ++c)
        if (t.causes[c] != "busy") s += by[c];
      return s;
    }();
  }
  for (size_t e = 0; e < problem.einsums.size(); ++e) {
    EinsumStats es;
    es.name = problem.einsums[e].name;
    es.array = arch.arrays[rm.einsums[e].array].name;
    es.group = rm.einsums[e].group;
    es.points = problem.einsums[e].points * bh;
    es.ii = cost[e].ii;
    es.cycles = einsum_cycles[e];
    st.einsums.push_back(es);
  }
  st.notes["latency_s"] = arch.clock_hz > 0 ? total / arch.clock_hz : 0;
  st.notes["operations_simulated"] = static_cast<double>(plan.ops.size());
  st.notes["simulated_cycles"] = simulated_end;
  result.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
  st.notes["wall_seconds"] = result.wall_seconds;

  if (!options_.trace.empty()) {
    nlohmann::json events = nlohmann::json::array();
    for (size_t u = 0; u < plan.units.size(); ++u)
      events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", u},
                        {"args", {{"name", plan.units[u]}}}});
    events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", 1},
                      {"args", {{"name", "cascade cycle-level model"}}}});
    const double us = arch.clock_hz > 0 ? 1e6 / arch.clock_hz : 0;
    for (size_t i = 0; i < plan.ops.size(); ++i)
      events.push_back({{"name", operation_name(problem, plan.ops[i])}, {"ph", "X"}, {"pid", 1},
                        {"tid", plan.ops[i].unit}, {"ts", shared.start[i] * us},
                        {"dur", (shared.finish[i] - shared.start[i]) * us},
                        {"args", {{"group", plan.groups[plan.ops[i].group].name},
                                  {"slice", plan.ops[i].slice},
                                  {"iteration", plan.ops[i].iteration}}}});
    for (const RegisterOccupancy& r : result.register_files)  // a counter track per 2D array
      for (const auto& [cycle, words] : r.held)
        events.push_back({{"name", r.array + " register-file words per PE"}, {"ph", "C"}, {"pid", 1},
                          {"ts", cycle * us}, {"args", {{"words", words}}}});
    write_output_file(options_.trace, "--trace",  // atomic, every write checked
                      nlohmann::json({{"traceEvents", events}, {"displayTimeUnit", "ns"}}).dump(1) + "\n");
  }
  if (datapath) {
    result.data = true;
    result.values = datapath->results();
    result.data_counts = datapath->counts();
  }
  return result;
}

}  // namespace cascade

// libsystemc's own main() calls sc_main, so the library needs one to link; cascade has its
// own main() and starts the kernel with sc_start, so this is never called.
int sc_main(int, char*[]) {
  return 1;
}
