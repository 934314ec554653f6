#include "mappings/mappers/search/search_space.h"

#include <fmt/core.h>

#include <algorithm>
#include <set>

#include "arch/support/names.h"
#include "mappings/mappers/divisors.h"
#include "mappings/mappers/mapper_support.h"
#include "mappings/mapping/resolve.h"

namespace cascade::search_detail {

using namespace mapper_support;

namespace {

std::string join_numbers(const std::vector<int64_t>& v) {
  std::string out;
  for (int64_t x : v) out += (out.empty() ? "" : ", ") + std::to_string(x);
  return "[" + out + "]";
}

std::string where(const SourceLocation& loc) {
  return loc.known() ? " (" + loc.str() + ")" : "";
}

// The ranks an Einsum can put across an array: not iterative, more than one point.
std::vector<const ProblemVariable*> wide_ranks(const ProblemEinsum& pe) {
  std::vector<const ProblemVariable*> out;
  for (size_t s = 2; s < pe.variables.size(); ++s)
    if (!pe.variables[s].iterative && pe.variables[s].extent > 1) out.push_back(&pe.variables[s]);
  // Output ranks first, the widest first: the default takes the front.
  std::stable_sort(out.begin(), out.end(), [](const ProblemVariable* a, const ProblemVariable* b) {
    if (a->reduced != b->reduced) return !a->reduced;
    return a->extent > b->extent;
  });
  return out;
}

// Fills what the chosen ranks leave of the columns (then the rows) with the other wide
// ranks, widest first, each by what one DRAM tile leaves of it.
void fill_spatial(const ProblemEinsum& pe, const std::vector<Loop>& dram, const PeArray& array,
                  std::vector<SpatialChoice>& cols, std::vector<SpatialChoice>& rows) {
  auto tile = [&](const std::string& rank) {
    int64_t e = pe.variables[pe.slot_of_rank(rank)].extent;
    for (const Loop& l : dram)
      if (l.rank == rank) e = ceil_div(e, l.factor);
    return e;
  };
  std::vector<std::string> used;
  for (const auto& c : cols) used.push_back(c.rank);
  for (const auto& c : rows) used.push_back(c.rank);
  for (auto* side : {&cols, &rows}) {
    const int64_t dim = side == &cols ? array.cols : array.rows;
    if (dim <= 1 || side->empty()) continue;
    int64_t left = dim;
    for (const auto& c : *side) left /= std::max<int64_t>(1, std::min(c.factor, tile(c.rank)));
    for (const ProblemVariable* v : wide_ranks(pe)) {
      if (left <= 1) break;
      if (contains(used, v->rank) || tile(v->rank) <= 1) continue;
      const int64_t f = std::min(left, tile(v->rank));
      side->push_back({v->rank, f});
      used.push_back(v->rank);
      left /= f;
    }
  }
}

}  // namespace

uint64_t Genome::hash() const {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const std::vector<uint16_t>& v) {
    for (uint16_t x : v) h = (h ^ x) * 1099511628211ull;
    h = (h ^ 0xffff) * 1099511628211ull;
  };
  mix(cut), mix(loop_a), mix(loop_b), mix(serialized), mix(unit), mix(spatial), mix(order),
      mix(placement);
  return (h ^ overlapped) * 1099511628211ull;
}

