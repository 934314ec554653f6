#include "mappings/mappers/mapper_support.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "arch/support/names.h"

namespace cascade::mapper_support {

namespace {

std::string arrays_and_roles(const ArchSpec& arch) {
  std::vector<std::string> items;
  for (const PeArray& a : arch.arrays)
    items.push_back(a.name + (a.role == ArrayRole::None ? " (no role)" : " (role " + to_string(a.role) + ")"));
  return join(items);
}

}  // namespace

const PeArray& array_with_role(const ArchSpec& arch, ArrayRole role, const std::string& mapper) {
  if (const PeArray* a = arch.find_array_with_role(role)) return *a;
  throw Error(arch.file.empty() ? SourceLocation{} : SourceLocation{arch.file, 0, 0},
              "the " + mapper + " mapper needs an array with 'role: " + to_string(role) +
                  "' (" + role_purpose(role) + "); architecture " + arch.name + " has " +
                  arrays_and_roles(arch) + " (configs/arch/README.md)");
}

void require_query_rank(const Problem& problem, const std::string& mapper) {
  if (!problem.bindings.shapes.count("P"))
    throw Error("the " + mapper + " mapper tiles the query rank P, and cascade " +
                problem.cascade.name + " has no rank P (use --mapper generic)");
}

// An Einsum's loop nest: spatial ranks as given, every other rank's remaining factor at the
// global-buffer level in the order batch, head, `first`, the other output ranks, the reduced
// ranks (innermost).
EinsumMapping build_einsum(const Problem& problem, const ProblemEinsum& pe, const std::string& unit,
                           const std::vector<Loop>& dram, const std::vector<SpatialChoice>& cols,
                           const std::vector<SpatialChoice>& rows,
                           const std::vector<std::string>& first) {
  EinsumMapping em;
  em.einsum = pe.name;
  em.unit = unit;
  std::vector<double> done(pe.variables.size(), 1.0);
  for (const Loop& l : dram) {
    const int s = dram_loop_slot(problem, pe, l.rank);
    if (s >= 0) done[s] *= static_cast<double>(l.factor);
  }
  auto add_spatial = [&](const std::vector<SpatialChoice>& choices, std::vector<Loop>& out) {
    for (const SpatialChoice& c : choices) {
      const int s = pe.slot_of_rank(c.rank);
      if (s < 0) continue;
      // No wider than what the DRAM loops leave of the rank.
      const auto left = static_cast<int64_t>(
          std::ceil(static_cast<double>(pe.variables[s].extent) / done[s] - 1e-9));
      const int64_t f = std::min<int64_t>(c.factor, left);
      if (f <= 1) continue;
      out.push_back({c.rank, f, {}});
      done[s] *= static_cast<double>(f);
    }
  };
  add_spatial(cols, em.spatial_cols);
  add_spatial(rows, em.spatial_rows);
  std::vector<int> order = {0, 1};
  for (const std::string& r : first) {
    const int s = pe.slot_of_rank(r);
    if (s >= 0 && std::find(order.begin(), order.end(), s) == order.end()) order.push_back(s);
  }
  for (int pass = 0; pass < 2; ++pass)
    for (size_t s = 2; s < pe.variables.size(); ++s)
      if (pe.variables[s].reduced == (pass == 1) &&
          std::find(order.begin(), order.end(), static_cast<int>(s)) == order.end())
        order.push_back(static_cast<int>(s));
  for (int s : order) {
    const auto remaining = static_cast<int64_t>(
        std::ceil(static_cast<double>(pe.variables[s].extent) / done[s] - 1e-9));
    if (remaining > 1) em.buffer_loops.push_back({pe.variables[s].rank, remaining, {}});
  }
  return em;
}

// The largest output (or, with `reduced`, reduced) rank of an Einsum other than `skip`;
// `tiled` split into `tiles` at the DRAM level counts with its extent per tile.
std::string largest_rank(const ProblemEinsum& pe, bool reduced,
                         const std::vector<std::string>& skip, const std::string& tiled,
                         int64_t tiles) {
  std::string best;
  int64_t extent = 0;
  for (size_t s = 2; s < pe.variables.size(); ++s) {
    const ProblemVariable& v = pe.variables[s];
    if (v.reduced != reduced || v.iterative || contains(skip, v.rank)) continue;
    const int64_t e = v.rank == tiled ? ceil_div(v.extent, tiles) : v.extent;
    if (e > extent) {
      extent = e;
      best = v.rank;
    }
  }
  return best;
}

bool buffer_fits(const Problem& problem, const ArchSpec& arch, const Mapping& mapping,
                 double* needed) {
  const ResolvedMapping rm = resolve_without_capacity(problem, arch, mapping);
  const double capacity = arch.global_buffer() ? arch.global_buffer()->capacity_bytes : 0;
  // Overlapped groups hold their tiles at once (check_capacity): their bytes add.
  const bool overlapped = mapping.schedule == GroupSchedule::Overlapped;
  double most = 0;
  for (size_t g = 0; g < rm.groups.size(); ++g) {
    const double bytes = group_buffer_usage(problem, rm, static_cast<int>(g)).needed_bytes;
    most = overlapped ? most + bytes : std::max(most, bytes);
  }
  if (needed) *needed = most;
  return most <= capacity;
}

void place(Mapping& m, const Problem& problem, const std::string& tensor, TensorHome home,
           bool staged, bool spill) {
  (void)problem;
  for (TensorPlacement& p : m.tensors)
    if (p.tensor == tensor) {
      p.home = home;
      p.staged = staged;
      p.spill = spill;
      return;
    }
  TensorPlacement p;
  p.tensor = tensor;
  p.home = home;
  p.staged = staged;
  p.spill = spill;
  m.tensors.push_back(p);
}

std::vector<Loop> batch_head_loops(const Problem& problem) {
  return {{kBatchRank, problem.batch, {}}, {kHeadRank, problem.heads, {}}};
}

ResolvedMapping resolve_without_capacity(const Problem& problem, const ArchSpec& arch,
                                         const Mapping& mapping) {
  ResolveOptions options;
  options.check_capacity = false;
  return resolve_mapping(problem, arch, mapping, options);
}

std::string gb_name(const ArchSpec& arch) {
  return arch.global_buffer() ? arch.global_buffer()->name : std::string("global buffer");
}

double gb_capacity(const ArchSpec& arch) {
  return arch.global_buffer() ? arch.global_buffer()->capacity_bytes : 0;
}

// Whether `array`'s PEs can run every operation of an Einsum.
bool supports_all(const PeArray& array, const ProblemEinsum& pe) {
  for (const auto& [op, rate] : pe.ops_per_point)
    if (rate > 0 && lower_operation(array, op).empty()) return false;
  return true;
}

// The array for an Einsum off the 2D array: the 1D array, or another array (not the 2D
// one) whose PEs run what the 1D array's cannot (a GPU's FP32 lanes next to its
// special-function units). The 1D array when none can: resolving then names the operation.
const PeArray& row_unit(const ArchSpec& arch, const PeArray& a2, const PeArray& a1,
                        const ProblemEinsum& pe) {
  if (supports_all(a1, pe)) return a1;
  for (const PeArray& other : arch.arrays)
    if (&other != &a2 && &other != &a1 && supports_all(other, pe)) return other;
  return a1;
}


// ---- kernels (flat, unfused)

std::vector<std::vector<int>> kernels(const Problem& problem) {
  // Each contraction alone; each run of other Einsums (evaluation order) together.
  std::vector<std::vector<int>> out;
  for (int e : problem.order) {
    const bool c = problem.einsums[e].contraction;
    if (c || out.empty() || problem.einsums[out.back().front()].contraction)
      out.push_back({e});
    else
      out.back().push_back(e);
  }
  return out;
}

std::string kernel_name(const Problem& problem, const std::vector<int>& k) {
  std::string name;
  for (int e : k) name += (name.empty() ? "" : "-") + problem.einsums[e].name;
  return name;
}

EinsumMapping row_nest(const Problem& problem, const ProblemEinsum& pe, const PeArray& a1,
                       const std::vector<Loop>& dram) {
  std::string wide = largest_rank(pe, false, {"P"});
  const std::string red = largest_rank(pe, true, {});
  if (wide.empty() || (!red.empty() && pe.variables[pe.slot_of_rank(red)].extent >
                                           pe.variables[pe.slot_of_rank(wide)].extent))
    wide = red;
  if (wide.empty()) wide = "P";
  return build_einsum(problem, pe, a1.name, dram, {{wide, a1.cols}}, {}, {"P", wide});
}

}  // namespace cascade::mapper_support
