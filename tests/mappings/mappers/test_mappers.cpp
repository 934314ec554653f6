// The Mapper interface and registry (mappings/mappers): finding mappers, the default mapper,
// what a mapper says about a cascade it was not written for, arrays found by role, and a
// mapper added by one registration (the path a new mapper file takes).
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <memory>
#include <sstream>

#include "arch/support/names.h"
#include "mappings/cascade/parser.h"
#include "mappings/mappers/registry.h"
#include "mappings/mapping/resolve.h"
#include "sim/analytical/analytical_model.h"
#include "sim/model/design_point.h"
#include "tests/support/shipped_configs.h"

namespace cascade {
namespace {

using testing_support::error_message;
using testing_support::kRoot;

Cascade cascade_named(const std::string& name) { return testing_support::cascade_file(name); }
ArchSpec arch_named(const std::string& name) { return testing_support::arch(name); }
Workload bert() { return testing_support::workload("bert-base"); }

DesignPoint point(const std::string& arch, const std::string& cascade, const std::string& mapper,
                  int64_t seq) {
  DesignPointSettings s;
  s.mapper = mapper;
  s.seq = seq;
  return make_design_point(arch_named(arch), bert(), cascade_named(cascade), s);
}

TEST(Registry, ShippedMappersInOrder) {
  EXPECT_EQ(mapper_names(), (std::vector<std::string>{"fusemax", "flat", "unfused", "generic", "search"}));
  for (const std::string& name : mapper_names()) {
    EXPECT_EQ(mapper_named(name).name(), name);
    EXPECT_FALSE(mapper_named(name).description().empty()) << name;
  }
  const std::string e = error_message([] { mapper_named("fusemix"); });
  EXPECT_NE(e.find("did you mean 'fusemax'?"), std::string::npos) << e;
}

TEST(Registry, DefaultMapperFollowsTheCascade) {
  EXPECT_EQ(default_mapper(cascade_named("softmax-1pass")).name(), "fusemax");
  EXPECT_EQ(default_mapper(cascade_named("softmax-1pass-causal")).name(), "fusemax");
  for (const char* other : {"softmax-3pass", "softmax-2pass", "linear", "lightning",
                            "neighborhood-1d-1pass"})
    EXPECT_EQ(default_mapper(cascade_named(other)).name(), "generic") << other;
}

// FLAT's mapper on the 1-pass cascade maps, but says it is not FLAT; on its own 3-pass
// cascade it says nothing.
TEST(MapperFit, FlatOnAnotherCascadeSaysSo) {
  const Mapper& flat = mapper_named("flat");
  EXPECT_TRUE(flat.fit(cascade_named("softmax-3pass")).intended);
  const MapperFit off = flat.fit(cascade_named("softmax-1pass"));
  EXPECT_FALSE(off.intended);
  EXPECT_NE(off.note.find("not FLAT"), std::string::npos) << off.note;
  const DesignPoint p = point("flat", "softmax-1pass", "flat", 1024);
  ASSERT_FALSE(p.candidates.empty());
  for (const Mapping& m : p.candidates) {
    ASSERT_FALSE(m.notes.empty());
    EXPECT_NE(m.notes.back().find("not FLAT"), std::string::npos) << m.name;
  }
  for (const Mapping& m : point("flat", "softmax-3pass", "flat", 1024).candidates)
    for (const std::string& note : m.notes) EXPECT_EQ(note.find("not FLAT"), std::string::npos);
}

// Overlapped kernels hold their tiles at once. FLAT with the intermediates in DRAM (the
// artifact's choice at 256K) runs QK, softmax and AV overlapped across heads: its query
// block is the largest halving of P whose tiles fit the 32 MiB buffer together, though
// each kernel's alone would fit at P1 = P. Tiles (bf16), as closed forms: QK stages a Q
// block (P1 x E), AV its output block (P1 x F), the row kernel a row of QK and of A (M
// each) and the row's max and sum (its intermediates: A's row, max, sum may spill). A
// buffer one byte short of what they need together refuses the mapping, naming the
// groups; run sequentially, it fits.
TEST(FlatMapper, OverlappedKernelsFitTheBufferTogether) {
  const int64_t P = 262144, M = P, E = 64, F = 64, word = 2;
  const DesignPoint p = point("flat", "softmax-3pass", "flat", P);
  const Mapping* materialized = nullptr;
  for (const Mapping& m : p.candidates)
    if (m.schedule == GroupSchedule::Overlapped) materialized = &m;
  ASSERT_NE(materialized, nullptr);
  int64_t blocks = 1;
  for (const Loop& l : materialized->groups.front().dram_loops)
    if (l.rank == "P") blocks = l.factor;
  const double p1 = static_cast<double>(P / blocks);
  const double together = (p1 * E + p1 * F + 2.0 * M + 2) * word;
  const double capacity = p.arch.global_buffer()->capacity_bytes;
  EXPECT_EQ(capacity, 32.0 * 1024 * 1024);
  EXPECT_LE(together, capacity);
  EXPECT_GT((2 * p1 * E + 2 * p1 * F + 2.0 * M + 2) * word, capacity) << "P1 could double";
  EXPECT_LE(static_cast<double>(P) * E * word, capacity) << "each kernel alone fits at P1 = P";

  ResolvedMapping rm = resolve_mapping(p.problem, p.arch, *materialized);
  double needed = 0, spillable = 0;
  for (const GroupBuffer& b : rm.buffers) needed += b.needed_bytes, spillable += b.spillable_bytes;
  EXPECT_EQ(needed, (p1 * E + p1 * F + M) * word);
  EXPECT_EQ(spillable, (M + 2) * word);  // the row kernel's intermediates may spill
  EXPECT_EQ(needed + spillable, together);

  ArchSpec short_by_one = p.arch;
  for (Component& c : short_by_one.components)
    if (c.kind == ComponentKind::Buffer) c.capacity_bytes = needed - 1;
  const std::string e =
      error_message([&] { resolve_mapping(p.problem, short_by_one, *materialized); });
  EXPECT_NE(e.find("run overlapped"), std::string::npos) << e;
  EXPECT_NE(e.find("(QK 8.00 MiB, GM-SN-SD-A 512.0 KiB, AV 8.00 MiB)"), std::string::npos) << e;
  Mapping sequential = *materialized;
  sequential.schedule = GroupSchedule::Sequential;
  EXPECT_NO_THROW(resolve_mapping(p.problem, short_by_one, sequential));
}

TEST(MapperFit, FusemaxRefusesWhatItCannotPipeline) {
  const std::string e =
      error_message([] { mapper_named("fusemax").fit(cascade_named("softmax-2pass")); });
  EXPECT_NE(e.find("makes 2 passes over M"), std::string::npos) << e;
  const std::string l = error_message([] { mapper_named("fusemax").fit(cascade_named("linear")); });
  EXPECT_NE(l.find("partitions the key rank M"), std::string::npos) << l;
}

// Mappers find arrays by role, not by name: renamed arrays map the same; without roles the
// mapper says which role it needs.
// The fusemax mapping keeps P1 words per PE of the M1 tile in the 2D register files: a note
// when P1 exceeds their entries (BERT-base on the shipped FuseMax: P1 = P / 256, rf_2d 16).
TEST(FusemaxMapper, SaysWhenP1ExceedsTheRegisterFileEntries) {
  const auto says = [](int64_t seq) {
    const DesignPoint p = point("fusemax", "softmax-1pass", "fusemax", seq);
    for (const std::string& note : p.candidates.at(0).notes)
      if (note.rfind("register files:", 0) == 0) return note;
    return std::string();
  };
  EXPECT_EQ(says(4096), "");  // P1 = 16
  EXPECT_EQ(says(16384), "register files: a PE of array_2d keeps P1 = 64 words of the M1 tile "
                         "(BQK, then SLN) and has 16 entries; this mapping assumes they fit");
}

TEST(ArrayRoles, MappersUseRolesNotNames) {
  std::ifstream in(kRoot + "/configs/arch/fusemax.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::string renamed = text.str();
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"  array_2d:", "  tiles:"}, {"  array_1d:", "  rows:"}}) {
    ASSERT_NE(renamed.find(from), std::string::npos);
    renamed.replace(renamed.find(from), from.size(), to);
  }
  DesignPointSettings s;
  s.seq = 4096;
  const DesignPoint original = point("fusemax", "softmax-1pass", "", 4096);
  const DesignPoint moved =
      make_design_point(parse_arch_text(renamed, "renamed.yaml"), bert(), cascade_named("softmax-1pass"), s);
  const AnalyticalModel a(original.problem, original.arch), b(moved.problem, moved.arch);
  const DesignPointResult ra = evaluate_design_point(original, a);
  const DesignPointResult rb = evaluate_design_point(moved, b);
  EXPECT_EQ(ra.stats.cycles, rb.stats.cycles);
  EXPECT_EQ(ra.stats.busy_cycles.at("array_2d"), rb.stats.busy_cycles.at("tiles"));
  EXPECT_EQ(ra.energy.total_pj, rb.energy.total_pj);

