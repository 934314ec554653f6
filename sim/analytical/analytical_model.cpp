#include "sim/analytical/analytical_model.h"

#include "arch/energy.h"
#include "mappings/mapping/data_movement.h"
#include "sim/analytical/systolic_fill.h"
#include "sim/model/compute_cost.h"


#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace cascade {

namespace {

const std::string kRead = "read";
const std::string kWrite = "write";
const std::string kDram = "dram";

// Memory actions for `words` words moved.
double accesses(const Component& c, double words, int word_bits) {
  const int bits = c.access_bits > 0 ? c.access_bits : word_bits;
  return words * static_cast<double>(word_bits) / static_cast<double>(bits);
}

}  // namespace

int AnalyticalModel::key(const std::string& component, const std::string& action) {
  for (size_t i = 0; i < keys_.size(); ++i)
    if (keys_[i].first == component && keys_[i].second == action) return static_cast<int>(i);
  keys_.emplace_back(component, action);
  return static_cast<int>(keys_.size()) - 1;
}

AnalyticalModel::AnalyticalModel(const Problem& problem, const ArchSpec& arch)
    : problem_(problem), arch_(arch) {
  for (const PeArray& a : arch.arrays) {
    rf_read_.push_back(a.register_file.empty() ? -1 : key(a.register_file, kRead));
    rf_write_.push_back(a.register_file.empty() ? -1 : key(a.register_file, kWrite));
    rf_.push_back(a.register_file.empty() ? nullptr : arch.find_component(a.register_file));
  }
  if (const Component* b = arch.global_buffer()) {
    buffer_read_ = key(b->name, kRead);
    buffer_write_ = key(b->name, kWrite);
  }
  if (const Component* d = arch.dram()) {
    dram_read_ = key(d->name, kRead);
    dram_write_ = key(d->name, kWrite);
  }
  costs_.resize(problem.einsums.size());
  for (size_t e = 0; e < problem.einsums.size(); ++e) {
    costs_[e].resize(arch.arrays.size());
    for (size_t a = 0; a < arch.arrays.size(); ++a) {
      const ComputeCost cost = compute_cost(problem.einsums[e], arch.arrays[a]);
      UnitCost& unit = costs_[e][a];
      unit.supported = cost.supported;
      unit.ii = cost.ii;
      for (const PointAction& pa : cost.actions)
        unit.actions.push_back({key(pa.component, pa.action), pa.per_point});
    }
  }
  // compute_energy's order for summarize: components by name, their actions by name.
  std::map<std::string, std::map<std::string, int>> by_name;
  for (size_t k = 0; k < keys_.size(); ++k) by_name[keys_[k].first][keys_[k].second] = static_cast<int>(k);
  if (arch.charge_leakage)
    for (const Component& c : arch.components) by_name[c.name];
  for (const auto& [component, actions] : by_name) {
    EnergyEntry entry;
    const Component* c = arch.find_component(component);
    if (c && arch.charge_leakage)
      entry.leakage = static_cast<double>(arch.instances_of(c->name)) * c->leakage_pw;
    for (const auto& [action, k] : actions) {
      EnergyKey ek;
      ek.key = k;
      const auto it = c ? c->energy_pj.find(action) : std::map<std::string, double>::const_iterator{};
      ek.priced = c && it != c->energy_pj.end();
      if (ek.priced) ek.pj = it->second;
      if (c && c->kind == ComponentKind::RegisterFile &&
          arch.register_file_energy == ArchSpec::RegisterFileEnergy::OneInstance)
        ek.instances = static_cast<double>(arch.instances_of(c->name));
      entry.keys.push_back(ek);
    }
    energy_order_.push_back(std::move(entry));
  }
}

Stats AnalyticalModel::evaluate(const Mapping& mapping) const {
  ResolveOptions options;
  options.check_operations = false;  // the cost table knows; resolve again for the message
  thread_local ResolvedMapping rm;   // reused storage: no allocation per evaluation
  resolve_mapping(problem_, arch_, mapping, rm, options);
  for (size_t e = 0; e < rm.einsums.size(); ++e)
    if (!costs_[e][rm.einsums[e].array].supported) resolve_mapping(problem_, arch_, mapping);
  return evaluate(rm);
}

