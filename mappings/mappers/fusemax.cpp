// The fusemax mapper (mappings/mappers/mapper.h).
//
// fusemax: FuseMax (Nayak et al., MICRO'24) on a 1-pass cascade that partitions M into
// M1 x M0: every Einsum over the M0 x P tile on the 2D array (on the 1D array
// where the 2D PEs cannot run it: FLAT's hardware has no max or exp there), the
// running state on the 1D array (or another array whose PEs can run it, as a
// GPU's FP32 lanes); spatial P0 = cols x M0 = rows; DRAM loops batch, head,
// P2, M1, pipelined over the M1 tiles; Q, K, V, AV in DRAM staged through the
// global buffer, running state (RM, RD, RNV) in the global buffer, everything
// else in the arrays' register files; P1 the largest divisor of P / P0 whose
// tiles fit the global buffer.
#include <fmt/core.h>

#include <memory>

#include "arch/support/names.h"
#include "mappings/analysis/passes.h"
#include "mappings/mappers/divisors.h"
#include "mappings/mappers/mapper_support.h"
#include "mappings/mappers/registry.h"

namespace cascade {

namespace {

using namespace mapper_support;

const Partition& key_partition(const Cascade& cascade) {
  if (const Partition* p = cascade.find_partition_of("M"))
    if (p->parts.size() == 2) {
      const PassReport passes = analyze_passes(cascade);
      const RankPasses* m = passes.find("M");
      if (m && m->passes > 1)
        throw Error("the fusemax mapper pipelines one pass over the key tiles M1, and cascade " +
                    cascade.name + " makes " + std::to_string(m->passes) +
                    " passes over M (use a 1-pass cascade such as softmax-1pass, or --mapper "
                    "flat, unfused or generic)");
      return *p;
    }
  throw Error(
      "the fusemax mapper needs a 1-pass cascade that partitions the key rank M into "
      "[M1, M0] (such as softmax-1pass); cascade " +
      cascade.name + " does not (use --mapper flat, unfused or generic)");
}

std::vector<Mapping> fusemax_mappings(const Problem& problem, const ArchSpec& arch) {
  const Partition& part = key_partition(problem.cascade);
  require_query_rank(problem, "fusemax");
  const std::string m1 = part.parts[0], m0 = part.parts[1];
  const PeArray& a2 = array_with_role(arch, ArrayRole::Matrix, "fusemax");
  const PeArray& a1 = array_with_role(arch, ArrayRole::Vector, "fusemax");
  const int64_t P = problem.bindings.shape("P");
  const int64_t p0 = std::min<int64_t>(a2.cols, P);
  const int64_t tiles = ceil_div(P, p0);
  // The divisors from the factorisation of P / P0: a bounded search at any P.
  const std::vector<int64_t> divisors = divisors_descending(tiles);

  double smallest_need = 0;
  for (int64_t p1 : divisors) {
    Mapping m;
    m.mapper = "fusemax";
    m.name = fmt::format("fusemax P1={}", p1);
    m.description = "FuseMax (Nayak et al., MICRO'24): the 1-pass cascade pipelined over M1 tiles";
    m.shapes[m0] = std::to_string(problem.bindings.shape(m0));
    m.schedule = GroupSchedule::Sequential;
    MappingGroup g;
    g.name = "attention";
    g.dram_loops = batch_head_loops(problem);
    if (tiles / p1 > 1) g.dram_loops.push_back({"P", tiles / p1, {}});
    g.dram_loops.push_back({m1, problem.bindings.shape(m1), {}});
    std::vector<std::string> moved_to_1d;
    for (const ProblemEinsum& pe : problem.einsums) {
      // The M0 x P tile on the 2D array, unless its PEs cannot run the Einsum (FLAT's 2D
      // array has no max or exp: the cascade then runs as the artifact's "+Cascade" step).
      const bool tile = pe.slot_of_rank(m0) >= 0;
      const bool on_2d = tile && supports_all(a2, pe);
      if (tile && !on_2d) moved_to_1d.push_back(pe.name);
      if (on_2d)
        g.einsums.push_back(
            build_einsum(problem, pe, a2.name, g.dram_loops, {{"P", p0}}, {{m0, a2.rows}}, {"P"}));
      else {
        const PeArray& unit = row_unit(arch, a2, a1, pe);
        g.einsums.push_back(build_einsum(problem, pe, unit.name, g.dram_loops,
                                         {{"P", std::min<int64_t>(p0, unit.cols)}}, {}, {"P"}));
      }
    }
    m.groups.push_back(g);
    for (const ProblemTensor& t : problem.tensors) {
      if (t.input)
        place(m, problem, t.name, TensorHome::Dram, true, false);
      else if (t.output)
        place(m, problem, t.name, TensorHome::Dram, false, false);
      else if (t.iterative_dimension >= 0)
        place(m, problem, t.name, TensorHome::GlobalBuffer, true, false);
      else
        place(m, problem, t.name, TensorHome::RegisterFile, true, false);
    }
    double need = 0;
    if (buffer_fits(problem, arch, m, &need)) {
      m.notes.push_back(fmt::format("Einsums over the {} x P tile on {}, the running state on {}",
                                    m0, a2.name, a1.name));
      if (!moved_to_1d.empty())
        m.notes.push_back(fmt::format("{} on {} instead: {}'s PEs cannot run them",
                                      join(moved_to_1d), a1.name, a2.name));
      m.notes.push_back(fmt::format(
          "spatial P0 = {} (cols) x {} = {} (rows); DRAM loops batch, "
          "head, P2 = {}, {} = {}; pipelined over the {} tiles",
          p0, m0, problem.bindings.shape(m0), tiles / p1, m1, problem.bindings.shape(m1), m1));
      m.notes.push_back(fmt::format(
          "P1 = {}: the largest divisor of P / P0 = {} whose tiles fit the {} ({} of {})", p1,
          tiles, gb_name(arch), format_bytes(need), format_bytes(gb_capacity(arch))));
      m.notes.push_back(
          "Q, K, V staged through the global buffer; RM, RD, RNV in the global "
          "buffer; the other intermediates in the arrays' register files");
      // Each 2D Einsum runs over the P1 folds before the next, so a PE keeps one BQK (then
      // SLN) word per fold: said, not refused (the paper's mapping; `cascade simulate`
      // measures what its schedule holds, README "Register-file occupancy").
      if (p1 > a2.register_file_entries)
        m.notes.push_back(fmt::format(
            "register files: a PE of {} keeps P1 = {} words of the M1 tile (BQK, then SLN) and "
            "has {} entries; this mapping assumes they fit",
            a2.name, p1, a2.register_file_entries));
      return {m};
    }
    smallest_need = need;
  }
  throw Error(fmt::format("fusemax mapper: even P1 = 1 needs {} of global buffer, and {} has {}",
                          format_bytes(smallest_need), gb_name(arch),
                          format_bytes(gb_capacity(arch))));
}


class FusemaxMapper : public Mapper {
 public:
  std::string name() const override { return "fusemax"; }
  std::string description() const override {
    return "FuseMax (MICRO'24): a 1-pass cascade pipelined over the key tiles M1";
  }
  MapperFit fit(const Cascade& cascade) const override {
    key_partition(cascade);
    return {};
  }
  std::map<std::string, std::string> shape_settings(const Cascade& cascade,
                                                    const ArchSpec& arch) const override {
    const Partition& part = key_partition(cascade);
    return {{part.parts[1],
             std::to_string(array_with_role(arch, ArrayRole::Matrix, "fusemax").rows)}};
  }
  std::vector<Mapping> candidates(const Problem& problem, const ArchSpec& arch) const override {
    return fusemax_mappings(problem, arch);
  }
  bool is_default_for(const Cascade& cascade) const override {
    try {
      key_partition(cascade);
      return true;
    } catch (const Error&) {
      return false;
    }
  }
};

}  // namespace

std::unique_ptr<Mapper> make_fusemax_mapper() { return std::make_unique<FusemaxMapper>(); }

}  // namespace cascade