  std::string no_roles = text.str();
  for (const std::string& line : {std::string("    role: matrix"), std::string("    role: vector")}) {
    const size_t at = no_roles.find(line);
    ASSERT_NE(at, std::string::npos);
    no_roles.erase(at, no_roles.find('\n', at) - at + 1);
  }
  const std::string e = error_message([&] {
    make_design_point(parse_arch_text(no_roles, "no-roles.yaml"), bert(),
                      cascade_named("softmax-1pass"), s);
  });
  EXPECT_NE(e.find("needs an array with 'role: matrix'"), std::string::npos) << e;
  EXPECT_NE(e.find("array_2d (no role)"), std::string::npos) << e;
}

TEST(ArrayRoles, RoleErrorsInTheFile) {
  const std::string base = R"(name: r
clock_hz: 1e9
components:
  mac: {kind: compute, energy_pj: {mac: 1}, area_um2: 1}
  mac1: {kind: compute, energy_pj: {mac: 1}, area_um2: 1}
arrays:
  a: {role: matrix, rows: 2, cols: 2, pe_components: [mac], ops: {mac: {mac: 1}}}
  b: {role: ROLE, cols: 2, pe_components: [mac1], ops: {mac: {mac: 1}}}
)";
  auto with = [&](const std::string& role) {
    std::string t = base;
    t.replace(t.find("ROLE"), 4, role);
    return t;
  };
  EXPECT_NO_THROW(parse_arch_text(with("vector"), "r.yaml"));
  const std::string twice = error_message([&] { parse_arch_text(with("matrix"), "r.yaml"); });
  EXPECT_NE(twice.find("r.yaml:8:13"), std::string::npos) << twice;
  EXPECT_NE(twice.find("already the role of array 'a'"), std::string::npos) << twice;
  const std::string typo = error_message([&] { parse_arch_text(with("vectr"), "r.yaml"); });
  EXPECT_NE(typo.find("did you mean 'vector'?"), std::string::npos) << typo;
}