// The numbers of one evaluation, before they are named (Stats) or summed (summarize).
struct AnalyticalModel::Work {
  std::vector<double> busy;  // [group][resource]: arrays, then DRAM
  std::vector<double> occupancy, counts, einsum_cycles;
  std::vector<char> touched;
  DataMovement dm;
  std::vector<double> group_cycles, group_fill, bottleneck_time, total_busy;
  std::vector<size_t> group_argmax;
  double cycles = 0, largest_fill = 0;
  size_t bottleneck = 0;
};

void AnalyticalModel::compute(const ResolvedMapping& rm, Work& w) const {
  const Problem& problem = problem_;
  const ArchSpec& arch = arch_;
  const double bh = static_cast<double>(problem.batch * problem.heads);
  const size_t arrays = arch.arrays.size();
  const size_t resources = arrays + 1;  // arrays, then DRAM
  w.busy.assign(rm.groups.size() * resources, 0.0);
  w.occupancy.assign(arrays, 0.0);
  w.counts.assign(keys_.size(), 0.0);
  w.touched.assign(keys_.size(), 0);
  w.einsum_cycles.resize(problem.einsums.size());
  auto add = [&](int k, double n) {
    if (k < 0) return;
    w.counts[k] += n;
    w.touched[k] = 1;
  };

  // Compute and register files.
  for (size_t e = 0; e < problem.einsums.size(); ++e) {
    const ProblemEinsum& pe = problem.einsums[e];
    const ResolvedEinsum& re = rm.einsums[e];
    const PeArray& array = arch.arrays[re.array];
    const UnitCost& cost = costs_[e][re.array];
    if (!cost.supported)
      throw Error("einsum " + pe.name + ": " + array.name + " does not support its operations");
    const double points = pe.points * bh;
    for (const Action& a : cost.actions) add(a.key, a.per_point * points);
    if (rf_read_[re.array] >= 0) {
      const Component& rf = rf_[re.array] ? *rf_[re.array] : arch.component(array.register_file);
      add(rf_read_[re.array], accesses(rf, pe.operand_reads_per_point * points, arch.word_bits));
      add(rf_write_[re.array], accesses(rf, pe.result_writes_per_point * points, arch.word_bits));
    }
    const double cycles = systolic_busy_cycles(problem, rm, static_cast<int>(e), array, cost.ii);
    w.busy[re.group * resources + re.array] += cycles;
    w.occupancy[re.array] += cost.ii * points / static_cast<double>(array.pes());
    w.einsum_cycles[e] = cycles;
  }

  // Data movement.
  analyze_data_movement(problem, arch, rm, w.dm);
  const DataMovement& dm = w.dm;
  const Component* dram = arch.dram();
  const Component* buffer = arch.global_buffer();
  if (buffer && (dm.buffer_reads > 0 || dm.buffer_writes > 0)) {
    add(buffer_read_, accesses(*buffer, dm.buffer_reads, arch.word_bits));
    add(buffer_write_, accesses(*buffer, dm.buffer_writes, arch.word_bits));
  }
  const double dram_words = dm.dram_reads + dm.dram_writes;
  if (dram_words > 0) {
    if (!dram) throw Error("architecture " + arch.name + " has no DRAM, and the mapping uses it");
    add(dram_read_, accesses(*dram, dm.dram_reads, arch.word_bits));
    add(dram_write_, accesses(*dram, dm.dram_writes, arch.word_bits));
  }
  const double bandwidth = dram ? dram->bandwidth_bytes_per_s : 0;
  for (size_t g = 0; g < rm.groups.size(); ++g) {
    const double bytes = (dm.groups[g].dram_reads + dm.groups[g].dram_writes) * problem.word_bytes;
    w.busy[g * resources + arrays] = bandwidth > 0 ? bytes / bandwidth * arch.clock_hz : 0;
  }

  // Time.
  w.bottleneck_time.assign(resources, 0.0);
  w.total_busy.assign(resources, 0.0);
  w.group_cycles.resize(rm.groups.size());
  w.group_fill.resize(rm.groups.size());
  w.group_argmax.resize(rm.groups.size());
  double cycles = 0, largest_fill = 0;
  for (size_t g = 0; g < rm.groups.size(); ++g) {
    double sum = 0, most = 0;
    size_t argmax = 0;
    for (size_t r = 0; r < resources; ++r) {
      const double b = w.busy[g * resources + r];
      w.total_busy[r] += b;
      sum += b;
      if (b > most) {
        most = b;
        argmax = r;
      }
    }
    double fill = 0, group = 0;
    if (rm.groups[g].serialized_units) {
      // The arrays take turns on every tile; DRAM transfers still overlap them.
      double arrays_sum = 0;
      for (size_t r = 0; r < arrays; ++r) arrays_sum += w.busy[g * resources + r];
      const double dram_busy = w.busy[g * resources + arrays];
      group = std::max(arrays_sum, dram_busy);
      if (arrays_sum >= dram_busy) most = arrays_sum;
    } else {
      fill = (sum - most) / std::max(1.0, rm.groups[g].dram_iterations);
      group = most + fill;
    }
    w.group_cycles[g] = group;
    w.group_fill[g] = fill;
    w.group_argmax[g] = argmax;
    w.bottleneck_time[argmax] += most;
    largest_fill = std::max(largest_fill, fill);
    if (rm.schedule == GroupSchedule::Sequential) cycles += group;
  }
  size_t bottleneck = 0;
  if (rm.schedule == GroupSchedule::Overlapped) {
    for (size_t r = 0; r < resources; ++r)
      if (w.total_busy[r] > w.total_busy[bottleneck]) bottleneck = r;
    cycles = w.total_busy[bottleneck] + largest_fill;
  } else {
    for (size_t r = 0; r < resources; ++r)
      if (w.bottleneck_time[r] > w.bottleneck_time[bottleneck]) bottleneck = r;
  }
  w.cycles = cycles;
  w.largest_fill = largest_fill;
  w.bottleneck = bottleneck;
}