SearchSpace::SearchSpace(const Problem& problem, const ArchSpec& arch,
                         const SearchConstraints& constraints)
    : problem_(problem), arch_(arch), constraints_(constraints) {
  for (const auto& c : constraints.units)
    if (problem.find_einsum(c.einsum) < 0)
      throw Error(c.loc, "constraint: unknown einsum '" + c.einsum + "'");
  for (const auto& c : constraints.orders)
    if (problem.find_einsum(c.einsum) < 0)
      throw Error(c.loc, "constraint: unknown einsum '" + c.einsum + "'");
  for (const auto& c : constraints.fuse)
    for (const std::string& e : c.einsums)
      if (problem.find_einsum(e) < 0)
        throw Error(c.loc, "constraint: unknown einsum '" + e + "'");
  for (const auto& c : constraints.utilization)
    if (!arch.find_array(c.array)) throw Error(c.loc, "constraint: unknown array '" + c.array + "'");
  position_.resize(problem.einsums.size());
  for (size_t p = 0; p < problem.order.size(); ++p) position_[problem.order[p]] = static_cast<int>(p);

  const PeArray* matrix = arch.find_array_with_role(ArrayRole::Matrix);
  const PeArray* vector = arch.find_array_with_role(ArrayRole::Vector);
  options_.resize(problem.einsums.size());
  for (size_t e = 0; e < problem.einsums.size(); ++e) {
    const ProblemEinsum& pe = problem.einsums[e];
    EinsumOptions& o = options_[e];
    // Arrays: those whose PEs run every operation, the matrix array first for a contraction,
    // the vector array first otherwise.
    std::vector<int> order;
    auto index = [&](const PeArray* a) { return a ? static_cast<int>(a - arch.arrays.data()) : -1; };
    const int first = index(pe.contraction ? matrix : vector);
    if (first >= 0) order.push_back(first);
    for (size_t a = 0; a < arch.arrays.size(); ++a)
      if (static_cast<int>(a) != first) order.push_back(static_cast<int>(a));
    std::vector<std::string> runs;
    for (int a : order) {
      if (!supports_all(arch.arrays[a], pe)) {
        excluded_.push_back(fmt::format("einsum {} on {}: op unsupported", pe.name, arch.arrays[a].name));
        continue;
      }
      runs.push_back(arch.arrays[a].name);
      bool allowed = true;
      for (const auto& c : constraints.units)
        if (c.einsum == pe.name && contains(c.arrays, arch.arrays[a].name) == c.forbid) {
          allowed = false;
          excluded_.push_back(fmt::format("einsum {} on {}: constraint{}", pe.name,
                                          arch.arrays[a].name, where(c.loc)));
        }
      if (allowed) o.units.push_back(a);
    }
    if (runs.empty())
      throw Error("search: no array of " + arch.name + " runs every operation of einsum " +
                  pe.name + " (op unsupported everywhere)");
    if (o.units.empty()) {
      for (const auto& c : constraints.units)
        if (c.einsum == pe.name)
          throw Error(c.loc, "constraint on einsum " + pe.name + " excludes every array that " +
                                 "runs it (" + join(runs) + "): nothing valid exists");
    }
    // Spatial ranks per array: each wide rank across the columns; on a 2D array, none or
    // another wide rank down the rows. The default: the widest output rank across the
    // columns, the next output rank (or the reduced rank where it is wider) down the rows.
    const std::vector<const ProblemVariable*> wide = wide_ranks(pe);
    for (int a : o.units) {
      std::vector<Spatial> list;
      const bool two_d = arch.arrays[a].rows > 1;
      if (wide.empty()) list.push_back({"", ""});
      for (const ProblemVariable* c : wide) {
        if (two_d)
          for (const ProblemVariable* r : wide)
            if (r != c) list.push_back({c->rank, r->rank});
        list.push_back({c->rank, ""});
      }
      if (two_d && wide.size() >= 2) {
        std::string second = wide[1]->rank;
        for (const ProblemVariable* v : wide)
          if (v->reduced && v->extent > wide[1]->extent && v != wide[0]) second = v->rank;
        for (size_t i = 0; i < list.size(); ++i)
          if (list[i].cols == wide[0]->rank && list[i].rows == second) {
            std::rotate(list.begin(), list.begin() + static_cast<long>(i), list.begin() + static_cast<long>(i) + 1);
            break;
          }
      }
      const size_t plain = list.size();
      if (wide.size() >= 2)
        for (size_t i = 0; i < plain; ++i)
          if (!list[i].cols.empty()) list.push_back({list[i].cols, list[i].rows, true});
      o.spatial.push_back(std::move(list));
    }
    // Buffer-loop orders: option 0 follows the spatial ranks (cols, rows); then each rank,
    // and each ordered pair of ranks, first (the rest: output ranks, then reduced ones).
    std::vector<std::string> ranks;
    for (size_t s = 2; s < pe.variables.size(); ++s)
      if (pe.variables[s].extent > 1) ranks.push_back(pe.variables[s].rank);
    const SearchConstraints::Order* fixed = nullptr;
    for (const auto& c : constraints.orders)
      if (c.einsum == pe.name) fixed = &c;
    if (fixed) {
      o.orders.push_back(fixed->ranks);
    } else {
      o.orders.push_back({});  // follows the spatial choice
      for (const std::string& r : ranks) o.orders.push_back({r});
      for (const std::string& r : ranks)
        for (const std::string& q : ranks)
          if (r != q) o.orders.push_back({r, q});
    }
  }
  // DRAM loops: none, or any rank an Einsum iterates over, split into a divisor of its
  // extent (powers of two where it has too many divisors).
  dram_.push_back({"", 1});
  std::set<std::string> seen;
  for (const ProblemEinsum& pe : problem.einsums)
    for (size_t s = 2; s < pe.variables.size(); ++s) {
      const ProblemVariable& v = pe.variables[s];
      if (v.extent <= 1 || !seen.insert(v.rank).second) continue;
      std::vector<int64_t> factors = divisors_descending(v.extent);
      if (factors.size() > 40) {
        factors.clear();
        for (int64_t f = 1; f < v.extent; f *= 2) factors.push_back(f);
        factors.push_back(v.extent);
      }
      std::sort(factors.begin(), factors.end());
      for (int64_t f : factors) {
        if (f <= 1) continue;
        bool allowed = true;
        for (const auto& c : constraints.factors)
          if (c.rank == v.rank && contains(c.values, f) == c.forbid) allowed = false;
        if (allowed) dram_.push_back({v.rank, f});
        else excluded_.push_back(fmt::format("DRAM loop {}: {}: constraint", v.rank, f));
      }
    }
  build_tables();
}

