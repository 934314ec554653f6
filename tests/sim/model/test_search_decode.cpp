// The search's fast path (mappings/mappers/search/search_decode.cpp) against the slow one it
// replaces: a genome decoded into a Mapping, checked by violated(Mapping), resolved by
// resolve_mapping and priced by the analytical model from the Mapping. On random genomes of
// several cascades and architectures: the same resolved mapping field by field, the same
// verdict (constraint, which check failed) and the same score bit for bit; the search's lower
// bound below the model's cycles.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "mappings/mappers/search/search_space.h"
#include "mappings/mapping/mapping_file.h"
#include "sim/analytical/analytical_model.h"
#include "sim/analytical/search_evaluator.h"
#include "sim/model/design_point.h"

namespace cascade {
namespace {

using search_detail::Genome;
using search_detail::SearchSpace;

const std::string kConfigs = std::string(CASCADE_SOURCE_DIR) + "/configs/";

DesignPoint point(const std::string& arch, const std::string& cascade, int64_t seq) {
  DesignPointSettings s;
  s.mapper = "generic";
  s.seq = seq;
  return load_design_point({kConfigs + "arch/" + arch + ".yaml", kConfigs + "workloads/bert-base.yaml",
                            kConfigs + "cascades/" + cascade + ".yaml", ""},
                           s);
}

// Every gene random (genes() lists the unit before the spatial choice that depends on it),
// or the first group's DRAM loops and a few genes of the default (more of those are valid).
Genome random_genome(const SearchSpace& space, std::mt19937_64& rng, bool few) {
  Genome g = space.default_genome();
  const auto genes = space.genes();
  auto set = [&](const SearchSpace::GeneRef& r) {
    const size_t values = space.values(g, r);
    space.gene(g, r) = static_cast<uint16_t>(std::uniform_int_distribution<size_t>(0, values - 1)(rng));
    if (r.kind == 4) g.spatial[r.index] = 0;
  };
  if (few) {  // as the search's structures: DRAM loops of the first group, then a few genes
    set({1, 0});
    set({2, 0});
    const int k = std::uniform_int_distribution<int>(1, 6)(rng);
    for (int i = 0; i < k; ++i) set(genes[std::uniform_int_distribution<size_t>(0, genes.size() - 1)(rng)]);
  } else {
    for (const auto& r : genes) set(r);
  }
  return g;
}

void expect_same(const ResolvedMapping& slow, const ResolvedMapping& fast) {
  ASSERT_EQ(slow.einsums.size(), fast.einsums.size());
  EXPECT_EQ(slow.schedule, fast.schedule);
  for (size_t e = 0; e < slow.einsums.size(); ++e) {
    const ResolvedEinsum& a = slow.einsums[e];
    const ResolvedEinsum& b = fast.einsums[e];
    EXPECT_EQ(a.einsum, b.einsum);
    EXPECT_EQ(a.group, b.group);
    EXPECT_EQ(a.array, b.array);
    ASSERT_EQ(a.loops.size(), b.loops.size()) << "einsum " << e;
    for (size_t i = 0; i < a.loops.size(); ++i) {
      EXPECT_EQ(a.loops[i].slot, b.loops[i].slot);
      EXPECT_EQ(a.loops[i].factor, b.loops[i].factor);
      EXPECT_EQ(a.loops[i].effective, b.loops[i].effective);
    }
    for (int l = 0; l < 4; ++l) EXPECT_EQ(a.level_end[l], b.level_end[l]);
    EXPECT_EQ(a.cols_end, b.cols_end);
    EXPECT_EQ(a.cols_used, b.cols_used);
    EXPECT_EQ(a.rows_used, b.rows_used);
    EXPECT_EQ(a.temporal_iterations, b.temporal_iterations);
    EXPECT_EQ(a.staged, b.staged);
  }
  ASSERT_EQ(slow.groups.size(), fast.groups.size());
  for (size_t g = 0; g < slow.groups.size(); ++g) {
    EXPECT_EQ(slow.groups[g].einsums, fast.groups[g].einsums);
    EXPECT_EQ(slow.groups[g].dram_iterations, fast.groups[g].dram_iterations);
    EXPECT_EQ(slow.groups[g].serialized_units, fast.groups[g].serialized_units);
  }
  ASSERT_EQ(slow.tensors.size(), fast.tensors.size());
  for (size_t t = 0; t < slow.tensors.size(); ++t) {
    EXPECT_EQ(slow.tensors[t].home, fast.tensors[t].home);
    EXPECT_EQ(slow.tensors[t].staged, fast.tensors[t].staged);
    EXPECT_EQ(slow.tensors[t].spill, fast.tensors[t].spill);
  }
  ASSERT_EQ(slow.buffers.size(), fast.buffers.size());
  for (size_t g = 0; g < slow.buffers.size(); ++g) {
    EXPECT_EQ(slow.buffers[g].needed_bytes, fast.buffers[g].needed_bytes);
    EXPECT_EQ(slow.buffers[g].spillable_bytes, fast.buffers[g].spillable_bytes);
    EXPECT_EQ(slow.buffers[g].tiles.size(), fast.buffers[g].tiles.size());
  }
}

struct Case {
  std::string arch, cascade;
  int64_t seq;
  std::string constraints;  // a constraints: section, or ""
};

class FastPath : public testing::TestWithParam<Case> {};

TEST_P(FastPath, SameAsDecodeResolveAndEvaluate) {
  const Case& c = GetParam();
  const DesignPoint p = point(c.arch, c.cascade, c.seq);
  const SearchConstraints constraints =
      c.constraints.empty() ? SearchConstraints{} : parse_search_constraints(c.constraints, "c.yaml");
  const SearchSpace space(p.problem, p.arch, constraints);
  const auto evaluator = make_analytical_search_evaluator(p.problem, p.arch);
  const AnalyticalModel model(p.problem, p.arch);
  std::vector<std::vector<double>> ii(p.problem.einsums.size(), std::vector<double>(p.arch.arrays.size()));
  for (size_t e = 0; e < ii.size(); ++e)
    for (size_t a = 0; a < ii[e].size(); ++a)
      ii[e][a] = std::max(0.0, evaluator->issue_interval(static_cast<int>(e), static_cast<int>(a)));
  std::mt19937_64 rng(42);
  ResolvedMapping fast;  // reused, as the search reuses it
  int valid = 0, constraint = 0, fit = 0, invalid = 0;
  for (int i = 0; i < 800; ++i) {
    const Genome g = random_genome(space, rng, i % 4 != 0);
    if (!space.violated(g).empty()) continue;  // checked before either path
    const Mapping m = space.decode(g);
    const std::string slow_constraint = space.violated(m);
    std::string fast_constraint;
    const SearchSpace::Decoded verdict = space.resolve(g, fast, fast_constraint);
    if (!slow_constraint.empty()) {
      EXPECT_EQ(verdict, SearchSpace::Decoded::Constraint);
      EXPECT_EQ(fast_constraint, slow_constraint);
      ++constraint;
      continue;
    }
    const SearchScore slow = evaluator->evaluate(m);
    if (!slow.valid) {
      const bool fit_error = slow.error.find("do not fit") != std::string::npos ||
                             slow.error.find("register file") != std::string::npos;
      if (fit_error) {
        EXPECT_EQ(verdict, SearchSpace::Decoded::DoesNotFit) << slow.error;
        ++fit;
      } else if (verdict == SearchSpace::Decoded::Ok) {  // the model rejects it (operations)
        SearchScore score;
        evaluator->evaluate(fast, score);
        EXPECT_FALSE(score.valid) << slow.error;
        ++invalid;
      } else {
        EXPECT_EQ(verdict, SearchSpace::Decoded::Invalid) << slow.error;
        ++invalid;
      }
      continue;
    }
    ASSERT_EQ(verdict, SearchSpace::Decoded::Ok);
    ResolveOptions options;
    options.check_operations = false;
    expect_same(resolve_mapping(p.problem, p.arch, m, options), fast);
    SearchScore score;
    evaluator->evaluate(fast, score);
    ASSERT_TRUE(score.valid) << score.error;
    EXPECT_EQ(score.latency_s, slow.latency_s);
    EXPECT_EQ(score.energy_j, slow.energy_j);
    EXPECT_EQ(score.utilization, slow.utilization);
    // The lower bound holds (to the search's 1e-6); the busy PE-cycles of the utilization
    // are exact.
    const double cycles = model.evaluate(m).cycles;
    EXPECT_LE(space.lower_bound_cycles(g, ii), cycles * (1 + 1e-6)) << print_mapping(m);
    for (size_t a = 0; a < p.arch.arrays.size(); ++a) {
      const double occupancy = space.occupancy(g, ii, static_cast<int>(a));
      EXPECT_EQ(cycles > 0 ? occupancy / cycles : 0, slow.utilization[a]);
    }
    ++valid;
  }
  // Each path was exercised (the numbers depend on the space; a few of each suffice).
  EXPECT_GE(valid, 10) << c.cascade;
  if (!c.constraints.empty()) {
    EXPECT_GT(constraint, 0);
  }
  RecordProperty("valid", valid);
  RecordProperty("does_not_fit", fit);
  RecordProperty("invalid", invalid);
}

INSTANTIATE_TEST_SUITE_P(
    Points, FastPath,
    testing::Values(Case{"fusemax", "softmax-1pass", 1024, ""}, Case{"fusemax", "softmax-1pass", 65536, ""},
                    Case{"flat", "softmax-3pass", 4096, ""}, Case{"fusemax", "linear", 4096, ""},
                    Case{"fusemax", "lightning", 1024, ""}, Case{"fusemax", "neighborhood-1d", 4096, ""},
                    Case{"unfused", "softmax-2pass", 4096, ""},
                    Case{"h100-like", "softmax-1pass", 4096, ""},
                    Case{"fusemax", "softmax-1pass", 4096,
                         "constraints:\n  dram_factors: {P: [1, 4]}\n  orders: {BQK: [E]}\n"
                         "  forbid_dram_factors: {M1: [2]}\n"}));

}  // namespace
}  // namespace cascade