Stats AnalyticalModel::evaluate(const ResolvedMapping& rm) const {
  thread_local Work w;
  compute(rm, w);
  const Problem& problem = problem_;
  const ArchSpec& arch = arch_;
  const DataMovement& dm = w.dm;
  const double bh = static_cast<double>(problem.batch * problem.heads);
  const size_t arrays = arch.arrays.size();
  const size_t resources = arrays + 1;
  auto resource_name = [&](size_t r) { return r < arrays ? arch.arrays[r].name : kDram; };
  Stats stats;
  stats.fidelity = "analytical";
  stats.einsums.reserve(problem.einsums.size());
  for (size_t e = 0; e < problem.einsums.size(); ++e) {
    const ResolvedEinsum& re = rm.einsums[e];
    const PeArray& array = arch.arrays[re.array];
    EinsumStats r;
    r.name = problem.einsums[e].name;
    r.array = array.name;
    r.group = re.group;
    r.points = problem.einsums[e].points * bh;
    r.ii = costs_[e][re.array].ii;
    r.cycles = w.einsum_cycles[e];
    r.spatial_use =
        static_cast<double>(re.cols_used * re.rows_used) / static_cast<double>(array.pes());
    stats.einsums.push_back(std::move(r));
  }
  for (size_t k = 0; k < keys_.size(); ++k)
    if (w.touched[k]) stats.actions[keys_[k].first][keys_[k].second] = w.counts[k];
  const double dram_words = dm.dram_reads + dm.dram_writes;
  stats.dram_bytes = dram_words * problem.word_bytes;
  stats.tensors.reserve(problem.tensors.size());
  for (size_t t = 0; t < problem.tensors.size(); ++t) {
    const TensorTraffic& tt = dm.tensors[t];
    stats.tensors.push_back({problem.tensors[t].name, to_string(rm.tensors[t].home), tt.dram_reads,
                             tt.dram_writes, tt.buffer_reads, tt.buffer_writes});
  }
  stats.groups.resize(rm.groups.size());
  for (size_t g = 0; g < rm.groups.size(); ++g) {
    GroupStats& gr = stats.groups[g];
    gr.name = rm.groups[g].name;
    for (size_t r = 0; r < resources; ++r)
      if (w.busy[g * resources + r] > 0) gr.busy_cycles[resource_name(r)] = w.busy[g * resources + r];
    gr.cycles = w.group_cycles[g];
    gr.fill_cycles = w.group_fill[g];
    gr.bottleneck = resource_name(w.group_argmax[g]);
    gr.buffer_bytes = dm.groups[g].buffer.needed_bytes + dm.groups[g].buffer.spillable_bytes;
    gr.spilled_fraction = dm.groups[g].buffer.spilled_fraction;
  }
  const double cycles = w.cycles;
  stats.cycles = cycles;
  stats.bottleneck = resource_name(w.bottleneck);
  for (size_t r = 0; r < resources; ++r) stats.busy_cycles[resource_name(r)] = w.total_busy[r];
  for (size_t a = 0; a < arrays; ++a)
    stats.utilization[arch.arrays[a].name] = cycles > 0 ? w.occupancy[a] / cycles : 0;

  stats.notes["latency_s"] = arch.clock_hz > 0 ? cycles / arch.clock_hz : 0;
  double fill = 0;
  for (const GroupStats& gr : stats.groups) fill += gr.fill_cycles;
  stats.notes["fill_cycles"] = rm.schedule == GroupSchedule::Sequential ? fill : w.largest_fill;
  stats.dram_read_bytes = dm.dram_reads * problem.word_bytes;
  stats.dram_write_bytes = dm.dram_writes * problem.word_bytes;
  stats.notes["dram_read_bytes"] = stats.dram_read_bytes;
  stats.notes["dram_write_bytes"] = stats.dram_write_bytes;
  stats.notes["buffer_read_words"] = dm.buffer_reads;
  stats.notes["buffer_write_words"] = dm.buffer_writes;
  return stats;
}

