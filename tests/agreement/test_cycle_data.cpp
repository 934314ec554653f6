// Data mode of the cycle-level model (sim/systemc/datapath.h) against the functional
// executor, bit for bit: real values move with the plan's loads, computes and stores, in the
// plan's program order (a valid order of its dependencies; the SystemC run, which starts
// operations in simulated time, is checked through the CLI in CMakeLists.txt). Then plans
// with a seeded bug (a load or a store left out, operations out of order) must fail.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "mappings/cascade/parser.h"
#include "mappings/mappers/registry.h"
#include "mappings/mapping/mapping_file.h"
#include "sim/functional/check.h"
#include "sim/systemc/datapath.h"
#include "tests/support/error_of.h"
#include "tests/support/shipped_configs.h"

namespace cascade {
namespace {

using testing_support::arch;
using testing_support::cascade_file;
using testing_support::error_of;
using testing_support::run_design_point;
using testing_support::workload;

struct DataRun {
  DesignPoint point;
  Plan plan;
  TensorMap inputs;
  ExecutionOptions options;
};

// A small design point (E = F = 16) and the plan of the mapping its mapper chooses.
DataRun prepare(const std::string& arch_name, const std::string& cascade_name,
                const std::string& mapper, int64_t seq, NumberFormat storage) {
  DataRun r;
  const testing_support::DesignRun d =
      run_design_point(arch(arch_name), workload("bert-base"), cascade_file(cascade_name), seq,
                       mapper, 1, 1, {{"E", "16"}, {"F", "16"}});
  r.point = d.point;
  r.plan = build_plan(r.point.problem, r.point.arch, d.result.mapping, 1);
  r.options.storage = storage;
  r.options.accumulate = default_accumulation(storage);
  r.inputs = random_inputs(r.point.problem.cascade, r.point.problem.bindings, 7, 1.0);
  return r;
}

// Runs the plan's operations in program order, skipping `skip` (-1: none).
TensorMap run_plan(const DataRun& r, int skip = -1) {
  Datapath datapath(r.point.problem, r.plan, r.inputs, r.options);
  for (size_t op = 0; op < r.plan.ops.size(); ++op)
    if (static_cast<int>(op) != skip) datapath.run(static_cast<int>(op));
  return datapath.results();
}

std::vector<std::string> outputs_of(const DataRun& r) {
  const auto& o = r.point.problem.cascade.outputs;
  return {o.begin(), o.end()};
}

int64_t differing(const DataRun& r, const TensorMap& values) {
  const TensorMap expected =
      execute(r.point.problem.cascade, r.point.problem.bindings, r.inputs, r.options);
  int64_t n = 0;
  for (const TensorDifference& d : compare_bitwise(expected, values, outputs_of(r))) {
    EXPECT_GT(d.elements, 0) << d.tensor;
    n += d.differing;
    if (d.differing) ADD_FAILURE() << d.differing << " of " << d.elements << ": " << d.first;
  }
  return n;
}

// Every shipped cascade with the mappers that map it; P = M = 256, and 200 or 320 where the
// tiles are partial.
const std::vector<std::tuple<std::string, std::string, std::string, int64_t>> kDesigns = {
    {"fusemax", "softmax-1pass", "fusemax", 256},
    {"fusemax", "softmax-1pass", "fusemax", 320},       // a partial last key tile
    {"flat", "softmax-1pass", "fusemax", 256},          // max and exp on the 1D array
    {"fusemax", "softmax-1pass", "generic", 320},       // the recurrences interleaved in one run
    {"fusemax", "softmax-1pass-causal", "fusemax", 320},
    {"fusemax", "softmax-1pass-causal", "flat", 200},
    {"flat", "softmax-3pass", "flat", 256},
    {"flat", "softmax-3pass", "flat", 320},
    {"unfused", "softmax-3pass", "unfused", 320},
    {"fusemax", "softmax-2pass", "generic", 320},
    {"fusemax", "softmax-causal", "generic", 200},
    {"fusemax", "softmax-deferred-division", "unfused", 256},
    {"fusemax", "linear", "generic", 320},
    {"fusemax", "linear-relu", "generic", 200},
    {"fusemax", "linear-causal", "generic", 256},
    {"fusemax", "linear-causal-chunked", "generic", 320},
    {"fusemax", "lightning", "generic", 200},
    {"fusemax", "lightning", "generic", 320},
    {"fusemax", "neighborhood-1d", "generic", 320},
    {"fusemax", "neighborhood-1d-causal", "generic", 256},
    {"fusemax", "neighborhood-1d-1pass", "flat", 320},
    {"fusemax", "neighborhood-2d", "generic", 0},
};

TEST(CycleData, OutputsEqualTheExecutorsBitForBit) {
  for (NumberFormat storage : {NumberFormat::FP32, NumberFormat::BF16})
    for (const auto& [arch_name, cascade_name, mapper, seq] : kDesigns) {
      SCOPED_TRACE(arch_name + " " + cascade_name + " " + mapper + " " + std::to_string(seq) + " " +
                   to_string(storage));
      const DataRun r = prepare(arch_name, cascade_name, mapper, seq, storage);
      EXPECT_EQ(differing(r, run_plan(r)), 0);
    }
}

// The fast path (sim/systemc/datapath_fast.h) against the generic per-point path: every
// tensor, intermediates included, bit for bit, on every design above in fp32 and in bf16
// throughout with hardware exp, and on the first six in fp16 throughout and in bf16 storage
// with fp32 accumulation and hardware exp; and the fast path really evaluates the
// contractions and maps.
TEST(CycleData, TheFastPathEqualsTheGenericPathBitForBit) {
  struct Numbers {
    NumberFormat storage, accumulate;
    ExpMode exp;
  };
  const Numbers setups[] = {{NumberFormat::FP32, NumberFormat::FP32, ExpMode::Exact},
                            {NumberFormat::BF16, NumberFormat::FP32, ExpMode::Hardware},
                            {NumberFormat::FP16, NumberFormat::FP16, ExpMode::Exact},
                            {NumberFormat::BF16, NumberFormat::BF16, ExpMode::Hardware}};
  double fast_points = 0, points = 0;
  for (const Numbers& n : setups)
    for (size_t i = 0; i < kDesigns.size(); ++i) {
#ifdef CASCADE_SANITIZED
      // Under ASan/UBSan (138 s with all four): fp32 and the narrow bf16/bf16 path, which
      // between them run every fast-path kernel; the Release run checks all four setups.
      if (n.storage != n.accumulate || n.storage == NumberFormat::FP16) continue;
#endif
      const auto& [arch_name, cascade_name, mapper, seq] = kDesigns[i];
      if (n.storage != n.accumulate && i >= 6) continue;  // the fusemax and flat designs only
      SCOPED_TRACE(arch_name + " " + cascade_name + " " + mapper + " " + std::to_string(seq) + " " +
                   to_string(n.storage) + "/" + to_string(n.accumulate) + " " + to_string(n.exp));
      DataRun r = prepare(arch_name, cascade_name, mapper, seq, n.storage);
      r.options.accumulate = n.accumulate;
      r.options.exp = n.exp;
      std::vector<TensorMap> values;
      std::vector<DatapathCounts> counts;
      for (bool fast : {true, false}) {
        Datapath datapath(r.point.problem, r.plan, r.inputs, r.options, fast);
        for (size_t op = 0; op < r.plan.ops.size(); ++op) datapath.run(static_cast<int>(op));
        values.push_back(datapath.results());
        counts.push_back(datapath.counts());
      }
      EXPECT_EQ(counts[1].fast_points, 0);
      EXPECT_EQ(counts[0].points, counts[1].points);
      // It leaves to the generic path the Einsums that read their own previous step (the
      // softmax recurrences RM, RD, RNV: one row per step; linear-causal's S and Z) and
      // non-affine indices (the neighborhood windows' start(p)); the contractions and maps
      // of the softmax cascades are nearly all of their points.
      EXPECT_GT(counts[0].fast_points, 0);
      if (cascade_name.rfind("softmax", 0) == 0) {
        EXPECT_GT(counts[0].fast_points, 0.95 * counts[0].points)
            << counts[0].fast_points << " of " << counts[0].points;
      }
      fast_points += counts[0].fast_points;
      points += counts[0].points;
      std::vector<std::string> names;
      for (const auto& [name, tensor] : values[1]) names.push_back(name);
      for (const TensorDifference& d : compare_bitwise(values[1], values[0], names))
        EXPECT_EQ(d.differing, 0) << d.first;
    }
  EXPECT_GT(fast_points, 0.75 * points);
}

// The first operation of `kind` (of a tensor, if given) in the first slice.
int find_op(const DataRun& r, PlanOp::Kind kind, const std::string& tensor = "") {
  for (size_t i = 0; i < r.plan.ops.size(); ++i) {
    const PlanOp& o = r.plan.ops[i];
    if (o.kind == kind && o.slice == 0 && o.tensor >= 0 &&
        (tensor.empty() || r.point.problem.tensors[o.tensor].name == tensor))
      return static_cast<int>(i);
  }
  ADD_FAILURE() << "no such operation";
  return -1;
}

TEST(CycleData, AMissingLoadIsAnError) {
  const DataRun r = prepare("fusemax", "softmax-1pass", "fusemax", 256, NumberFormat::FP32);
  const std::string e = error_of([&] { run_plan(r, find_op(r, PlanOp::Kind::Load, "K")); }).what();
  EXPECT_NE(e.find("reads K["), std::string::npos) << e;
  EXPECT_NE(e.find("where no operation has put it"), std::string::npos) << e;
}

TEST(CycleData, AMissingStoreLeavesTheOutputWrong) {
  const DataRun r = prepare("flat", "softmax-3pass", "flat", 320, NumberFormat::FP32);
  const TensorMap values = run_plan(r, find_op(r, PlanOp::Kind::Store, "AV"));
  const TensorMap expected =
      execute(r.point.problem.cascade, r.point.problem.bindings, r.inputs, r.options);
  const auto d = compare_bitwise(expected, values, {"AV"});
  EXPECT_GT(d.at(0).differing, 0);
}

TEST(CycleData, AComputeBeforeItsProducerIsAnError) {
  // Run the plan with the first slice's computes in reverse order: a consumer reads what
  // its producer has not written.
  const DataRun r = prepare("unfused", "softmax-3pass", "unfused", 256, NumberFormat::FP32);
  Datapath datapath(r.point.problem, r.plan, r.inputs, r.options);
  for (size_t i = 0; i < r.plan.ops.size(); ++i)
    if (r.plan.ops[i].kind != PlanOp::Kind::Compute) datapath.run(static_cast<int>(i));
  const std::string e = error_of([&] {
                          for (size_t i = r.plan.ops.size(); i-- > 0;)
                            if (r.plan.ops[i].kind == PlanOp::Kind::Compute)
                              datapath.run(static_cast<int>(i));
                        }).what();
  EXPECT_NE(e.find("where no operation has put it"), std::string::npos) << e;
}

TEST(CycleData, RecurrencesSpanningARunWaitForTheirLastMember) {
  // The generic mapper keeps M1 inside the runs of the 1-pass cascade: RD and SPD depend on
  // each other step by step, so whatever reads SPD waits for RD's run (plan.h).
  const DataRun r = prepare("fusemax", "softmax-1pass", "generic", 320, NumberFormat::FP32);
  const Problem& p = r.point.problem;
  int spd = -1, rd = -1, consumer = -1;
  for (size_t i = 0; i < r.plan.ops.size(); ++i) {
    const PlanOp& o = r.plan.ops[i];
    if (o.kind != PlanOp::Kind::Compute || o.slice != 0) continue;
    const std::string& name = p.einsums[o.einsum].name;
    if (name == "SPD" && spd < 0) spd = static_cast<int>(i);
    if (name == "RD" && rd < 0) rd = static_cast<int>(i);
  }
  ASSERT_GE(spd, 0);
  ASSERT_GE(rd, 0);
  EXPECT_LT(spd, rd);
  for (size_t i = rd + 1; i < r.plan.ops.size() && consumer < 0; ++i) {
    const PlanOp& o = r.plan.ops[i];
    if (o.kind != PlanOp::Kind::Compute) continue;
    for (int d : r.plan.deps(i))
      if (d == rd) consumer = static_cast<int>(i);
  }
  EXPECT_GE(consumer, 0) << "nothing waits for the recurrence's last member";
  // SPD's run waits for RD's producers too (SLD): the two run interleaved, as one.
  const std::span<const int> deps = r.plan.deps(static_cast<size_t>(spd));
  bool waits_for_sld = false;
  for (int d : deps)
    waits_for_sld = waits_for_sld || (r.plan.ops[d].kind == PlanOp::Kind::Compute &&
                                      p.einsums[r.plan.ops[d].einsum].name == "SLD");
  EXPECT_TRUE(waits_for_sld);
}

// QK's reduction over e split over DRAM-level tiles, the query tiles inside: each QK tile
// is stored with a partial sum and loaded back for the next e (tiny.yaml's arrays).
const char* kSplitReduction = R"(name: QK's sum over e split over DRAM tiles
schedule: sequential
tensors:
  Q: {home: dram, staged: true}
  K: {home: dram, staged: true}
  QK: {home: dram, staged: true}
  SN: {home: dram, staged: true}
groups:
  - name: all
    dram_loops: [batch: 1, head: 1, E: 3, P: 2]
    einsums:
      - einsum: QK
        unit: array_2d
        buffer_loops: [E: 2]
        spatial: {cols: [P: 2], rows: [M: 2]}
      - einsum: SN
        unit: array_1d
        buffer_loops: [M: 2]
        spatial: {cols: [P: 2]}
)";

TEST(CycleData, PartialSumsTravelInTheAccumulationFormat) {
  const ArchSpec a = arch("tiny");
  const Cascade c = parse_cascade_text(testing_support::kTinyCascade, "tiny.yaml");
  for (NumberFormat storage : {NumberFormat::FP32, NumberFormat::BF16}) {
    DataRun r;
    r.point.problem = make_problem(c, resolve_bindings(c, {{"P", "4"}, {"E", "6"}}), 1, 1, a.word_bytes());
    r.point.arch = a;
    r.plan = build_plan(r.point.problem, r.point.arch, parse_mapping_text(kSplitReduction, "split.yaml"), 1);
    r.options.storage = storage;
    r.options.accumulate = default_accumulation(storage);
    r.inputs = random_inputs(c, r.point.problem.bindings, 3, 1.0);
    // QK tiles loaded back with their partial sums (e tiles 2 and 3, both query tiles), and
    // loaded by SN after their last store (one per query tile).
    int reloads = 0, reads = 0;
    for (size_t i = 0; i < r.plan.ops.size(); ++i) {
      const PlanOp& o = r.plan.ops[i];
      if (o.kind != PlanOp::Kind::Load || r.point.problem.tensors[o.tensor].name != "QK") continue;
      if (r.point.problem.einsums[o.einsum].name == "QK") ++reloads;
      if (r.point.problem.einsums[o.einsum].name != "SN") continue;
      ++reads;
      ASSERT_FALSE(r.plan.deps(i).empty());
      EXPECT_EQ(r.plan.ops[r.plan.deps(i).back()].kind, PlanOp::Kind::Store);  // waits for QK's store
    }
    EXPECT_EQ(reloads, 4);
    EXPECT_EQ(reads, 2);
    EXPECT_EQ(differing(r, run_plan(r)), 0) << to_string(storage);
  }
}

}  // namespace
}  // namespace cascade
