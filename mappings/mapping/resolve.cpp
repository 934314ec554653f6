#include "mappings/mapping/resolve.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "arch/support/names.h"

namespace cascade {


std::string array_operation(const PeArray& array, const std::string& op) {
  static const std::map<std::string, std::vector<std::string>> kFallbacks = {
      {"mul", {"mul", "multiply", "mac"}},
      {"sub", {"sub", "subtract", "add"}},
      {"neg", {"neg", "sub", "add"}},
      {"div", {"div", "divide"}},
      {"min", {"min", "max"}},
      {"max", {"max"}},
      {"add", {"add"}},
      {"mac", {"mac"}},
      {"exp", {"exp"}},
  };
  auto f = kFallbacks.find(op);
  if (f == kFallbacks.end()) return array.supports(op) ? op : std::string();
  for (const std::string& name : f->second)
    if (array.supports(name)) return name;
  return "";
}

std::vector<std::pair<std::string, double>> lower_operation(const PeArray& array,
                                                            const std::string& op) {
  const std::string direct = array_operation(array, op);
  if (!direct.empty()) return {{direct, 1.0}};
  static const std::map<std::string, std::vector<std::string>> kLowerings = {
      {"elu1", {"exp", "add", "max"}},
      {"relu", {"max"}},
      {"abs", {"max", "sub"}},
      {"pow", {"exp", "mul"}},
      {"sigmoid", {"exp", "add", "div"}},
      {"tanh", {"exp", "add", "div"}},
      {"softplus", {"exp", "add", "log", "max"}},
  };
  auto l = kLowerings.find(op);
  if (l == kLowerings.end()) return {};
  std::vector<std::pair<std::string, double>> out;
  for (const std::string& part : l->second) {
    const std::string name = array_operation(array, part);
    if (name.empty()) return {};
    out.emplace_back(name, 1.0);
  }
  return out;
}

namespace {

std::string ranks_of(const ProblemEinsum& pe) {
  std::vector<std::string> names;
  for (size_t s = 2; s < pe.variables.size(); ++s) names.push_back(pe.variables[s].rank);
  return join(names);
}

std::vector<std::string> einsum_names(const Problem& problem) {
  std::vector<std::string> names;
  for (const ProblemEinsum& e : problem.einsums) names.push_back(e.name);
  return names;
}

std::vector<std::string> array_names(const ArchSpec& arch) {
  std::vector<std::string> names;
  for (const PeArray& a : arch.arrays) names.push_back(a.name);
  return names;
}

std::vector<std::string> supported_ops(const PeArray& array) {
  std::vector<std::string> names;
  for (const auto& [op, actions] : array.ops) names.push_back(op);
  return names;
}

void resolve_loops(const Problem& problem, const ProblemEinsum& pe, const std::vector<Loop>& loops,
                   std::vector<ResolvedLoop>& out, bool group_level, const char* what) {
  for (const Loop& loop : loops) {
    const int slot =
        group_level ? dram_loop_slot(problem, pe, loop.rank) : pe.slot_of_rank(loop.rank);
    if (slot < 0 && !group_level)
      throw Error(loop.loc, "einsum " + pe.name + ": " + std::string(what) + " loop over rank " +
                                loop.rank + ", which is not in its iteration space (batch, head, " +
                                ranks_of(pe) + ")");
    out.push_back({slot, loop.factor, static_cast<double>(loop.factor)});
  }
}

int group_of(const ResolvedMapping& rm, int einsum) {
  return rm.einsums[einsum].group;
}

}  // namespace

// Extents per slot of the loops at `from` and below (a tile held at level `from`).
void tile_extents(const ProblemEinsum& pe, const ResolvedEinsum& re, int from, double* ext) {
  for (size_t s = 0; s < pe.variables.size(); ++s) ext[s] = 1;
  for (size_t i = re.level_begin(from); i < re.loops.size(); ++i) {
    const ResolvedLoop& loop = re.loops[i];
    if (loop.slot >= 0) ext[loop.slot] *= loop.effective;
  }
}

double access_elements(const Problem& problem, const ProblemAccess& a, const double* ext,
                       bool one_iterative_slice) {
  const ProblemTensor& t = problem.tensors[a.tensor];
  double elements = ext[kBatchSlot] * ext[kHeadSlot];
  for (size_t d = 0; d < a.dims.size() && d < t.sizes.size(); ++d) {
    double len = std::min(index_extent(a.dims[d], ext), static_cast<double>(t.sizes[d]));
    if (one_iterative_slice && static_cast<int>(d) == t.iterative_dimension) len = 1;
    elements *= len;
  }
  return elements;
}

// The iteration-space slot a group's DRAM loop over `rank` tiles: the rank's own, or, for the
// outer part of a partition (T of P -> T, B), the whole rank's in an Einsum that iterates
// over it undivided (lightning's AV[f, p] = O[p / B, p % B, f]: a loop over blocks t
// also walks p in runs of whole blocks).
int dram_loop_slot(const Problem& problem, const ProblemEinsum& pe, const std::string& rank) {
  const int slot = pe.slot_of_rank(rank);
  if (slot >= 0) return slot;
  for (const Partition& part : problem.cascade.partitions)
    if (part.parts.front() == rank) return pe.slot_of_rank(part.rank);
  return -1;
}

LoopCheck finish_resolved_loops(const ProblemEinsum& pe, const PeArray& array, ResolvedEinsum& re) {
  LoopCheck check;
  auto fail = [&](LoopProblem p, int slot) {
    check.problem = p;
    check.slot = slot;
    return check;
  };
  for (size_t i = re.level_end[1]; i < re.level_end[2]; ++i) {
    const ResolvedLoop& loop = re.loops[i];
    if (loop.slot >= 0 && loop.factor > 1 && pe.variables[loop.slot].iterative)
      return fail(LoopProblem::IterativeSpatial, loop.slot);
  }
  re.cols_used = 1;
  for (size_t i = re.level_end[1]; i < re.cols_end; ++i) re.cols_used *= re.loops[i].factor;
  re.rows_used = 1;
  for (size_t i = re.cols_end; i < re.level_end[2]; ++i) re.rows_used *= re.loops[i].factor;
  if (re.cols_used > array.cols) return fail(LoopProblem::TooManyColumns, -1);
  if (re.rows_used > array.rows) return fail(LoopProblem::TooManyRows, -1);
  // Coverage, and the factors without padding (innermost level first).
  double covered[64];
  for (size_t v = 0; v < pe.variables.size(); ++v) covered[v] = 1.0;
  for (size_t i = re.loops.size(); i-- > 0;) {
    ResolvedLoop& loop = re.loops[i];
    if (loop.slot < 0) continue;
    const double extent = static_cast<double>(pe.variables[loop.slot].extent);
    const double remaining = std::max(1.0, extent / covered[loop.slot]);
    loop.effective = std::min(static_cast<double>(loop.factor), remaining);
    covered[loop.slot] *= static_cast<double>(loop.factor);
  }
  // The outermost loop over a rank may pad its last iteration, not run empty ones.
  double outermost[64];
  for (size_t v = 0; v < pe.variables.size(); ++v) outermost[v] = 0;
  for (size_t i = 0; i < re.loops.size(); ++i) {
    const ResolvedLoop& loop = re.loops[i];
    const bool spatial = i >= re.level_end[1] && i < re.level_end[2];  // may underuse the array
    if (loop.slot >= 0 && outermost[loop.slot] == 0)
      outermost[loop.slot] = spatial ? 1.0 : static_cast<double>(loop.factor);
  }
  for (size_t s = 0; s < pe.variables.size(); ++s)
    if (outermost[s] > 1 &&
        (outermost[s] - 1) * (covered[s] / outermost[s]) >= static_cast<double>(pe.variables[s].extent)) {
      check.covered = covered[s];
      check.outermost = outermost[s];
      return fail(LoopProblem::OuterFactorTooLarge, static_cast<int>(s));
    }
  for (size_t s = 0; s < pe.variables.size(); ++s)
    if (covered[s] < static_cast<double>(pe.variables[s].extent)) {
      check.covered = covered[s];
      return fail(LoopProblem::NotCovered, static_cast<int>(s));
    }
  re.temporal_iterations = 1;
  for (size_t i = 0; i < re.loops.size(); ++i)
    if (re.loops[i].slot >= 0 && (i < re.level_end[1] || i >= re.level_end[2]))
      re.temporal_iterations *= static_cast<double>(re.loops[i].factor);
  return check;
}

GroupBuffer group_buffer_usage(const Problem& problem, const ResolvedMapping& rm, int group) {
  GroupBuffer usage;
  group_buffer_usage(problem, rm, group, usage);
  return usage;
}

void group_buffer_usage(const Problem& problem, const ResolvedMapping& rm, int group,
                        GroupBuffer& usage) {
  usage.needed_bytes = usage.spillable_bytes = usage.spilled_fraction = 0;
  usage.tiles.clear();
  const std::vector<int>& position = problem.position;
  // Scratch reused across calls (the search resolves many mappings per thread).
  thread_local std::vector<int> einsums, first;
  thread_local std::vector<double> footprint;
  thread_local std::vector<char> aliased, donated;
  einsums.assign(rm.groups[group].einsums.begin(), rm.groups[group].einsums.end());
  std::sort(einsums.begin(), einsums.end(),
            [&](int a, int b) { return position[a] < position[b]; });

  footprint.assign(problem.tensors.size(), -1);
  first.assign(problem.tensors.size(), -1);
  double ext[64];
  for (int e : einsums) {
    const ProblemEinsum& pe = problem.einsums[e];
    tile_extents(pe, rm.einsums[e], kBufferLevel, ext);
    for (const ProblemAccess& a : pe.accesses) {
      const ResolvedTensor& rt = rm.tensors[a.tensor];
      const bool kept =
          rt.home == TensorHome::GlobalBuffer ||
          (rt.home == TensorHome::Dram && rm.einsums[e].is_staged(&a - pe.accesses.data()));
      if (!kept) continue;
      const double elements = access_elements(problem, a, ext, true);
      if (first[a.tensor] < 0) first[a.tensor] = e;
      footprint[a.tensor] = std::max(footprint[a.tensor], elements);
    }
  }
  // In place: an elementwise Einsum's global-buffer output takes the space of a
  // global-buffer input that it reads last.
  aliased.assign(problem.tensors.size(), 0);
  donated.assign(problem.tensors.size(), 0);
  for (int e : einsums) {
    const ProblemEinsum& pe = problem.einsums[e];
    if (!pe.elementwise) continue;
    const int out = pe.accesses.back().tensor;
    if (rm.tensors[out].home != TensorHome::GlobalBuffer) continue;
    for (const ProblemAccess& a : pe.accesses) {
      if (a.write || !a.output_indices || donated[a.tensor]) continue;
      const ProblemTensor& in = problem.tensors[a.tensor];
      if (rm.tensors[a.tensor].home != TensorHome::GlobalBuffer) continue;
      if (rm.tensors[a.tensor].spill != rm.tensors[out].spill) continue;
      if (in.output || footprint[a.tensor] < footprint[out]) continue;
      bool last = true;
      for (int c : in.consumers)
        if (position[c] > position[e]) last = false;
      if (!last) continue;
      aliased[out] = 1;
      donated[a.tensor] = 1;
      break;
    }
  }
  for (size_t t = 0; t < problem.tensors.size(); ++t) {
    if (footprint[t] < 0) continue;
    BufferTile tile;
    tile.tensor = static_cast<int>(t);
    tile.bytes = aliased[t] ? 0 : footprint[t] * problem.word_bytes;
    tile.first_einsum = first[t];
    tile.spill = rm.tensors[t].home == TensorHome::GlobalBuffer && rm.tensors[t].spill;
    (tile.spill ? usage.spillable_bytes : usage.needed_bytes) += tile.bytes;
    usage.tiles.push_back(tile);
  }
}

double spill_room(const std::vector<double>& needed, int group, bool overlapped, double capacity) {
  double room = capacity - needed[static_cast<size_t>(group)];
  if (overlapped)
    for (size_t h = 0; h < needed.size(); ++h)
      if (static_cast<int>(h) != group) room -= needed[h];
  return std::max(0.0, room);
}

double spilled_fraction(double spillable_bytes, double room) {
  return spillable_bytes > 0 ? std::max(0.0, 1.0 - room / spillable_bytes) : 0.0;
}

CapacityCheck check_capacity(const Problem& problem, const ArchSpec& arch, ResolvedMapping& rm,
                             bool registers) {
  CapacityCheck check;
  const Component* buffer = arch.global_buffer();
  rm.buffers.resize(rm.groups.size());  // reuses the tiles' storage
  for (size_t g = 0; g < rm.groups.size(); ++g)
    group_buffer_usage(problem, rm, static_cast<int>(g), rm.buffers[g]);
  for (size_t g = 0; g < rm.groups.size(); ++g) {
    const GroupBuffer& usage = rm.buffers[g];
    if (usage.tiles.empty()) continue;
    const double capacity = buffer ? buffer->capacity_bytes : 0;
    if (usage.needed_bytes <= capacity) continue;
    check.group = static_cast<int>(g);
    return check;
  }
  if (rm.schedule == GroupSchedule::Overlapped) {
    double together = 0;
    for (const GroupBuffer& usage : rm.buffers) together += usage.needed_bytes;
    if (together > (buffer ? buffer->capacity_bytes : 0)) {
      check.overlapped = true;
      return check;
    }
  }
  if (!registers) return check;
  for (size_t e = 0; e < problem.einsums.size(); ++e) {
    const ResolvedEinsum& re = rm.einsums[e];
    const PeArray& array = arch.arrays[re.array];
    if (array.register_file_entries <= 0) continue;
    const double words = register_tile_words(problem, problem.einsums[e], re);
    if (words > static_cast<double>(array.register_file_entries)) {
      check.einsum = static_cast<int>(e);
      check.register_words = words;
      return check;
    }
  }
  return check;
}

double register_tile_words(const Problem& problem, const ProblemEinsum& pe, const ResolvedEinsum& re) {
  double ext[64];
  tile_extents(pe, re, kRegisterLevel, ext);
  double words = 0;
  for (const ProblemAccess& a : pe.accesses) words += access_elements(problem, a, ext, true);
  return words;
}

namespace {

// Fills `rm`, reusing its storage (a model evaluating many mappings keeps one).
void resolve_into(const Problem& problem, const ArchSpec& arch, const Mapping& mapping,
                  const ResolveOptions& options, ResolvedMapping& rm) {
  const bool check_operations = options.check_operations;
  rm.schedule = mapping.schedule;
  rm.einsums.resize(problem.einsums.size());
  for (ResolvedEinsum& re : rm.einsums) {
    re.einsum = re.group = re.array = -1;
    re.loops.clear();
  }
  rm.groups.clear();
  std::vector<const EinsumMapping*> einsum_mapping(problem.einsums.size(), nullptr);
  const SourceLocation& where = mapping.loc;

  for (size_t gi = 0; gi < mapping.groups.size(); ++gi) {
    const MappingGroup& g = mapping.groups[gi];
    if (g.serialized_units && mapping.schedule == GroupSchedule::Overlapped)  // as files say
      throw Error(g.loc, "group " + g.name +
                             ": 'units: serialized' needs 'schedule: sequential' (overlapped "
                             "groups share their arrays' busy time)");
    ResolvedGroup rg;
    rg.name = g.name;
    rg.serialized_units = g.serialized_units;
    for (const Loop& loop : g.dram_loops) rg.dram_iterations *= static_cast<double>(loop.factor);
    std::vector<bool> dram_loop_used(g.dram_loops.size(), false);
    for (const EinsumMapping& em : g.einsums) {
      const int e = problem.find_einsum(em.einsum);
      if (e < 0)
        throw Error(em.loc, "group " + g.name + ": unknown einsum '" + em.einsum +
                                "' (einsums: " + join(einsum_names(problem)) + ")");
      ResolvedEinsum& re = rm.einsums[e];
      if (re.einsum >= 0)
        throw Error(em.loc, "einsum " + em.einsum + " is mapped twice (in group " +
                                rm.groups[re.group].name + " and in group " + g.name + ")");
      const ProblemEinsum& pe = problem.einsums[e];
      re.einsum = e;
      re.group = static_cast<int>(gi);
      einsum_mapping[e] = &em;
      const PeArray* array = arch.find_array(em.unit);
      if (array == nullptr)
        throw Error(em.loc, "einsum " + em.einsum + ": unknown unit '" + em.unit + "' (arrays of " +
                                arch.name + ": " + join(array_names(arch)) + ")");
      re.array = static_cast<int>(array - arch.arrays.data());
      if (check_operations)
        for (const auto& [op, rate] : pe.ops_per_point)
          if (lower_operation(*array, op).empty())
            // At the mapping file's line, or (a mapper's mapping) at the array in the
            // architecture file, whose `ops` lack the operation.
            throw Error(em.loc.known() ? em.loc : array->loc, "einsum " + em.einsum + ": operation '" + op +
                                    "' is not supported by " + array->name +
                                    " (it supports: " + join(supported_ops(*array)) + ")");
      re.loops.clear();
      re.loops.reserve(g.dram_loops.size() + em.buffer_loops.size() + em.spatial_cols.size() +
                       em.spatial_rows.size() + em.register_loops.size());
      resolve_loops(problem, pe, g.dram_loops, re.loops, true, "DRAM");
      re.level_end[0] = static_cast<uint32_t>(re.loops.size());
      for (size_t i = 0; i < g.dram_loops.size(); ++i)
        dram_loop_used[i] = dram_loop_used[i] || re.loops[i].slot >= 0;
      resolve_loops(problem, pe, em.buffer_loops, re.loops, false, "buffer");
      re.level_end[1] = static_cast<uint32_t>(re.loops.size());
      resolve_loops(problem, pe, em.spatial_cols, re.loops, false, "spatial");
      re.cols_end = static_cast<uint32_t>(re.loops.size());
      resolve_loops(problem, pe, em.spatial_rows, re.loops, false, "spatial");
      re.level_end[2] = static_cast<uint32_t>(re.loops.size());
      resolve_loops(problem, pe, em.register_loops, re.loops, false, "register");
      re.level_end[3] = static_cast<uint32_t>(re.loops.size());
      const LoopCheck check = finish_resolved_loops(pe, *array, re);
      const ProblemVariable* v = check.slot >= 0 ? &pe.variables[check.slot] : nullptr;
      switch (check.problem) {
        case LoopProblem::None: break;
        case LoopProblem::IterativeSpatial:
          throw Error(em.loc, "einsum " + em.einsum + ": rank " + v->rank + " is iterative (" +
                                  em.einsum + "[" + v->name + "+1] depends on " + em.einsum + "[" +
                                  v->name + "]) and cannot be spatial");
        case LoopProblem::TooManyColumns:
          throw Error(em.loc,
                      fmt::format("einsum {}: spatial factor {} across the columns exceeds the "
                                  "{} columns of {}",
                                  em.einsum, re.cols_used, array->cols, array->name));
        case LoopProblem::TooManyRows:
          throw Error(em.loc,
                      fmt::format("einsum {}: spatial factor {} across the rows exceeds the {} "
                                  "row{} of {}",
                                  em.einsum, re.rows_used, array->rows, array->rows == 1 ? "" : "s",
                                  array->name));
        case LoopProblem::OuterFactorTooLarge:
          throw Error(em.loc,
                      fmt::format("einsum {}: the loops over rank {} multiply to {}, more than a "
                                  "whole tile above its size {} (its outermost factor {} is too "
                                  "large)",
                                  em.einsum, v->rank, check.covered, v->extent, check.outermost));
        case LoopProblem::NotCovered:
          throw Error(em.loc, fmt::format("einsum {}: the loops over rank {} multiply to {}, less "
                                          "than its size {}",
                                          em.einsum, v->rank, check.covered, v->extent));
      }
      rg.einsums.push_back(e);
    }
    for (size_t i = 0; i < g.dram_loops.size(); ++i)
      if (!dram_loop_used[i])
        throw Error(g.dram_loops[i].loc, "group " + g.name + ": DRAM loop over rank " +
                                             g.dram_loops[i].rank +
                                             ", which none of its Einsums iterates");
    rm.groups.push_back(std::move(rg));
  }
  for (size_t e = 0; e < problem.einsums.size(); ++e)
    if (rm.einsums[e].einsum < 0)
      throw Error(where, "einsum " + problem.einsums[e].name +
                             " is not mapped (every Einsum belongs to exactly one group)");

  // Tensor placements.
  rm.tensors.resize(problem.tensors.size());
  for (size_t t = 0; t < problem.tensors.size(); ++t) {
    const ProblemTensor& pt = problem.tensors[t];
    rm.tensors[t] = ResolvedTensor{};  // storage may be reused: reset every field
    rm.tensors[t].home = pt.input || pt.output ? TensorHome::Dram : TensorHome::GlobalBuffer;
  }
  std::vector<const TensorPlacement*> placement(problem.tensors.size(), nullptr);
  for (const TensorPlacement& p : mapping.tensors) {
    const int t = problem.find_tensor(p.tensor);
    if (t < 0) {
      std::vector<std::string> names;
      for (const ProblemTensor& pt : problem.tensors) names.push_back(pt.name);
      throw Error(p.loc, "unknown tensor '" + p.tensor + "' (tensors: " + join(names) + ")");
    }
    rm.tensors[t] = {p.home, p.staged, p.spill};
    placement[t] = &p;
  }
  for (size_t t = 0; t < problem.tensors.size(); ++t) {
    const ProblemTensor& pt = problem.tensors[t];
    const ResolvedTensor& rt = rm.tensors[t];
    const TensorPlacement* p = placement[t];
    const SourceLocation& loc = p ? p->loc : where;
    if ((pt.input || pt.output) && rt.home != TensorHome::Dram)
      throw Error(loc, "tensor " + pt.name + " is a cascade " + (pt.input ? "input" : "output") +
                           ": it lives in dram, not in the " + to_string(rt.home));
    if (rt.spill && rt.home != TensorHome::GlobalBuffer)
      throw Error(loc, "tensor " + pt.name + ": only global_buffer tensors can spill");
    if (pt.producer >= 0 && rt.home != TensorHome::Dram) {
      const int g = group_of(rm, pt.producer);
      for (int c : pt.consumers)
        if (group_of(rm, c) != g)
          throw Error(loc, "tensor " + pt.name + " is produced in group " + rm.groups[g].name +
                               " and read in group " + rm.groups[group_of(rm, c)].name +
                               ": it must live in dram, not in the " + to_string(rt.home));
    }
  }

  // Per access: staged through the global buffer, unless the Einsum bypasses it.
  for (size_t e = 0; e < problem.einsums.size(); ++e) {
    const ProblemEinsum& pe = problem.einsums[e];
    const EinsumMapping& em = *einsum_mapping[e];
    ResolvedEinsum& re = rm.einsums[e];
    for (const std::string& b : em.bypass) {
      const int t = problem.find_tensor(b);
      const bool accessed = std::any_of(pe.accesses.begin(), pe.accesses.end(),
                                        [&](const ProblemAccess& a) { return a.tensor == t; });
      if (!accessed)
        throw Error(em.loc,
                    "einsum " + pe.name + ": bypass names " + b + ", which it does not access");
      if (rm.tensors[t].home != TensorHome::Dram)
        throw Error(em.loc, "einsum " + pe.name + ": bypass names " + b + ", which lives in the " +
                                to_string(rm.tensors[t].home) + " (only dram tensors are staged)");
    }
    re.staged = 0;
    for (size_t i = 0; i < pe.accesses.size(); ++i) {
      const ProblemAccess& a = pe.accesses[i];
      if (rm.tensors[a.tensor].home == TensorHome::Dram && rm.tensors[a.tensor].staged &&
          (em.bypass.empty() || !contains(em.bypass, problem.tensors[a.tensor].name)))
        re.staged |= uint64_t{1} << i;
    }
  }

  if (!options.check_capacity) {
    rm.buffers.clear();
    return;
  }
  // Capacities.
  const CapacityCheck check = check_capacity(problem, arch, rm);
  const Component* buffer = arch.global_buffer();
  if (check.group >= 0) {
    const size_t g = static_cast<size_t>(check.group);
    const GroupBuffer& usage = rm.buffers[g];
    const double capacity = buffer ? buffer->capacity_bytes : 0;
    // Name the Einsum at which the tiles stop fitting (evaluation order).
    const std::vector<int>& position = problem.position;
    std::vector<BufferTile> tiles = usage.tiles;
    std::sort(tiles.begin(), tiles.end(), [&](const BufferTile& a, const BufferTile& b) {
      return position[a.first_einsum] < position[b.first_einsum];
    });
    double sum = 0;
    int culprit = tiles.front().first_einsum;
    for (const BufferTile& tile : tiles) {
      if (tile.spill) continue;
      sum += tile.bytes;
      if (sum > capacity) {
        culprit = tile.first_einsum;
        break;
      }
    }
    std::sort(tiles.begin(), tiles.end(),
              [](const BufferTile& a, const BufferTile& b) { return a.bytes > b.bytes; });
    std::vector<std::string> parts;
    for (const BufferTile& tile : tiles)
      if (!tile.spill && tile.bytes > 0 && parts.size() < 6)
        parts.push_back(problem.tensors[tile.tensor].name + " " + format_bytes(tile.bytes));
    throw Error(einsum_mapping[culprit]->loc,
                fmt::format("einsum {} (group {}): its tiles do not fit the global buffer: "
                            "{} needed ({}), {} available{}",
                            problem.einsums[culprit].name, rm.groups[g].name,
                            format_bytes(usage.needed_bytes), join(parts), format_bytes(capacity),
                            buffer ? " in " + buffer->name : " (the architecture has none)"));
  }
  if (check.overlapped) {
    double together = 0;
    std::vector<std::string> parts;
    for (size_t g = 0; g < rm.groups.size(); ++g) {
      together += rm.buffers[g].needed_bytes;
      parts.push_back(rm.groups[g].name + " " + format_bytes(rm.buffers[g].needed_bytes));
    }
    throw Error(where, fmt::format("mapping {}: its groups run overlapped (schedule: overlapped), "
                                   "so each holds its tiles while the others run, and together "
                                   "they do not fit the global buffer: {} needed ({}), {} available{}",
                                   mapping.name, format_bytes(together), join(parts),
                                   format_bytes(buffer ? buffer->capacity_bytes : 0),
                                   buffer ? " in " + buffer->name : " (the architecture has none)"));
  }
  if (check.einsum >= 0) {
    const ProblemEinsum& pe = problem.einsums[check.einsum];
    const PeArray& array = arch.arrays[rm.einsums[check.einsum].array];
    throw Error(einsum_mapping[check.einsum]->loc,
                fmt::format("einsum {}: its register tiles do not fit the register file of "
                            "{}: {} needed, {} available per PE",
                            pe.name, array.name, format_bytes(check.register_words * problem.word_bytes),
                            format_bytes(array.register_file_entries * problem.word_bytes)));
  }
}

}  // namespace

ResolvedMapping resolve_mapping(const Problem& problem, const ArchSpec& arch,
                                const Mapping& mapping, const ResolveOptions& options) {
  ResolvedMapping rm;
  resolve_into(problem, arch, mapping, options, rm);
  return rm;
}

void resolve_mapping(const Problem& problem, const ArchSpec& arch, const Mapping& mapping,
                     ResolvedMapping& into, const ResolveOptions& options) {
  resolve_into(problem, arch, mapping, options, into);
}

}  // namespace cascade