void AnalyticalModel::summarize(const ResolvedMapping& rm, Summary& out) const {
  thread_local Work w;
  compute(rm, w);
  const ArchSpec& arch = arch_;
  const double cycles = w.cycles;
  out.cycles = cycles;
  out.latency_s = arch.clock_hz > 0 ? cycles / arch.clock_hz : 0;  // latency_of
  out.utilization.resize(arch.arrays.size());
  for (size_t a = 0; a < arch.arrays.size(); ++a)
    out.utilization[a] = cycles > 0 ? w.occupancy[a] / cycles : 0;
  // compute_energy (arch/energy.h) over the touched actions, in its order: components by
  // name, actions by name; leakage added per component; the total summed by name.
  const bool leakage = arch.charge_leakage;
  const double seconds = leakage ? cycles / arch.clock_hz : 0;
  if (leakage && (!(cycles >= 0) || !std::isfinite(cycles))) {
    out.energy_pj = compute_energy(arch, evaluate(rm).actions, cycles).total_pj;  // its Error
    return;
  }
  double total = 0;
  for (const EnergyEntry& entry : energy_order_) {
    bool present = false;
    double pj = 0;
    for (const EnergyKey& ek : entry.keys) {
      if (!w.touched[ek.key]) continue;
      const double count = w.counts[ek.key];
      if (!ek.priced || !(count >= 0) || !std::isfinite(count)) {
        out.energy_pj = compute_energy(arch, evaluate(rm).actions, cycles).total_pj;  // its Error
        return;
      }
      const double charged = ek.instances > 0 ? count / ek.instances : count;
      pj += charged * ek.pj;
      present = true;
    }
    if (leakage && entry.leakage > 0) {
      const double l = entry.leakage * seconds;
      if (l > 0) {
        pj += l;
        present = true;
      }
    }
    if (present) total += pj;
  }
  out.energy_pj = total;
}

}  // namespace cascade