size_t SearchSpace::tensor_options(int tensor) const {
  const ProblemTensor& t = problem_.tensors[tensor];
  return t.input || t.output ? 2 : 3;
}

Genome SearchSpace::default_genome() const {
  const size_t n = problem_.einsums.size();
  Genome g;
  g.cut.assign(n, 0);
  g.loop_a.assign(n, 0);
  g.loop_b.assign(n, 0);
  g.serialized.assign(n, 0);
  g.unit.assign(n, 0);
  g.spatial.assign(n, 0);
  g.order.assign(n, 0);
  g.placement.assign(problem_.tensors.size(), 0);
  return g;
}

std::vector<SearchSpace::GeneRef> SearchSpace::genes() const {
  std::vector<GeneRef> out;
  const int n = static_cast<int>(problem_.einsums.size());
  for (int i = 1; i < n; ++i) out.push_back({0, i});
  for (int k = 1; k <= 6; ++k)
    for (int i = 0; i < n; ++i) out.push_back({k, i});
  for (int t = 0; t < static_cast<int>(problem_.tensors.size()); ++t) out.push_back({7, t});
  out.push_back({8, 0});
  return out;
}

uint16_t& SearchSpace::gene(Genome& g, const GeneRef& r) const {
  switch (r.kind) {
    case 0: return g.cut[r.index];
    case 1: return g.loop_a[r.index];
    case 2: return g.loop_b[r.index];
    case 3: return g.serialized[r.index];
    case 4: return g.unit[r.index];
    case 5: return g.spatial[r.index];
    case 6: return g.order[r.index];
    case 7: return g.placement[r.index];
    default: return g.overlapped;
  }
}

size_t SearchSpace::values(const Genome& g, const GeneRef& r) const {
  switch (r.kind) {
    case 0: case 3: case 8: return 2;
    case 1: case 2: return dram_.size();
    case 4: return options_[r.index].units.size();
    case 5: return options_[r.index].spatial[g.unit[r.index]].size();
    case 6: return options_[r.index].orders.size();
    default: return tensor_options(r.index);
  }
}

std::vector<std::vector<int>> SearchSpace::groups(const Genome& g) const {
  std::vector<std::vector<int>> out;
  for (size_t p = 0; p < problem_.order.size(); ++p) {
    if (p == 0 || g.cut[p]) out.emplace_back();
    out.back().push_back(problem_.order[p]);
  }
  return out;
}

std::string SearchSpace::violated(const Genome& g) const {
  if (constraints_.fuse.empty()) return "";
  const std::vector<std::vector<int>> gs = groups(g);
  std::vector<int> group_of(problem_.einsums.size());
  for (size_t i = 0; i < gs.size(); ++i)
    for (int e : gs[i]) group_of[e] = static_cast<int>(i);
  for (const auto& c : constraints_.fuse) {
    std::set<int> in;
    for (const std::string& e : c.einsums) in.insert(group_of[problem_.find_einsum(e)]);
    if (!c.apart && in.size() > 1)
      return "fuse [" + join(c.einsums) + "] in one group" + where(c.loc);
    if (c.apart && in.size() < c.einsums.size())
      return "keep [" + join(c.einsums) + "] apart" + where(c.loc);
  }
  return "";
}

