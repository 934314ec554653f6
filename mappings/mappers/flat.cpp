// The flat mapper (mappings/mappers/mapper.h).
//
// flat:    FLAT (Kao et al., ASPLOS'23) as modelled by the FuseMax artifact: contractions
// on the 2D array, everything else on the 1D array. Candidates: all Einsums fused
// over row blocks of P1 = P0, 2 P0, ... queries, output stationary, Q, K, V
// streamed from DRAM, the intermediates in the global buffer (spilling what does
// not fit; in place where an elementwise Einsum's input dies); and the
// intermediates materialised in DRAM, weight-stationary kernels overlapped across
// heads, the query block as large as fits. The caller keeps the fastest (then the
// least energy).
#include <fmt/core.h>

#include <memory>

#include "arch/support/names.h"
#include "mappings/analysis/passes.h"
#include "mappings/mappers/mapper_support.h"
#include "mappings/mappers/registry.h"

namespace cascade {

namespace {

using namespace mapper_support;

// FLAT's 2D dataflows. Output stationary: P across the columns, the other output rank across
// the rows, the reduction streamed innermost. Weight stationary: the operand without P
// stays in the array (its output rank across the columns, the reduction across the rows)
// while the queries stream.
EinsumMapping contraction_nest(const Problem& problem, const ProblemEinsum& pe, const PeArray& a2,
                               const std::vector<Loop>& dram, int64_t p0, bool weight_stationary) {
  if (!weight_stationary) {
    const std::string other = largest_rank(pe, false, {"P"});
    return build_einsum(problem, pe, a2.name, dram, {{"P", p0}}, {{other, a2.rows}}, {"P", other});
  }
  const std::string out = largest_rank(pe, false, {"P"});
  const std::string red = largest_rank(pe, true, {});
  return build_einsum(problem, pe, a2.name, dram, {{out, a2.cols}}, {{red, a2.rows}},
                      {out, red, "P"});
}

// FLAT with intermediates in DRAM (weight stationary kernels), as the FuseMax artifact's
// configuration for 256K and longer (data/pregenerated/flat_validation.csv): the stationary
// operand (K, V) streams from DRAM; the queries' operand is staged when a query's row of it
// is no longer than the array is tall (Q: E values), else streamed (A: M values); an
// intermediate a contraction writes streams out; a row kernel stages the rows it reads
// and streams out what it writes for a later kernel; a cascade output stays staged (its
// partial sums accumulate on chip).
void set_materialized_bypass(Mapping& m, const Problem& problem, const PeArray& a2) {
  for (MappingGroup& g : m.groups)
    for (EinsumMapping& em : g.einsums) {
      const ProblemEinsum& pe = problem.einsums[problem.find_einsum(em.einsum)];
      em.bypass.clear();
      const int ps = pe.slot_of_rank("P");
      for (const ProblemAccess& a : pe.accesses) {
        const ProblemTensor& t = problem.tensors[a.tensor];
        const TensorPlacement* p = m.find_tensor(t.name);
        if (!p || p->home != TensorHome::Dram) continue;
        bool stream = false;
        if (!pe.contraction) {
          stream = a.write;
        } else if (a.write) {
          stream = !t.output;
        } else if (ps < 0 || !((a.variables >> ps) & 1)) {
          stream = true;  // K, V
        } else {
          double row = 1;
          for (size_t s = 2; s < pe.variables.size(); ++s)
            if (static_cast<int>(s) != ps && ((a.variables >> s) & 1))
              row *= static_cast<double>(pe.variables[s].extent);
          stream = row > static_cast<double>(a2.rows);
        }
        if (stream) em.bypass.push_back(t.name);
      }
    }
}

std::vector<Mapping> flat_mappings(const Problem& problem, const ArchSpec& arch) {
  require_query_rank(problem, "flat");
  const PeArray& a2 = array_with_role(arch, ArrayRole::Matrix, "flat");
  const PeArray& a1 = array_with_role(arch, ArrayRole::Vector, "flat");
  const int64_t P = problem.bindings.shape("P");
  const int64_t p0 = std::min<int64_t>(a2.cols, P);
  std::vector<Mapping> out;

  // (a) Fused over row blocks of P1 queries, intermediates in the global buffer.
  std::vector<int64_t> blocks;
  for (int64_t p1 = p0; p1 < P; p1 *= 2) blocks.push_back(p1);
  blocks.push_back(P);
  for (int64_t p1 : blocks) {
    Mapping m;
    m.mapper = "flat";
    m.name = fmt::format("flat fused P1={}", p1);
    m.description = "FLAT: QK, softmax and AV fused over row blocks, intermediates on chip";
    m.schedule = GroupSchedule::Sequential;
    MappingGroup g;
    g.name = "attention";
    g.dram_loops = batch_head_loops(problem);
    if (ceil_div(P, p1) > 1) g.dram_loops.push_back({"P", ceil_div(P, p1), {}});
    for (int e : problem.order) {
      const ProblemEinsum& pe = problem.einsums[e];
      g.einsums.push_back(pe.contraction
                              ? contraction_nest(problem, pe, a2, g.dram_loops, p0, false)
                              : row_nest(problem, pe, a1, g.dram_loops));
    }
    m.groups.push_back(g);
    for (const ProblemTensor& t : problem.tensors) {
      if (t.input || t.output)
        place(m, problem, t.name, TensorHome::Dram, false, false);
      else
        place(m, problem, t.name, TensorHome::GlobalBuffer, true, true);
    }
    m.notes.push_back(
        fmt::format("fused: every Einsum in one group over batch, head and row "
                    "blocks of P1 = {} queries; contractions on {} (output "
                    "stationary), the rest on {}",
                    p1, a2.name, a1.name));
    m.notes.push_back(
        "Q, K, V streamed from DRAM (Q_loc = K_loc = V_loc = offchip, as the FuseMax "
        "artifact's data/pregenerated/flat_validation.csv); intermediates in the "
        "global buffer, the part that does not fit spills to DRAM");
    out.push_back(m);
  }

  // (b) Intermediates materialised in DRAM; QK, softmax and AV kernels overlapped.
  {
    Mapping m;
    m.mapper = "flat";
    m.name = "flat materialized";
    m.description = "FLAT with the intermediates in DRAM: kernels overlapped across heads";
    m.schedule = GroupSchedule::Overlapped;
    for (const std::vector<int>& k : kernels(problem)) {
      MappingGroup g;
      g.name = kernel_name(problem, k);
      g.dram_loops = batch_head_loops(problem);
      const bool contraction = problem.einsums[k.front()].contraction;
      if (!contraction) g.dram_loops.push_back({"P", P, {}});
      for (int e : k) {
        const ProblemEinsum& pe = problem.einsums[e];
        g.einsums.push_back(contraction ? contraction_nest(problem, pe, a2, g.dram_loops, p0, true)
                                        : row_nest(problem, pe, a1, g.dram_loops));
      }
      m.groups.push_back(g);
    }
    std::vector<int> group_of_einsum(problem.einsums.size(), 0);
    for (size_t g = 0; g < m.groups.size(); ++g)
      for (const EinsumMapping& em : m.groups[g].einsums)
        group_of_einsum[problem.find_einsum(em.einsum)] = static_cast<int>(g);
    for (const ProblemTensor& t : problem.tensors) {
      bool crosses = t.input || t.output;
      for (int c : t.consumers)
        if (t.producer >= 0 && group_of_einsum[c] != group_of_einsum[t.producer]) crosses = true;
      if (crosses)
        place(m, problem, t.name, TensorHome::Dram, true, false);
      else
        place(m, problem, t.name, TensorHome::GlobalBuffer, true, true);
    }
    set_materialized_bypass(m, problem, a2);
    m.notes.push_back("materialized: each contraction a kernel on " + a2.name +
                      " (weight stationary), each run of other Einsums a row-by-row kernel on " +
                      a1.name + "; kernels overlapped across batch and heads");
    m.notes.push_back(
        "intermediates between kernels in DRAM (as the FuseMax artifact's FLAT "
        "configuration for 256K and longer sequences)");
    // Row blocks of the queries held in the global buffer: as large as fits.
    int64_t p1 = P;
    while (true) {
      Mapping trial = m;
      for (MappingGroup& g : trial.groups) {
        if (!problem.einsums[problem.find_einsum(g.einsums.front().einsum)].contraction) continue;
        g.dram_loops = batch_head_loops(problem);
        if (ceil_div(P, p1) > 1) g.dram_loops.push_back({"P", ceil_div(P, p1), {}});
        for (EinsumMapping& em : g.einsums)
          em = contraction_nest(problem, problem.einsums[problem.find_einsum(em.einsum)], a2,
                                g.dram_loops, p0, true);
      }
      set_materialized_bypass(trial, problem, a2);
      if (buffer_fits(problem, arch, trial) || p1 <= p0) {
        trial.notes.push_back(
            fmt::format("contraction kernels over row blocks of P1 = {} queries", p1));
        out.push_back(trial);
        break;
      }
      p1 = std::max(p0, p1 / 2);
    }
  }
  return out;
}


class FlatMapper : public Mapper {
 public:
  std::string name() const override { return "flat"; }
  std::string description() const override {
    return "FLAT (ASPLOS'23): QK, softmax and AV fused over query row blocks";
  }
  // FLAT keeps a block of rows on chip while softmax makes its passes over M: its dataflow
  // is for a multi-pass cascade (softmax-3pass). On a 1-pass cascade it still maps, but
  // that is FLAT's dataflow on another cascade, not FLAT.
  MapperFit fit(const Cascade& cascade) const override {
    const PassReport passes = analyze_passes(cascade);  // `m` points into it: keep it alive
    const RankPasses* m = passes.find("M");
    if (m && m->passes > 1) return {};
    MapperFit f;
    f.intended = false;
    f.note = "the flat mapper reproduces FLAT (Kao et al., ASPLOS'23), which computes softmax "
             "over whole rows of a query block (a cascade that makes several passes over M, "
             "such as softmax-3pass); cascade " + cascade.name + " makes " +
             std::to_string(m ? m->passes : 0) +
             " pass" + (m && m->passes == 1 ? "" : "es") +
             " over M, so this is FLAT's dataflow applied to it, not FLAT";
    return f;
  }
  std::vector<Mapping> candidates(const Problem& problem, const ArchSpec& arch) const override {
    return flat_mappings(problem, arch);
  }
};

}  // namespace

std::unique_ptr<Mapper> make_flat_mapper() { return std::make_unique<FlatMapper>(); }

}  // namespace cascade