// A mapper added without touching the shipped ones: every Einsum on the vector array, row by
// row over its widest output rank, intermediates in the global buffer. Shipping one is this
// file's class in mappings/mappers/<name>.cpp plus `CASCADE_MAPPER(<name>)` in
// mapper_list.h; a test or an extension registers it at run time instead.
class RowByRowMapper : public Mapper {
 public:
  std::string name() const override { return "row-by-row"; }
  std::string description() const override { return "every Einsum on the vector array"; }
  MapperFit fit(const Cascade&) const override { return {}; }
  std::vector<Mapping> candidates(const Problem& problem, const ArchSpec& arch) const override {
    const PeArray* vector = arch.find_array_with_role(ArrayRole::Vector);
    if (!vector) throw Error("row-by-row needs an array with role: vector");
    Mapping m;
    m.name = "row-by-row";
    m.mapper = name();
    MappingGroup g;
    g.name = "all";
    g.dram_loops = {{kBatchRank, problem.batch, {}}, {kHeadRank, problem.heads, {}}};
    for (int e : problem.order) {
      const ProblemEinsum& pe = problem.einsums[e];
      EinsumMapping em;
      em.einsum = pe.name;
      em.unit = vector->name;
      for (size_t s = 2; s < pe.variables.size(); ++s) {
        const ProblemVariable& v = pe.variables[s];
        if (em.spatial_cols.empty() && !v.reduced && !v.iterative && v.extent > 1) {
          const int64_t across = std::min(v.extent, vector->cols);
          em.spatial_cols.push_back({v.rank, across, {}});
          if (v.extent > across) em.buffer_loops.push_back({v.rank, (v.extent + across - 1) / across, {}});
        } else {
          em.buffer_loops.push_back({v.rank, v.extent, {}});
        }
      }
      g.einsums.push_back(em);
    }
    m.groups.push_back(g);
    return {m};
  }
};

TEST(Registry, AMapperIsOneRegistration) {
  register_mapper(std::make_unique<RowByRowMapper>());
  EXPECT_TRUE(contains(mapper_names(), std::string("row-by-row")));
  EXPECT_THROW(register_mapper(std::make_unique<RowByRowMapper>()), Error);  // name taken
  const DesignPoint p = point("fusemax", "softmax-3pass", "row-by-row", 256);
  const AnalyticalModel model(p.problem, p.arch);
  const DesignPointResult r = evaluate_design_point(p, model);
  EXPECT_EQ(r.mapping.mapper, "row-by-row");
  for (const EinsumStats& e : r.stats.einsums) EXPECT_EQ(e.array, "array_1d") << e.name;
  EXPECT_EQ(r.stats.busy_cycles.at("array_2d"), 0);
  // The vector array does every point: its busy cycles are at least points x II / PEs.
  double least = 0;
  for (const EinsumStats& e : r.stats.einsums) least += e.points * e.ii / 256;
  EXPECT_GE(r.stats.busy_cycles.at("array_1d"), least * (1 - 1e-12));
  // And the shipped mapper on the same point is faster: the 2D array does the contractions.
  const DesignPoint q = point("fusemax", "softmax-3pass", "generic", 256);
  const AnalyticalModel generic(q.problem, q.arch);
  EXPECT_LT(evaluate_design_point(q, generic).latency_s, r.latency_s);
}

}  // namespace
}  // namespace cascade
