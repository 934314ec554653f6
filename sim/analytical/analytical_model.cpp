#include "sim/analytical/analytical_model.h"

#include "mappings/mapping/data_movement.h"
#include "sim/analytical/systolic_fill.h"
#include "sim/model/compute_cost.h"


#include <algorithm>
#include <cmath>
#include <limits>

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

Stats AnalyticalModel::evaluate(const ResolvedMapping& rm) const {
  const Problem& problem = problem_;
  const ArchSpec& arch = arch_;
  Stats stats;
  stats.fidelity = "analytical";
  const double bh = static_cast<double>(problem.batch * problem.heads);
  const size_t arrays = arch.arrays.size();
  const size_t resources = arrays + 1;  // arrays, then DRAM
  std::vector<double> busy(rm.groups.size() * resources, 0.0);
  std::vector<double> occupancy(arrays, 0.0);
  std::vector<double> counts(keys_.size(), 0.0);
  std::vector<bool> touched(keys_.size(), false);
  auto add = [&](int k, double n) {
    if (k < 0) return;
    counts[k] += n;
    touched[k] = true;
  };

  // Compute and register files.
  stats.einsums.reserve(problem.einsums.size());
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
      const Component& rf = arch.component(array.register_file);
      add(rf_read_[re.array], accesses(rf, pe.operand_reads_per_point * points, arch.word_bits));
      add(rf_write_[re.array], accesses(rf, pe.result_writes_per_point * points, arch.word_bits));
    }
    const double cycles = systolic_busy_cycles(problem, rm, static_cast<int>(e), array, cost.ii);
    busy[re.group * resources + re.array] += cycles;
    occupancy[re.array] += cost.ii * points / static_cast<double>(array.pes());
    EinsumStats r;
    r.name = pe.name;
    r.array = array.name;
    r.group = re.group;
    r.points = points;
    r.ii = cost.ii;
    r.cycles = cycles;
    r.spatial_use =
        static_cast<double>(re.cols_used * re.rows_used) / static_cast<double>(array.pes());
    stats.einsums.push_back(std::move(r));
  }

  // Data movement.
  const DataMovement dm = analyze_data_movement(problem, arch, rm);
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
  for (size_t k = 0; k < keys_.size(); ++k)
    if (touched[k]) stats.actions[keys_[k].first][keys_[k].second] = counts[k];
  stats.dram_bytes = dram_words * problem.word_bytes;
  stats.tensors.reserve(problem.tensors.size());
  for (size_t t = 0; t < problem.tensors.size(); ++t) {
    const TensorTraffic& tt = dm.tensors[t];
    stats.tensors.push_back({problem.tensors[t].name, to_string(rm.tensors[t].home), tt.dram_reads,
                             tt.dram_writes, tt.buffer_reads, tt.buffer_writes});
  }
  const double bandwidth = dram ? dram->bandwidth_bytes_per_s : 0;
  for (size_t g = 0; g < rm.groups.size(); ++g) {
    const double bytes = (dm.groups[g].dram_reads + dm.groups[g].dram_writes) * problem.word_bytes;
    busy[g * resources + arrays] = bandwidth > 0 ? bytes / bandwidth * arch.clock_hz : 0;
  }

  // Time.
  auto resource_name = [&](size_t r) { return r < arrays ? arch.arrays[r].name : kDram; };
  std::vector<double> bottleneck_time(resources, 0.0), total_busy(resources, 0.0);
  double cycles = 0, largest_fill = 0;
  stats.groups.resize(rm.groups.size());
  for (size_t g = 0; g < rm.groups.size(); ++g) {
    GroupStats& gr = stats.groups[g];
    gr.name = rm.groups[g].name;
    double sum = 0, most = 0;
    size_t argmax = 0;
    for (size_t r = 0; r < resources; ++r) {
      const double b = busy[g * resources + r];
      total_busy[r] += b;
      sum += b;
      if (b > most) {
        most = b;
        argmax = r;
      }
      if (b > 0) gr.busy_cycles[resource_name(r)] = b;
    }
    if (rm.groups[g].serialized_units) {
      // The arrays take turns on every tile; DRAM transfers still overlap them.
      double arrays_sum = 0;
      for (size_t r = 0; r < arrays; ++r) arrays_sum += busy[g * resources + r];
      const double dram = busy[g * resources + arrays];
      gr.fill_cycles = 0;
      gr.cycles = std::max(arrays_sum, dram);
      if (arrays_sum >= dram) most = arrays_sum;
    } else {
      gr.fill_cycles = (sum - most) / std::max(1.0, rm.groups[g].dram_iterations);
      gr.cycles = most + gr.fill_cycles;
    }
    gr.bottleneck = resource_name(argmax);
    gr.buffer_bytes = dm.groups[g].buffer.needed_bytes + dm.groups[g].buffer.spillable_bytes;
    gr.spilled_fraction = dm.groups[g].buffer.spilled_fraction;
    bottleneck_time[argmax] += most;
    largest_fill = std::max(largest_fill, gr.fill_cycles);
    if (rm.schedule == GroupSchedule::Sequential) cycles += gr.cycles;
  }
  size_t bottleneck = 0;
  if (rm.schedule == GroupSchedule::Overlapped) {
    for (size_t r = 0; r < resources; ++r)
      if (total_busy[r] > total_busy[bottleneck]) bottleneck = r;
    cycles = total_busy[bottleneck] + largest_fill;
  } else {
    for (size_t r = 0; r < resources; ++r)
      if (bottleneck_time[r] > bottleneck_time[bottleneck]) bottleneck = r;
  }
  stats.cycles = cycles;
  stats.bottleneck = resource_name(bottleneck);
  for (size_t r = 0; r < resources; ++r) stats.busy_cycles[resource_name(r)] = total_busy[r];
  for (size_t a = 0; a < arrays; ++a)
    stats.utilization[arch.arrays[a].name] = cycles > 0 ? occupancy[a] / cycles : 0;

  stats.notes["latency_s"] = arch.clock_hz > 0 ? cycles / arch.clock_hz : 0;
  double fill = 0;
  for (const GroupStats& gr : stats.groups) fill += gr.fill_cycles;
  stats.notes["fill_cycles"] = rm.schedule == GroupSchedule::Sequential ? fill : largest_fill;
  stats.dram_read_bytes = dm.dram_reads * problem.word_bytes;
  stats.dram_write_bytes = dm.dram_writes * problem.word_bytes;
  stats.notes["dram_read_bytes"] = stats.dram_read_bytes;
  stats.notes["dram_write_bytes"] = stats.dram_write_bytes;
  stats.notes["buffer_read_words"] = dm.buffer_reads;
  stats.notes["buffer_write_words"] = dm.buffer_writes;
  return stats;
}

}  // namespace cascade