std::string SearchSpace::factor_violation(const SearchConstraints::Factor& c) const {
  return fmt::format("{} DRAM factor of {} {}{}", c.forbid ? "forbidden" : "fixed", c.rank,
                     join_numbers(c.values), where(c.loc));
}

std::string SearchSpace::order_violation(const SearchConstraints::Order& c) const {
  return "order of " + c.einsum + " [" + join(c.ranks) + "]" + where(c.loc);
}

std::string SearchSpace::violated(const Mapping& m) const {
  for (const MappingGroup& g : m.groups) {
    for (const auto& c : constraints_.factors) {
      int64_t factor = 1;
      for (const Loop& l : g.dram_loops)
        if (l.rank == c.rank) factor = l.factor;
      if (contains(c.values, factor) == c.forbid) return factor_violation(c);
    }
    for (const EinsumMapping& em : g.einsums)
      for (const auto& c : constraints_.orders) {
        if (c.einsum != em.einsum) continue;
        bool ok = em.buffer_loops.size() >= c.ranks.size();
        for (size_t i = 0; ok && i < c.ranks.size(); ++i) ok = em.buffer_loops[i].rank == c.ranks[i];
        if (!ok) return order_violation(c);
      }
  }
  return "";
}

Mapping SearchSpace::decode(const Genome& g) const {
  Mapping m;
  m.mapper = "search";
  m.name = "search";
  m.description = "found by the mapping search";
  m.schedule = g.overlapped ? GroupSchedule::Overlapped : GroupSchedule::Sequential;
  const std::vector<std::vector<int>> gs = groups(g);
  std::vector<int> group_of(problem_.einsums.size());
  for (size_t i = 0; i < gs.size(); ++i) {
    const std::vector<int>& members = gs[i];
    const int p0 = position_[members.front()];
    MappingGroup group;
    for (int e : members) group.name += (group.name.empty() ? "" : "-") + problem_.einsums[e].name;
    group.dram_loops = batch_head_loops(problem_);
    for (const uint16_t option : {g.loop_a[p0], g.loop_b[p0]}) {
      const DramLoopOption& d = dram_[option];
      if (d.rank.empty()) continue;
      bool used = false, twice = false;
      for (int e : members) used = used || dram_loop_slot(problem_, problem_.einsums[e], d.rank) >= 0;
      for (const Loop& l : group.dram_loops) twice = twice || l.rank == d.rank;
      if (used && !twice) group.dram_loops.push_back({d.rank, d.factor, {}});
    }
    // Overlapped groups share their arrays' busy time: only a sequential schedule has
    // serialized groups (as resolve_mapping and mapping files require).
    group.serialized_units = g.serialized[p0] != 0 && !g.overlapped;
    for (int e : members) {
      group_of[e] = static_cast<int>(i);
      const ProblemEinsum& pe = problem_.einsums[e];
      const EinsumOptions& o = options_[e];
      const PeArray& array = arch_.arrays[o.units[g.unit[e]]];
      const Spatial& sp = o.spatial[g.unit[e]][g.spatial[e]];
      std::vector<SpatialChoice> cols, rows;
      if (!sp.cols.empty()) cols.push_back({sp.cols, array.cols});
      if (!sp.rows.empty()) rows.push_back({sp.rows, array.rows});
      if (sp.fill) fill_spatial(pe, group.dram_loops, array, cols, rows);
      std::vector<std::string> first = o.orders[g.order[e]];
      if (first.empty() && !o.orders.empty() && g.order[e] == 0 && o.orders.size() > 1) {
        if (!sp.cols.empty()) first.push_back(sp.cols);
        if (!sp.rows.empty()) first.push_back(sp.rows);
      }
      group.einsums.push_back(build_einsum(problem_, pe, array.name, group.dram_loops, cols, rows, first));
    }
    m.groups.push_back(std::move(group));
  }
  for (size_t t = 0; t < problem_.tensors.size(); ++t) {
    const ProblemTensor& pt = problem_.tensors[t];
    bool crosses = pt.input || pt.output;
    for (int c : pt.consumers)
      if (pt.producer >= 0 && group_of[c] != group_of[pt.producer]) crosses = true;
    const uint16_t choice = g.placement[t];
    if (crosses)
      place(m, problem_, pt.name, TensorHome::Dram, choice % 2 == 0, false);
    else if (choice == 1)
      place(m, problem_, pt.name, TensorHome::RegisterFile, true, false);
    else
      place(m, problem_, pt.name, TensorHome::GlobalBuffer, true, choice == 2);
  }
  return m;
}

