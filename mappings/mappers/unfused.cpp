// The unfused mapper (mappings/mappers/mapper.h).
//
// unfused: each contraction is its own kernel on the 2D array, each run of other
// Einsums one kernel on the 1D array working row by row; kernels run one
// after the other, every intermediate between kernels goes through DRAM.
#include <fmt/core.h>

#include <memory>

#include "arch/support/names.h"
#include "mappings/mappers/mapper_support.h"
#include "mappings/mappers/registry.h"

namespace cascade {

namespace {

using namespace mapper_support;

std::vector<Mapping> unfused_mappings(const Problem& problem, const ArchSpec& arch) {
  require_query_rank(problem, "unfused");
  const PeArray& a2 = array_with_role(arch, ArrayRole::Matrix, "unfused");
  const PeArray& a1 = array_with_role(arch, ArrayRole::Vector, "unfused");
  const int64_t P = problem.bindings.shape("P");
  const int64_t p0 = std::min<int64_t>(a2.cols, P);
  Mapping m;
  m.mapper = "unfused";
  m.name = "unfused";
  m.description = "Unfused: one kernel per contraction, one per run of other Einsums, in sequence";
  m.schedule = GroupSchedule::Sequential;
  const std::vector<std::vector<int>> ks = kernels(problem);
  std::vector<int> group_of_einsum(problem.einsums.size(), 0);
  for (size_t k = 0; k < ks.size(); ++k)
    for (int e : ks[k]) group_of_einsum[e] = static_cast<int>(k);
  for (const ProblemTensor& t : problem.tensors) {
    bool crosses = t.input || t.output;
    for (int c : t.consumers)
      if (t.producer >= 0 && group_of_einsum[c] != group_of_einsum[t.producer]) crosses = true;
    if (!crosses)
      place(m, problem, t.name, TensorHome::GlobalBuffer, true, false);
    else
      place(m, problem, t.name, TensorHome::Dram, true, false);
  }
  auto streamed_writes = [&](EinsumMapping& em) {
    const ProblemEinsum& pe = problem.einsums[problem.find_einsum(em.einsum)];
    const ProblemTensor& t = problem.tensors[pe.accesses.back().tensor];
    if (m.find_tensor(t.name)->home == TensorHome::Dram) em.bypass.push_back(t.name);
  };
  for (size_t k = 0; k < ks.size(); ++k) {
    MappingGroup g;
    g.name = kernel_name(problem, ks[k]);
    const ProblemEinsum& first = problem.einsums[ks[k].front()];
    if (!first.contraction) {
      g.dram_loops = batch_head_loops(problem);
      g.dram_loops.push_back({"P", P, {}});
      // What the row kernel writes for a later kernel streams out.
      for (int e : ks[k]) {
        g.einsums.push_back(row_nest(problem, problem.einsums[e], a1, g.dram_loops));
        streamed_writes(g.einsums.back());
      }
      m.groups.push_back(g);
      continue;
    }
    // A contraction: P across the columns, the widest other rank across the rows; the
    // operand and output tiles without both ranks staged in the global buffer, the one with
    // both (QK, A) streamed; blocks of P and of the row rank as large as fit.
    const ProblemEinsum& pe = first;
    std::string rows = largest_rank(pe, false, {"P"});
    const std::string red = largest_rank(pe, true, {});
    if (rows.empty() || (!red.empty() && pe.variables[pe.slot_of_rank(red)].extent >
                                             pe.variables[pe.slot_of_rank(rows)].extent))
      rows = red;
    const int ps = pe.slot_of_rank("P"), rs = pe.slot_of_rank(rows);
    std::vector<std::string> stream;
    for (const ProblemAccess& a : pe.accesses) {
      const bool both =
          ps >= 0 && rs >= 0 && ((a.variables >> ps) & 1) && ((a.variables >> rs) & 1);
      const ProblemTensor& t = problem.tensors[a.tensor];
      if (both && m.find_tensor(t.name)->home == TensorHome::Dram) stream.push_back(t.name);
    }
    const int64_t row_extent = rs >= 0 ? pe.variables[rs].extent : 1;
    const int64_t r0 = std::min<int64_t>(a2.rows, row_extent);
    int64_t p1 = P, rb = row_extent;
    for (int attempt = 0; attempt < 64; ++attempt) {
      g.dram_loops = batch_head_loops(problem);
      if (ceil_div(P, p1) > 1) g.dram_loops.push_back({"P", ceil_div(P, p1), {}});
      if (rs >= 0 && ceil_div(row_extent, rb) > 1)
        g.dram_loops.push_back({rows, ceil_div(row_extent, rb), {}});
      g.einsums = {build_einsum(problem, pe, a2.name, g.dram_loops, {{"P", p0}}, {{rows, a2.rows}},
                                {"P", rows})};
      g.einsums.front().bypass = stream;
      Mapping trial = m;
      trial.groups.push_back(g);
      for (size_t later = k + 1; later < ks.size(); ++later) {
        // Resolving needs every Einsum mapped: kernels not sized yet get a plain row-by-row
        // nest. Only kernel k's buffer usage is read from this trial.
        MappingGroup pending;
        pending.name = "later" + std::to_string(later);
        pending.dram_loops = batch_head_loops(problem);
        for (int e : ks[later]) {
          pending.einsums.push_back(row_nest(problem, problem.einsums[e], a1, pending.dram_loops));
          pending.einsums.back().unit = problem.einsums[e].contraction ? a2.name : a1.name;
        }
        trial.groups.push_back(pending);
      }
      const ResolvedMapping rm = resolve_without_capacity(problem, arch, trial);
      const GroupBuffer usage = group_buffer_usage(problem, rm, static_cast<int>(k));
      if (usage.needed_bytes <= gb_capacity(arch) || (p1 <= p0 && rb <= r0)) break;
      if ((p1 >= rb && p1 > p0) || rb <= r0)
        p1 = std::max(p0, p1 / 2);
      else
        rb = std::max(r0, rb / 2);
    }
    m.groups.push_back(g);
  }
  m.notes.push_back("kernels in sequence: each contraction on " + a2.name +
                    " (P across the "
                    "columns, the widest other rank across the rows), each run of other "
                    "Einsums row by row on " +
                    a1.name);
  m.notes.push_back(
      "every tensor between kernels goes through DRAM; operand blocks staged in "
      "the global buffer, as large as fit");
  return {m};
}


class UnfusedMapper : public Mapper {
 public:
  std::string name() const override { return "unfused"; }
  std::string description() const override {
    return "the unfused baseline: one kernel per contraction and per run of other Einsums";
  }
  MapperFit fit(const Cascade&) const override { return {}; }  // a baseline for any cascade
  std::vector<Mapping> candidates(const Problem& problem, const ArchSpec& arch) const override {
    return unfused_mappings(problem, arch);
  }
};

}  // namespace

std::unique_ptr<Mapper> make_unfused_mapper() { return std::make_unique<UnfusedMapper>(); }

}  // namespace cascade
