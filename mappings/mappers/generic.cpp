// The generic mapper (mappings/mappers/mapper.h).
//
// generic: any cascade: contractions on the 2D array; elementwise Einsums and reductions
// on the 1D array (or another array whose PEs run what the 1D array's cannot), or
// (FuseMax's binding) on the 2D array where they iterate over two ranks of more
// than one point and the 2D PEs support their operations.
// Spatial ranks: the widest output ranks across the columns, the next output or
// reduced ranks down the rows, narrow ranks sharing the array with the next widest.
// Inputs and outputs staged through the global buffer, intermediates kept in it
// while they fit (else the tile whose streaming adds the least DRAM traffic leaves
// first). Candidates: DRAM loops over batch and head only, or also over one rank no
// Einsum reduces (P, lightning's block rank T) split in 2, 4, 8, ... tiles, in one
// pipelined group or with the Einsums that tiling would not repeat (linear
// attention's PHIK, KV, Z) run first in a group of their own, tiled over their
// widest reduced rank, handing their outputs on through DRAM; the caller keeps the
// fastest.

#include <fmt/core.h>

#include <memory>

#include <map>
#include <set>

#include "arch/support/names.h"
#include "mappings/mapping/data_movement.h"
#include "mappings/mappers/mapper_support.h"
#include "mappings/mappers/registry.h"