double SearchSpace::lower_bound_cycles(const Genome& g,
                                       const std::vector<std::vector<double>>& ii) const {
  // The groups: runs of the evaluation order, cut where cut[p] is set.
  thread_local std::vector<int> group_of, first_position, counted;
  thread_local std::vector<double> busy, dram_words, most;
  const size_t n = problem_.order.size();
  group_of.resize(problem_.einsums.size());
  first_position.clear();
  for (size_t p = 0; p < n; ++p) {
    if (p == 0 || g.cut[p]) first_position.push_back(static_cast<int>(p));
    group_of[problem_.order[p]] = static_cast<int>(first_position.size()) - 1;
  }
  const size_t groups = first_position.size();
  const double bh = static_cast<double>(problem_.batch * problem_.heads);
  const Component* dram = arch_.dram();
  const double bytes_per_cycle =
      dram && dram->bandwidth_bytes_per_s > 0 && arch_.clock_hz > 0
          ? dram->bandwidth_bytes_per_s / arch_.clock_hz : 0;
  const size_t arrays = arch_.arrays.size();
  busy.assign(arrays * groups, 0);
  dram_words.assign(groups, 0);
  counted.assign(problem_.tensors.size(), -1);  // the group that counted it
  most.resize(problem_.tensors.size());         // the most of it that group's accesses touch
  for (size_t p = 0; p < n; ++p) {
    const int e = problem_.order[p];
    const int i = group_of[e];
    const ProblemEinsum& pe = problem_.einsums[e];
    const int a = options_[e].units[g.unit[e]];
    const double used = tables_[e].spatial[g.unit[e]][g.spatial[e]].pes_used;
    busy[static_cast<size_t>(i) * arrays + a] += ii[e][a] * pe.points * bh / used;
    // DRAM: a cascade input is read, an output written, a tensor between groups written
    // and read at least once: what the group's accesses touch of it (the most any one
    // touches; AV reads only the last slice of the iterative RNV[m1+1, ...]).
    for (size_t k = 0; k < pe.accesses.size(); ++k) {
      const ProblemAccess& acc = pe.accesses[k];
      const ProblemTensor& t = problem_.tensors[acc.tensor];
      const bool between = !acc.write && t.producer >= 0 && group_of[t.producer] != i;
      const bool leaves = acc.write && !t.output && [&] {
        for (int c : t.consumers) if (group_of[c] != i) return true;
        return false;
      }();
      if ((!acc.write && t.input) || (acc.write && t.output) || between || leaves) {
        if (counted[acc.tensor] != i) {
          counted[acc.tensor] = i;
          most[acc.tensor] = 0;
        }
        const double touched = tables_[e].footprint[k];
        if (touched > most[acc.tensor]) {
          dram_words[i] += (touched - most[acc.tensor]) * bh;
          most[acc.tensor] = touched;
        }
      }
    }
  }
  auto dram_cycles = [&](double words) {
    return bytes_per_cycle > 0 ? words * problem_.word_bytes / bytes_per_cycle : 0;
  };
  if (g.overlapped) {
    double most = 0, words = 0;
    for (size_t a = 0; a < arrays; ++a) {
      double sum = 0;
      for (size_t i = 0; i < groups; ++i) sum += busy[i * arrays + a];
      most = std::max(most, sum);
    }
    for (size_t i = 0; i < groups; ++i) words += dram_words[i];
    return std::max(most, dram_cycles(words));
  }
  double total = 0;
  for (size_t i = 0; i < groups; ++i) {
    const int p0 = first_position[i];
    double most = 0, sum = 0;
    for (size_t a = 0; a < arrays; ++a) {
      most = std::max(most, busy[i * arrays + a]);
      sum += busy[i * arrays + a];
    }
    total += std::max(g.serialized[p0] ? sum : most, dram_cycles(dram_words[i]));
  }
  return total;
}

double SearchSpace::occupancy(const Genome& g, const std::vector<std::vector<double>>& ii,
                              int array) const {
  // AnalyticalModel's sum, in its order (cascade order).
  const double bh = static_cast<double>(problem_.batch * problem_.heads);
  const double pes = static_cast<double>(arch_.arrays[array].pes());
  double busy = 0;
  for (size_t e = 0; e < problem_.einsums.size(); ++e)
    if (options_[e].units[g.unit[e]] == array) busy += ii[e][array] * (problem_.einsums[e].points * bh) / pes;
  return busy;
}

}  // namespace cascade::search_detail
