// The search's fast path (search_space.h): a genome decoded straight into a ResolvedMapping,
// as resolve_mapping(decode(g)) would give it, with slot indices instead of names and no
// Mapping in between. It follows decode(), build_einsum (mapper_support.cpp), fill_spatial
// (search_space.cpp) and resolve_mapping (resolve.cpp) step by step, with the same
// arithmetic in the same order, and shares resolve_mapping's checks (finish_resolved_loops,
// check_capacity). tests/sim/model/test_search_decode.cpp compares the two paths on random
// genomes, field by field and score by score.
#include <algorithm>
#include <cmath>
#include <string_view>

#include "arch/support/names.h"
#include "mappings/mappers/mapper_support.h"
#include "mappings/mappers/search/search_space.h"

namespace cascade::search_detail {

using mapper_support::ceil_div;

namespace {

// A DRAM loop of a group: batch, head, or a DRAM option.
struct GroupLoop {
  int option = -1;  // index into dram_; -1 batch, -2 head
  int64_t factor = 1;
};

bool has(const int* begin, const int* end, int x) { return std::find(begin, end, x) != end; }

}  // namespace

void SearchSpace::build_tables() {
  tables_.resize(problem_.einsums.size());
  for (size_t e = 0; e < problem_.einsums.size(); ++e) {
    const ProblemEinsum& pe = problem_.einsums[e];
    const EinsumOptions& o = options_[e];
    EinsumTables& t = tables_[e];
    for (const DramLoopOption& d : dram_) {
      t.dram_slot.push_back(d.rank.empty() ? -1 : dram_loop_slot(problem_, pe, d.rank));
      t.exact_slot.push_back(d.rank.empty() ? -1 : pe.slot_of_rank(d.rank));
    }
    t.batch_slot = dram_loop_slot(problem_, pe, kBatchRank);
    t.head_slot = dram_loop_slot(problem_, pe, kHeadRank);
    // wide_ranks(): not iterative, more than one point; output ranks first, widest first.
    std::vector<int> wide;
    for (size_t s = 2; s < pe.variables.size(); ++s)
      if (!pe.variables[s].iterative && pe.variables[s].extent > 1) wide.push_back(static_cast<int>(s));
    std::stable_sort(wide.begin(), wide.end(), [&](int a, int b) {
      const ProblemVariable& x = pe.variables[a];
      const ProblemVariable& y = pe.variables[b];
      if (x.reduced != y.reduced) return !x.reduced;
      return x.extent > y.extent;
    });
    t.wide = wide;
    double all = 1;  // lower_bound_cycles' product for a filled array
    for (int s : wide) all *= static_cast<double>(pe.variables[s].extent);
    for (size_t u = 0; u < o.units.size(); ++u) {
      const PeArray& array = arch_.arrays[o.units[u]];
      std::vector<SpatialSlots> list;
      for (const Spatial& sp : o.spatial[u]) {
        SpatialSlots ss;
        ss.cols = sp.cols.empty() ? -1 : pe.slot_of_rank(sp.cols);
        ss.rows = sp.rows.empty() ? -1 : pe.slot_of_rank(sp.rows);
        ss.fill = sp.fill;
        double used = 1;
        if (sp.fill) used = std::min(static_cast<double>(array.pes()), all);
        else if (!sp.cols.empty())
          used *= static_cast<double>(std::min(array.cols, pe.variables[ss.cols].extent));
        if (!sp.fill && !sp.rows.empty())
          used *= static_cast<double>(std::min(array.rows, pe.variables[ss.rows].extent));
        ss.pes_used = used;
        list.push_back(ss);
      }
      t.spatial.push_back(std::move(list));
    }
    double whole[64];  // the whole iteration space of one (batch, head)
    for (size_t v = 0; v < pe.variables.size(); ++v)
      whole[v] = v < 2 ? 1.0 : static_cast<double>(pe.variables[v].extent);
    for (const ProblemAccess& acc : pe.accesses)
      t.footprint.push_back(access_elements(problem_, acc, whole, false));
    for (int a : o.units) {  // register_tile_words of a nest without register loops
      const PeArray& array = arch_.arrays[a];
      ResolvedEinsum none;
      const bool over = array.register_file_entries > 0 &&
                        register_tile_words(problem_, pe, none) > static_cast<double>(array.register_file_entries);
      t.registers_overflow.push_back(over);
    }
    for (const std::vector<std::string>& first : o.orders) {
      std::vector<int> slots;
      for (const std::string& r : first) slots.push_back(pe.slot_of_rank(r));
      t.orders.push_back(std::move(slots));
    }
    for (int pass = 0; pass < 2; ++pass)
      for (size_t s = 2; s < pe.variables.size(); ++s)
        if (pe.variables[s].reduced == (pass == 1)) t.rest.push_back(static_cast<int>(s));
  }
}

SearchSpace::Decoded SearchSpace::resolve(const Genome& g, ResolvedMapping& rm,
                                          std::string& constraint) const {
  const size_t einsums = problem_.einsums.size();
  const size_t n = problem_.order.size();
  rm.schedule = g.overlapped ? GroupSchedule::Overlapped : GroupSchedule::Sequential;
  rm.einsums.resize(einsums);
  rm.tensors.resize(problem_.tensors.size());
  auto rank_of = [&](int option) -> std::string_view {
    return option == -1 ? kBatchRank : option == -2 ? kHeadRank : std::string_view(dram_[option].rank);
  };
  // The groups and their DRAM loops (decode()).
  thread_local std::vector<int> group_start;            // first position per group
  thread_local std::vector<GroupLoop> loops;            // the groups' DRAM loops, flattened
  thread_local std::vector<uint32_t> loops_begin;       // per group, into `loops`
  group_start.clear();
  for (size_t p = 0; p < n; ++p)
    if (p == 0 || g.cut[p]) group_start.push_back(static_cast<int>(p));
  const size_t groups = group_start.size();
  group_start.push_back(static_cast<int>(n));
  rm.groups.resize(groups);
  loops.clear();
  loops_begin.clear();
  for (size_t i = 0; i < groups; ++i) {
    const int p0 = group_start[i], p1 = group_start[i + 1];
    ResolvedGroup& rg = rm.groups[i];
    rg.name.clear();
    rg.einsums.clear();
    rg.serialized_units = g.serialized[p0] != 0 && !g.overlapped;  // as decode()
    loops_begin.push_back(static_cast<uint32_t>(loops.size()));
    loops.push_back({-1, problem_.batch});
    loops.push_back({-2, problem_.heads});
    for (const uint16_t option : {g.loop_a[p0], g.loop_b[p0]}) {
      const DramLoopOption& d = dram_[option];
      if (d.rank.empty()) continue;
      bool used = false, twice = false;
      for (int p = p0; p < p1; ++p) used = used || tables_[problem_.order[p]].dram_slot[option] >= 0;
      for (size_t l = loops_begin.back(); l < loops.size(); ++l)
        twice = twice || rank_of(loops[l].option) == d.rank;
      if (used && !twice) loops.push_back({option, d.factor});
    }
    rg.dram_iterations = 1;
    for (size_t l = loops_begin.back(); l < loops.size(); ++l)
      rg.dram_iterations *= static_cast<double>(loops[l].factor);
  }
  loops_begin.push_back(static_cast<uint32_t>(loops.size()));

  // Every Einsum's loops (build_einsum, then resolve_mapping's loop levels).
  for (size_t i = 0; i < groups; ++i) {
    const GroupLoop* dl = loops.data() + loops_begin[i];
    const size_t ndl = loops_begin[i + 1] - loops_begin[i];
    for (int p = group_start[i]; p < group_start[i + 1]; ++p) {
      const int e = problem_.order[p];
      const ProblemEinsum& pe = problem_.einsums[e];
      const EinsumOptions& o = options_[e];
      const EinsumTables& t = tables_[e];
      const size_t vars = pe.variables.size();
      const int a = o.units[g.unit[e]];
      const PeArray& array = arch_.arrays[a];
      const SpatialSlots& sp = t.spatial[g.unit[e]][g.spatial[e]];
      auto slot_of = [&](const GroupLoop& l) {
        return l.option == -1 ? t.batch_slot : l.option == -2 ? t.head_slot : t.dram_slot[l.option];
      };
      auto exact_of = [&](const GroupLoop& l) {
        return l.option == -1 ? t.batch_slot : l.option == -2 ? t.head_slot : t.exact_slot[l.option];
      };
      ResolvedEinsum& re = rm.einsums[e];
      re.einsum = e;
      re.group = static_cast<int>(i);
      re.array = a;
      rm.groups[i].einsums.push_back(e);
      re.loops.clear();
      for (size_t l = 0; l < ndl; ++l)
        re.loops.push_back({slot_of(dl[l]), dl[l].factor, static_cast<double>(dl[l].factor)});
      re.level_end[0] = static_cast<uint32_t>(re.loops.size());
      // The spatial choices (decode(), fill_spatial).
      int cols_slot[66], rows_slot[66];  // at most one per wide rank, plus the chosen one
      int64_t cols_factor[66], rows_factor[66];
      size_t ncols = 0, nrows = 0;
      if (sp.cols >= 0) cols_slot[ncols] = sp.cols, cols_factor[ncols++] = array.cols;
      if (sp.rows >= 0) rows_slot[nrows] = sp.rows, rows_factor[nrows++] = array.rows;
      if (sp.fill) {
        auto tile = [&](int slot) {
          int64_t x = pe.variables[slot].extent;
          for (size_t l = 0; l < ndl; ++l)
            if (exact_of(dl[l]) == slot) x = ceil_div(x, dl[l].factor);
          return x;
        };
        int used[128];
        size_t nused = 0;
        for (size_t c = 0; c < ncols; ++c) used[nused++] = cols_slot[c];
        for (size_t c = 0; c < nrows; ++c) used[nused++] = rows_slot[c];
        for (int side = 0; side < 2; ++side) {
          int* slots = side == 0 ? cols_slot : rows_slot;
          int64_t* factors = side == 0 ? cols_factor : rows_factor;
          size_t& count = side == 0 ? ncols : nrows;
          const int64_t dim = side == 0 ? array.cols : array.rows;
          if (dim <= 1 || count == 0) continue;
          int64_t left = dim;
          for (size_t c = 0; c < count; ++c)
            left /= std::max<int64_t>(1, std::min(factors[c], tile(slots[c])));
          for (int v : t.wide) {
            if (left <= 1) break;
            if (has(used, used + nused, v) || tile(v) <= 1) continue;
            const int64_t f = std::min(left, tile(v));
            slots[count] = v;
            factors[count++] = f;
            used[nused++] = v;
            left /= f;
          }
        }
      }
      // build_einsum: what the DRAM loops leave of each rank, spatial first.
      double done[64];
      for (size_t s = 0; s < vars; ++s) done[s] = 1.0;
      for (size_t l = 0; l < ndl; ++l) {
        const int s = slot_of(dl[l]);
        if (s >= 0) done[s] *= static_cast<double>(dl[l].factor);
      }
      auto left_of = [&](int s) {
        return static_cast<int64_t>(
            std::ceil(static_cast<double>(pe.variables[s].extent) / done[s] - 1e-9));
      };
      int spatial_slot[132];
      int64_t spatial_factor[132];
      size_t nspatial = 0, spatial_cols = 0;
      for (int side = 0; side < 2; ++side) {
        const int* slots = side == 0 ? cols_slot : rows_slot;
        const int64_t* factors = side == 0 ? cols_factor : rows_factor;
        const size_t count = side == 0 ? ncols : nrows;
        for (size_t c = 0; c < count; ++c) {
          const int s = slots[c];
          if (s < 0) continue;
          const int64_t f = std::min<int64_t>(factors[c], left_of(s));
          if (f <= 1) continue;
          spatial_slot[nspatial] = s;
          spatial_factor[nspatial++] = f;
          done[s] *= static_cast<double>(f);
        }
        if (side == 0) spatial_cols = nspatial;
      }
      // The buffer loops: batch, head, `first`, the other output ranks, the reduced ranks.
      int order[66];  // distinct slots
      size_t norder = 0;
      order[norder++] = 0;
      order[norder++] = 1;
      const std::vector<int>& first = t.orders[g.order[e]];
      auto add_first = [&](int s) {
        if (s >= 0 && !has(order, order + norder, s)) order[norder++] = s;
      };
      if (first.empty() && g.order[e] == 0 && o.orders.size() > 1) {
        add_first(sp.cols);
        add_first(sp.rows);
      } else {
        for (int s : first) add_first(s);
      }
      for (int s : t.rest) add_first(s);
      for (size_t k = 0; k < norder; ++k) {
        const int64_t remaining = left_of(order[k]);
        if (remaining > 1) re.loops.push_back({order[k], remaining, static_cast<double>(remaining)});
      }
      re.level_end[1] = static_cast<uint32_t>(re.loops.size());
      for (size_t k = 0; k < nspatial; ++k)
        re.loops.push_back({spatial_slot[k], spatial_factor[k], static_cast<double>(spatial_factor[k])});
      re.cols_end = re.level_end[1] + static_cast<uint32_t>(spatial_cols);
      re.level_end[2] = re.level_end[3] = static_cast<uint32_t>(re.loops.size());
    }
  }

  // The constraints a decoded mapping shows (violated(Mapping)).
  if (!constraints_.factors.empty() || !constraints_.orders.empty())
    for (size_t i = 0; i < groups; ++i) {
      for (const auto& c : constraints_.factors) {
        int64_t factor = 1;
        for (uint32_t l = loops_begin[i]; l < loops_begin[i + 1]; ++l)
          if (rank_of(loops[l].option) == c.rank) factor = loops[l].factor;
        if (contains(c.values, factor) == c.forbid) {
          constraint = factor_violation(c);
          return Decoded::Constraint;
        }
      }
      for (int p = group_start[i]; p < group_start[i + 1]; ++p) {
        const int e = problem_.order[p];
        const ResolvedEinsum& re = rm.einsums[e];
        const ProblemEinsum& pe = problem_.einsums[e];
        for (const auto& c : constraints_.orders) {
          if (c.einsum != pe.name) continue;
          bool ok = re.level_end[1] - re.level_end[0] >= c.ranks.size();
          for (size_t k = 0; ok && k < c.ranks.size(); ++k)
            ok = pe.variables[re.loops[re.level_end[0] + k].slot].rank == c.ranks[k];
          if (!ok) {
            constraint = order_violation(c);
            return Decoded::Constraint;
          }
        }
      }
    }

  // resolve_mapping's checks, in its order: each group's Einsums, its DRAM loops.
  for (size_t i = 0; i < groups; ++i) {
    for (int p = group_start[i]; p < group_start[i + 1]; ++p) {
      const int e = problem_.order[p];
      ResolvedEinsum& re = rm.einsums[e];
      if (finish_resolved_loops(problem_.einsums[e], arch_.arrays[re.array], re).problem !=
          LoopProblem::None)
        return Decoded::Invalid;
    }
    for (uint32_t l = loops_begin[i]; l < loops_begin[i + 1]; ++l) {
      bool used = false;
      for (int p = group_start[i]; p < group_start[i + 1]; ++p)
        used = used || rm.einsums[problem_.order[p]].loops[l - loops_begin[i]].slot >= 0;
      if (!used) return Decoded::Invalid;
    }
  }
  // Placements (decode(): a tensor between groups, or a cascade input or output, in DRAM).
  for (size_t t = 0; t < problem_.tensors.size(); ++t) {
    const ProblemTensor& pt = problem_.tensors[t];
    bool crosses = pt.input || pt.output;
    for (int c : pt.consumers)
      if (pt.producer >= 0 && rm.einsums[c].group != rm.einsums[pt.producer].group) crosses = true;
    const uint16_t choice = g.placement[t];
    ResolvedTensor& rt = rm.tensors[t];
    if (crosses) rt = {TensorHome::Dram, choice % 2 == 0, false};
    else if (choice == 1) rt = {TensorHome::RegisterFile, true, false};
    else rt = {TensorHome::GlobalBuffer, true, choice == 2};
  }
  for (size_t e = 0; e < einsums; ++e) {
    const ProblemEinsum& pe = problem_.einsums[e];
    ResolvedEinsum& re = rm.einsums[e];
    re.staged = 0;
    for (size_t k = 0; k < pe.accesses.size(); ++k) {
      const ResolvedTensor& rt = rm.tensors[pe.accesses[k].tensor];
      if (rt.home == TensorHome::Dram && rt.staged) re.staged |= uint64_t{1} << k;
    }
  }
  // Both kinds of capacity check give DoesNotFit: the register files first (a candidate has
  // no register loops, so its register tiles depend on the array alone).
  for (size_t e = 0; e < einsums; ++e)
    if (tables_[e].registers_overflow[g.unit[e]]) return Decoded::DoesNotFit;
  if (!check_capacity(problem_, arch_, rm, false).buffer_fits()) return Decoded::DoesNotFit;
  return Decoded::Ok;
}

}  // namespace cascade::search_detail