namespace cascade {

namespace {

using namespace mapper_support;

// RowsOn1d: everything but the contractions on the 1D array. TilesOn2d: FuseMax's binding,
// the tile-shaped Einsums the 2D PEs support on the 2D array too.
enum class GenericBinding { RowsOn1d, TilesOn2d };

// Whether the FuseMax-style binding puts a non-contraction Einsum on the 2D array: it
// iterates over two ranks of more than one point (a tile, not a row: exp(BQK - RM) over
// m0 x p0) and the 2D PEs support all its operations.
bool tile_shaped_on_2d(const ProblemEinsum& pe, const PeArray& a2) {
  int wide = 0;
  for (size_t s = 2; s < pe.variables.size(); ++s)
    if (!pe.variables[s].iterative && pe.variables[s].extent > 1) ++wide;
  return wide >= 2 && supports_all(a2, pe);
}

// The Einsums a DRAM loop over `tiled` would not repeat and that need nothing it repeats:
// with the loop they would run once after the last tile, holding their whole inputs
// (linear attention's PHIK, KV, Z, which do not iterate over the queries P).
std::vector<int> untiled_prologue(const Problem& problem, const std::string& tiled) {
  std::vector<bool> in(problem.einsums.size(), false);
  std::vector<int> out;
  for (int e : problem.order) {
    const ProblemEinsum& pe = problem.einsums[e];
    if (dram_loop_slot(problem, pe, tiled) >= 0) continue;
    bool inputs_ready = true;
    for (const ProblemAccess& a : pe.accesses) {
      if (a.write) continue;
      const int producer = problem.tensors[a.tensor].producer;
      if (producer >= 0 && producer != e && !in[producer]) inputs_ready = false;
    }
    if (!inputs_ready) continue;
    in[e] = true;
    out.push_back(e);
  }
  return out;
}

Mapping generic_mapping(const Problem& problem, const ArchSpec& arch, const std::string& tiled,
                        int64_t tiles, GenericBinding binding, bool split) {
  const PeArray& a2 = array_with_role(arch, ArrayRole::Matrix, "generic");
  const PeArray& a1 = array_with_role(arch, ArrayRole::Vector, "generic");
  const bool tiles_on_2d = binding == GenericBinding::TilesOn2d;
  Mapping m;
  m.mapper = "generic";
  m.name = std::string("generic") + (tiles_on_2d ? " tiles-2d" : "") + (split ? " split" : "") +
           (tiles > 1 ? fmt::format(" {}={}", tiled, tiles) : "");
  m.description = tiles_on_2d ? "Contractions and tile-shaped Einsums the 2D PEs support on the "
                                "2D array, row-shaped ones on the 1D array"
                              : "Contractions on the 2D array, everything else on the 1D array";
  m.schedule = GroupSchedule::Sequential;
  // One Einsum's nest: spatial ranks by their extent in one DRAM tile of `loops`.
  auto nest = [&](const ProblemEinsum& pe, const std::vector<Loop>& loops, const std::string& cut,
                  int64_t cuts) {
    auto tile_extent = [&](const std::string& rank) {
      const int64_t e = pe.variables[pe.slot_of_rank(rank)].extent;
      return rank == cut ? ceil_div(e, cuts) : e;
    };
    // Ranks narrower than the array share it with the next widest ones (lightning's
    // QK[t, b, j] with blocks of 64: t and part of b across the 256 columns).
    auto fill = [&](std::vector<SpatialChoice>& choices, int64_t dim, bool reduced_too,
                    std::vector<std::string>& used) {
      int64_t left = dim;
      for (const SpatialChoice& c : choices)
        if (!c.rank.empty()) left /= std::max<int64_t>(1, std::min(c.factor, tile_extent(c.rank)));
      for (int pass = 0; pass < (reduced_too ? 2 : 1) && left > 1; ++pass)
        while (left > 1) {
          const std::string next = largest_rank(pe, pass == 1, used, cut, cuts);
          if (next.empty() || tile_extent(next) <= 1) break;
          const int64_t f = std::min(left, tile_extent(next));
          choices.push_back({next, f});
          used.push_back(next);
          left /= f;
        }
    };
    const std::string first = largest_rank(pe, false, {}, cut, cuts);
    if ((pe.contraction && supports_all(a2, pe)) || (tiles_on_2d && tile_shaped_on_2d(pe, a2))) {
      // Rows: the second output rank, or the reduced rank where that is wider (linear
      // attention's KV[e, f] = sum over m: m across the rows, reduced spatially).
      std::string second = largest_rank(pe, false, {first}, cut, cuts);
      const std::string reduced = largest_rank(pe, true, {}, cut, cuts);
      if (second.empty() || (!reduced.empty() && tile_extent(reduced) > tile_extent(second)))
        second = reduced;
      std::vector<std::string> used = {first, second};
      std::vector<SpatialChoice> cols = {{first, a2.cols}}, rows = {{second, a2.rows}};
      fill(cols, a2.cols, false, used);  // more output ranks where the first is narrow
      fill(rows, a2.rows, true, used);   // then output or reduced ranks down the rows
      return build_einsum(problem, pe, a2.name, loops, cols, rows, {first, second});
    }
    const std::string wide = first.empty() ? largest_rank(pe, true, {}, cut, cuts) : first;
    const PeArray* unit = &row_unit(arch, a2, a1, pe);
    std::vector<std::string> used = {wide};
    std::vector<SpatialChoice> cols = {{wide, unit->cols}};
    fill(cols, unit->cols, false, used);
    return build_einsum(problem, pe, unit->name, loops, cols, {}, {wide});
  };
  // With `split`, the Einsums the tiling would not repeat run first, in a group of their
  // own tiled over their widest reduced rank (as finely as their tiles need to fit); what
  // they hand to the main group goes through DRAM.
  std::vector<int> prologue = split ? untiled_prologue(problem, tiled) : std::vector<int>{};
  if (split && (prologue.empty() || prologue.size() == problem.einsums.size() || tiles <= 1))
    throw Error("generic mapping: nothing to split off ahead of the " + tiled + " tiles");
  std::vector<bool> in_prologue(problem.einsums.size(), false);
  for (int e : prologue) in_prologue[static_cast<size_t>(e)] = true;
  std::string cut;  // the prologue's tiled rank
  int64_t cut_extent = 1;
  for (int e : prologue)
    for (size_t v = 2; v < problem.einsums[e].variables.size(); ++v) {
      const ProblemVariable& var = problem.einsums[e].variables[v];
      if (var.reduced && !var.iterative && var.extent > cut_extent) {
        cut = var.rank;
        cut_extent = var.extent;
      }
    }
  for (const ProblemTensor& t : problem.tensors) {
    if (t.input || t.output) {
      place(m, problem, t.name, TensorHome::Dram, true, false);
      continue;
    }
    bool crosses = false;
    if (t.producer >= 0 && in_prologue[static_cast<size_t>(t.producer)])
      for (int c : t.consumers) crosses = crosses || !in_prologue[static_cast<size_t>(c)];
    place(m, problem, t.name, crosses ? TensorHome::Dram : TensorHome::GlobalBuffer, true, false);
  }
  if (!prologue.empty()) {
    for (int64_t cuts = 1;; cuts = std::min(cut_extent, cuts * 2)) {
      MappingGroup pre;
      pre.name = "prologue";
      pre.dram_loops = batch_head_loops(problem);
      if (cuts > 1) pre.dram_loops.push_back({cut, cuts, {}});
      for (int e : prologue)
        pre.einsums.push_back(nest(problem.einsums[e], pre.dram_loops, cut, cuts));
      Mapping trial = m;
      trial.groups = {pre};
      MappingGroup rest;  // a plain stand-in so that the trial resolves
      rest.name = "cascade";
      rest.dram_loops = batch_head_loops(problem);
      for (int e : problem.order)
        if (!in_prologue[static_cast<size_t>(e)])
          rest.einsums.push_back(nest(problem.einsums[e], rest.dram_loops, "", 1));
      trial.groups.push_back(rest);
      const ResolvedMapping rm = resolve_without_capacity(problem, arch, trial);
      if (group_buffer_usage(problem, rm, 0).needed_bytes <= gb_capacity(arch) ||
          cuts >= cut_extent) {
        m.groups.push_back(pre);
        break;
      }
    }
  }
  MappingGroup g;
  g.name = "cascade";
  g.dram_loops = batch_head_loops(problem);
  if (tiles > 1) g.dram_loops.push_back({tiled, tiles, {}});
  for (int e : problem.order)
    if (!in_prologue[static_cast<size_t>(e)])
      g.einsums.push_back(nest(problem.einsums[e], g.dram_loops, tiled, tiles));
  m.groups.push_back(g);
  const int main_group = static_cast<int>(m.groups.size()) - 1;
  // Everything else on chip (inputs and outputs staged through the buffer). While the main
  // group's tiles do not fit, one tile leaves per round: the one that frees enough space for
  // the least added DRAM traffic (or, if none frees enough, the most space per added byte);
  // an input or output then streams, an intermediate moves to DRAM.
  std::vector<std::string> moved;
  auto dram_words = [&](const Mapping& trial) {
    const ResolvedMapping rm = resolve_without_capacity(problem, arch, trial);
    const DataMovement dm = analyze_data_movement(problem, arch, rm);
    return dm.dram_reads + dm.dram_writes;
  };
  for (size_t round = 0; round < problem.tensors.size(); ++round) {
    const ResolvedMapping rm = resolve_without_capacity(problem, arch, m);
    const GroupBuffer usage = group_buffer_usage(problem, rm, main_group);
    const double excess = usage.needed_bytes - gb_capacity(arch);
    if (excess <= 0) break;
    const double base = dram_words(m);
    std::string best;
    double best_added = 0, best_ratio = 0;
    bool best_frees = false;
    for (const BufferTile& tile : usage.tiles) {
      if (tile.bytes <= 0) continue;
      Mapping trial = m;
      place(trial, problem, problem.tensors[tile.tensor].name, TensorHome::Dram, false, false);
      const double added = std::max(0.0, dram_words(trial) - base);
      const bool frees = tile.bytes >= excess;
      const double ratio = tile.bytes / (added + 1);
      const bool better = best.empty() || (frees && !best_frees) ||
                          (frees && best_frees && added < best_added) ||
                          (!frees && !best_frees && ratio > best_ratio);
      if (better) {
        best = problem.tensors[tile.tensor].name;
        best_added = added;
        best_ratio = ratio;
        best_frees = frees;
      }
    }
    if (best.empty()) break;
    place(m, problem, best, TensorHome::Dram, false, false);
    moved.push_back(best);
  }
  m.notes.push_back(
      std::string(prologue.empty() ? "one group, pipelined" : "two groups in turn, pipelined") +
      "; contractions" +
      std::string(tiles_on_2d ? " and the tile-shaped Einsums its PEs support" : "") + " on " +
      a2.name + " (the two largest ranks across columns and rows), " +
      (tiles_on_2d ? "the other Einsums" : "elementwise Einsums and reductions") + " on " +
      a1.name + " (the largest rank across it)");
  if (!prologue.empty()) {
    std::vector<std::string> names, handed;
    for (int e : prologue) names.push_back(problem.einsums[e].name);
    for (const TensorPlacement& t : m.tensors) {
      const ProblemTensor& pt = problem.tensors[problem.find_tensor(t.tensor)];
      if (!pt.input && !pt.output && t.home == TensorHome::Dram && pt.producer >= 0 &&
          in_prologue[static_cast<size_t>(pt.producer)])
        handed.push_back(t.tensor);
    }
    const MappingGroup& pre = m.groups.front();
    m.notes.push_back("first " + join(names) + " (they do not iterate over " + tiled + ")" +
                      (pre.dram_loops.size() > 2
                           ? fmt::format(", DRAM loops batch, head, {} in {} tiles",
                                         pre.dram_loops.back().rank, pre.dram_loops.back().factor)
                           : std::string(", DRAM loops batch, head")) +
                      "; " + join(handed) + " handed on through DRAM");
  }
  m.notes.push_back(tiles > 1
                        ? fmt::format("DRAM loops batch, head, {} in {} tiles (the fastest of "
                                      "the tilings tried)",
                                      tiled, tiles)
                        : std::string("DRAM loops batch, head"));
  m.notes.push_back(moved.empty()
                        ? "inputs and outputs staged through the global buffer, intermediates in it"
                        : "inputs and outputs staged through the global buffer, intermediates in "
                          "it, except (too large, streamed from/to DRAM): " +
                              join(moved));
  return m;
}

// Candidates: no tiling, and each rank that no Einsum reduces (the queries P, a block rank
// T; reducing over a tiled rank inside one group would need another pass) split into 2, 4,
// 8, ... tiles at the DRAM level. The caller keeps the fastest.
std::vector<Mapping> generic_mappings(const Problem& problem, const ArchSpec& arch) {
  const std::vector<GenericBinding> bindings = {GenericBinding::RowsOn1d,
                                                GenericBinding::TilesOn2d};
  std::vector<Mapping> out;
  for (GenericBinding b : bindings) out.push_back(generic_mapping(problem, arch, "", 1, b, false));
  std::map<std::string, int> uses;
  std::set<std::string> reduced;
  for (const ProblemEinsum& pe : problem.einsums)
    for (size_t s = 2; s < pe.variables.size(); ++s) {
      ++uses[pe.variables[s].rank];
      if (pe.variables[s].reduced) reduced.insert(pe.variables[s].rank);
    }
  std::vector<std::pair<int, std::string>> ranks;
  for (const auto& [rank, n] : uses)
    if (n >= 2 && !reduced.count(rank) && problem.bindings.shape(rank) > 1)
      ranks.emplace_back(n, rank);
  std::sort(ranks.rbegin(), ranks.rend());
  if (ranks.size() > 3) ranks.resize(3);
  for (const auto& [n, rank] : ranks) {
    const int64_t extent = problem.bindings.shape(rank);
    for (int64_t tiles = 2; tiles < extent * 2; tiles *= 2) {
      const int64_t t = std::min(tiles, extent);
      bool mapped = false;
      for (GenericBinding b : bindings) {
        try {
          out.push_back(generic_mapping(problem, arch, rank, t, b, false));
          mapped = true;
        } catch (const Error&) {
          // tiles smaller than an Einsum's spatial extent: finer splits fail too
        }
      }
      if (!mapped) break;
      if (!untiled_prologue(problem, rank).empty()) try {
          out.push_back(generic_mapping(problem, arch, rank, t, GenericBinding::TilesOn2d, true));
        } catch (const Error&) {
          // everything or nothing would go first: no split for this rank
        }
      if (t == extent) break;
    }
  }
  return out;
}


class GenericMapper : public Mapper {
 public:
  std::string name() const override { return "generic"; }
  std::string description() const override {
    return "any cascade: contractions and tile-shaped Einsums on the matrix array, rows on the "
           "vector array";
  }
  MapperFit fit(const Cascade&) const override { return {}; }
  std::vector<Mapping> candidates(const Problem& problem, const ArchSpec& arch) const override {
    return generic_mappings(problem, arch);
  }
  bool is_default_for(const Cascade&) const override { return true; }
};

}  // namespace

std::unique_ptr<Mapper> make_generic_mapper() { return std::make_unique<GenericMapper>(); }

}  // namespace cascade
