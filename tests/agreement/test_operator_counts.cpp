// `cascade ops` against what the models price: for every shipped cascade, at its default
// shapes, at P = M = 100 with partial last tiles (and P != M where the cascade allows it)
// and at a larger shape, the counts `cascade ops` prints (operator_counts) equal
//   1. Problem::ops_per_point x points per operator name, and the register-file traffic
//      (what the analytical and cycle-level models charge),
//   2. the analytical model's Stats on an architecture where every operator is one action
//      of its own (batch and heads included), through the generic mapper,
//   3. on FuseMax's architecture, the actions its arrays realise the operators with
//      (mac = mac + mul + 6 exp, add = add + sub + exp, max = max + min, divide = div),
// and, for the softmax cascades, closed forms written out by hand (the one check that
// does not go through the counter: the scale of QK is P*M multiplies, once per score).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "mappings/analysis/operator_counts.h"
#include "mappings/cascade/parser.h"
#include "mappings/mappers/registry.h"
#include "mappings/problem/problem.h"
#include "sim/analytical/analytical_model.h"

namespace cascade {
namespace {

using Settings = std::map<std::string, std::string>;
using OpTotals = std::map<std::string, double>;

const std::string kRoot = CASCADE_SOURCE_DIR;
constexpr int64_t kBatch = 2, kHeads = 3;

// The shapes each shipped cascade is checked at, besides its defaults. A new cascade file
// without an entry fails ShapesCoverEveryShippedCascade.
const std::map<std::string, std::vector<Settings>>& shapes() {
  static const std::map<std::string, std::vector<Settings>> table = {
      {"softmax-1pass",
       {{{"P", "100"}, {"M", "100"}, {"M0", "32"}},
        {{"P", "64"}, {"M", "200"}, {"M0", "48"}},
        {{"P", "1000"}, {"M", "1000"}, {"M0", "256"}}}},
      {"softmax-2pass",
       {{{"P", "100"}, {"M", "100"}, {"M0", "32"}},
        {{"P", "64"}, {"M", "200"}, {"M0", "48"}},
        {{"P", "1000"}, {"M", "1000"}, {"M0", "256"}}}},
      {"softmax-1pass-causal",
       {{{"P", "100"}, {"M", "100"}, {"M0", "32"}},
        {{"P", "64"}, {"M", "200"}, {"M0", "48"}},
        {{"P", "1000"}, {"M", "1000"}, {"M0", "256"}}}},
      {"softmax-3pass",
       {{{"P", "100"}, {"M", "100"}}, {{"P", "37"}, {"M", "200"}}, {{"P", "1000"}, {"M", "1000"}}}},
      {"softmax-deferred-division",
       {{{"P", "100"}, {"M", "100"}}, {{"P", "37"}, {"M", "200"}}, {{"P", "1000"}, {"M", "1000"}}}},
      {"softmax-causal",
       {{{"P", "100"}, {"M", "100"}},
        {{"P", "37"}, {"M", "200"}},
        {{"P", "200"}, {"M", "37"}},
        {{"P", "1000"}, {"M", "1000"}}}},
      {"decode-gqa-split",  // partial last tiles; groups of 4 and 3; one split
       {{{"M", "100"}, {"S", "3"}, {"M0", "16"}, {"H", "8"}, {"G", "4"}},
        {{"M", "1000"}, {"S", "8"}, {"M0", "64"}, {"H", "6"}, {"G", "3"}},
        {{"M", "333"}, {"S", "1"}, {"M0", "50"}, {"H", "2"}, {"G", "1"}}}},
      {"linear", {{{"P", "100"}, {"M", "100"}}, {{"P", "1000"}, {"M", "700"}}}},
      {"linear-relu", {{{"P", "100"}, {"M", "100"}}, {{"P", "1000"}, {"M", "700"}}}},
      {"linear-hedgehog",
       {{{"P", "100"}, {"M", "100"}, {"D", "3"}}, {{"P", "1000"}, {"M", "700"}, {"D", "32"}}}},
      {"linear-causal", {{{"P", "100"}}, {{"P", "1000"}}}},
      {"linear-causal-chunked", {{{"P", "100"}, {"C", "16"}}, {{"P", "1000"}, {"C", "64"}}}},
      {"lightning", {{{"P", "100"}, {"B", "16"}}, {{"P", "1000"}, {"B", "64"}}}},
      {"neighborhood-1d",
       {{{"P", "100"}, {"W", "7"}, {"D", "3"}}, {{"P", "1000"}, {"W", "15"}, {"D", "4"}}}},
      {"neighborhood-1d-1pass",
       {{{"P", "100"}, {"W", "7"}, {"W0", "3"}},
        {{"P", "1000"}, {"W", "15"}, {"W0", "4"}, {"D", "2"}}}},
      {"neighborhood-1d-causal",
       {{{"P", "100"}, {"W", "6"}, {"D", "3"}}, {{"P", "1000"}, {"W", "15"}, {"D", "4"}}}},
      {"neighborhood-2d",
       {{{"Y", "10"}, {"X", "10"}, {"WY", "3"}, {"WX", "5"}, {"DY", "2"}, {"DX", "2"}},
        {{"Y", "40"}, {"X", "50"}, {"WY", "7"}, {"WX", "5"}, {"DY", "3"}, {"DX", "4"}}}},
  };
  return table;
}

std::vector<std::string> shipped_cascades() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kRoot + "/configs/cascades"))
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

Cascade cascade_named(const std::string& name) {
  return parse_cascade_file(kRoot + "/configs/cascades/" + name + ".yaml");
}

// Every shipped cascade at every shape: defaults first.
struct Point {
  std::string cascade;
  Settings settings;
  std::string what() const {
    std::string s = cascade;
    for (const auto& [k, v] : settings) s += " " + k + "=" + v;
    return s;
  }
};

std::vector<Point> points() {
  std::vector<Point> out;
  for (const std::string& name : shipped_cascades()) {
    out.push_back({name, {}});
    const auto it = shapes().find(name);
    if (it == shapes().end()) continue;
    for (const Settings& s : it->second) out.push_back({name, s});
  }
  return out;
}

// Operator totals per (batch, head) over the whole cascade, as `cascade ops` prints them.
OpTotals ops_totals(const std::vector<EinsumCost>& costs) {
  OpTotals out;
  for (const EinsumCost& c : costs)
    for (const auto& [op, n] : c.total.ops)
      if (n != 0) out[op] += n;
  return out;
}

void expect_same_totals(const OpTotals& want, const OpTotals& got, const std::string& what) {
  for (const auto& [op, n] : want) {
    const auto it = got.find(op);
    const double charged = it == got.end() ? 0.0 : it->second;
    EXPECT_NEAR(charged, n, 1e-12 * n) << what << ": " << op;
  }
  for (const auto& [op, n] : got)
    EXPECT_TRUE(want.count(op) || n == 0) << what << ": " << op << " is charged, not counted";
}

// An architecture on which every operator is one action of its own component, on both
// arrays: the model's action counts are its operator counts.
const std::vector<std::string> kOps = {"mac", "mul",  "add", "sub", "div",  "neg",  "exp", "max",
                                       "min", "sqrt", "log", "abs", "relu", "elu1", "pow"};

ArchSpec one_action_arch() {
  std::string text = R"(name: one-action
description: every operator is one action of a component of its own (tests only)
clock_hz: 1.0e9
word_bits: 16
components:
  dram: {kind: dram, access_bits: 64, bandwidth_bytes_per_s: 1.0e11, energy_pj: {read: 1, write: 1}, area_um2: 0}
  glb: {kind: buffer, capacity_bytes: 67108864, banks: 8, row_bits: 512, access_bits: 64, energy_pj: {read: 1, write: 1}, area_um2: 1}
  rf_2d: {kind: register_file, energy_pj: {read: 1, write: 1}, area_um2: 1}
  rf_1d: {kind: register_file, energy_pj: {read: 1, write: 1}, area_um2: 1}
)";
  for (const char* array : {"2d", "1d"})
    for (const std::string& op : kOps)
      text +=
          "  " + op + "_" + array + ": {kind: compute, energy_pj: {" + op + ": 1}, area_um2: 1}\n";
  text += "arrays:\n";
  for (const auto& [array, role, shape] :
       {std::tuple{"2d", "matrix", "rows: 8, cols: 8"}, std::tuple{"1d", "vector", "cols: 8"}}) {
    std::string components, ops;
    for (const std::string& op : kOps) {
      components += (components.empty() ? "" : ", ") + op + "_" + array;
      ops += (ops.empty() ? "" : ", ") + op + ": {" + op + "_" + array + "." + op + ": 1}";
    }
    text += std::string("  array_") + array + ": {role: " + role + ", " + shape +
            ", register_file: rf_" + array + ", register_file_entries: 16, pe_components: [" +
            components + "], ops: {" + ops + "}}\n";
  }
  return parse_arch_text(text, "one-action.yaml");
}

// Stats of the first candidate of `mapper` (compute actions do not depend on the mapping).
Stats analytical_stats(const Problem& problem, const ArchSpec& arch, const std::string& mapper) {
  const std::vector<Mapping> candidates = mapper_named(mapper).candidates(problem, arch);
  const AnalyticalModel model(problem, arch);
  return model.evaluate(candidates.front());
}

double action(const Stats& s, const std::string& component, const std::string& name) {
  const auto c = s.actions.find(component);
  if (c == s.actions.end()) return 0;
  const auto a = c->second.find(name);
  return a == c->second.end() ? 0 : a->second;
}

TEST(OperatorCountAgreement, ShapesCoverEveryShippedCascade) {
  const std::vector<std::string> names = shipped_cascades();
  EXPECT_EQ(names.size(), 17u);
  for (const std::string& name : names) EXPECT_TRUE(shapes().count(name)) << name;
}

// 1. What make_problem hands every model is operator_counts, Einsum by Einsum.
TEST(OperatorCountAgreement, ProblemOpsPerPointAreTheCountersCounts) {
  for (const Point& pt : points()) {
    const Cascade c = cascade_named(pt.cascade);
    const Bindings b = resolve_bindings(c, pt.settings);
    const std::vector<EinsumCost> costs = operator_counts(c, b);
    const Problem problem = make_problem(c, b, kBatch, kHeads);
    ASSERT_EQ(costs.size(), problem.einsums.size());
    for (size_t i = 0; i < costs.size(); ++i) {
      const ProblemEinsum& pe = problem.einsums[i];
      const EinsumCost& cost = costs[i];
      const std::string what = pt.what() + " " + pe.name;
      EXPECT_EQ(pe.points, cost.points) << what;
      EXPECT_EQ(pe.contraction, cost.contraction) << what;
      OpTotals charged, counted;
      for (const auto& [op, rate] : pe.ops_per_point) charged[op] += rate * pe.points;
      for (const auto& [op, n] : cost.total.ops)
        if (n != 0) counted[op] = n;
      expect_same_totals(counted, charged, what);
      const double reads = cost.total.operand_reads + cost.total.accumulator_accesses;
      EXPECT_NEAR(pe.operand_reads_per_point * pe.points, reads, 1e-12 * reads) << what;
      EXPECT_NEAR(pe.result_writes_per_point * pe.points, cost.total.operand_reads + cost.points,
                  1e-12 * (cost.total.operand_reads + cost.points))
          << what;
    }
  }
}

// 2. The analytical model's actions on the one-action architecture are the counts.
TEST(OperatorCountAgreement, AnalyticalActionsAreTheCountersCounts) {
  const ArchSpec arch = one_action_arch();
  const double bh = kBatch * kHeads;
  for (const Point& pt : points()) {
    const Cascade c = cascade_named(pt.cascade);
    const Bindings b = resolve_bindings(c, pt.settings);
    const std::vector<EinsumCost> costs = operator_counts(c, b);
    const Stats stats = analytical_stats(make_problem(c, b, kBatch, kHeads), arch, "generic");
    OpTotals counted, charged;
    for (const auto& [op, n] : ops_totals(costs)) counted[op] = bh * n;
    for (const std::string& op : kOps) {
      const double n = action(stats, op + "_2d", op) + action(stats, op + "_1d", op);
      if (n != 0) charged[op] = n;
    }
    expect_same_totals(counted, charged, pt.what());
    double reads = 0, writes = 0;
    for (const EinsumCost& cost : costs) {
      reads += cost.total.operand_reads + cost.total.accumulator_accesses;
      writes += cost.total.operand_reads + cost.points;
    }
    const double rf_reads = action(stats, "rf_2d", "read") + action(stats, "rf_1d", "read");
    const double rf_writes = action(stats, "rf_2d", "write") + action(stats, "rf_1d", "write");
    EXPECT_NEAR(rf_reads, bh * reads, 1e-12 * bh * reads) << pt.what();
    EXPECT_NEAR(rf_writes, bh * writes, 1e-12 * bh * writes) << pt.what();
  }
}

// 3. FuseMax's arrays realise the operators as mac, add, max and divide actions
// (configs/arch/fusemax.yaml: multiply on the MAC, subtract on the adder, exp = 6 MACs +
// 1 add). Every cascade whose operators FuseMax's PEs run, with its own mapper where it has
// a key partition (fusemax), else the generic one.
TEST(OperatorCountAgreement, FuseMaxActionsAreTheCountersCountsRealised) {
  const ArchSpec arch = load_arch(kRoot + "/configs/arch/fusemax.yaml");
  const double bh = kBatch * kHeads;
  int checked = 0;
  for (const Point& pt : points()) {
    const Cascade c = cascade_named(pt.cascade);
    const std::string mapper = mapper_named("fusemax").is_default_for(c) ? "fusemax" : "generic";
    Settings settings = mapper_named(mapper).shape_settings(c, arch);
    for (const auto& [k, v] : pt.settings) settings[k] = v;  // the point's shapes win
    const Bindings b = resolve_bindings(c, settings);
    const OpTotals t = ops_totals(operator_counts(c, b));
    auto n = [&](const char* op) { return t.count(op) ? t.at(op) : 0.0; };
    const bool supported = std::all_of(t.begin(), t.end(), [](const auto& e) {
      for (const char* op : {"mac", "mul", "add", "sub", "exp", "max", "div"})
        if (e.first == op) return true;
      return false;
    });
    if (!supported) continue;
    const Stats stats = analytical_stats(make_problem(c, b, kBatch, kHeads), arch, mapper);
    const std::string what = pt.what() + " (" + mapper + ")";
    const double macs = action(stats, "mac_2d", "mac") + action(stats, "mac_1d", "mac");
    const double adds = action(stats, "add_2d", "add") + action(stats, "add_1d", "add");
    const double maxes = action(stats, "max_2d", "max") + action(stats, "max_1d", "max");
    const double mac_want = bh * (n("mac") + n("mul") + 6 * n("exp"));
    const double add_want = bh * (n("add") + n("sub") + n("exp"));
    EXPECT_NEAR(macs, mac_want, 1e-12 * mac_want) << what;
    EXPECT_NEAR(adds, add_want, 1e-12 * add_want) << what;
    EXPECT_NEAR(maxes, bh * n("max"), 1e-12 * bh * n("max")) << what;
    EXPECT_NEAR(action(stats, "divide_1d", "divide"), bh * n("div"), 1e-12 * bh * n("div")) << what;
    ++checked;
  }
  EXPECT_GE(checked, 30);  // the softmax and neighborhood cascades at every shape
}

// ---------------------------------------------------------------------------------------
// Closed forms, written from the Einsums by hand, per (batch, head).

struct Shape {
  double P, M, E, F, M0;
  double M1() const { return std::ceil(M / M0); }
};

OpTotals closed_form(const std::string& cascade, const Shape& s) {
  const double P = s.P, M = s.M, E = s.E, F = s.F, M1 = s.M1();
  if (cascade == "softmax-1pass")                  // BQK LM RM SLN SLD SLNV PRM SPD RD SPNV RNV AV
    return {{"mac", P * M * E + P * M * F},        // BQK, SLNV
            {"mul", P * M + P * M1 + P * M1 * F},  // the scale of BQK (per score), SPD, SPNV
            {"add", P * M + P * M1 + P * M1 * F},  // SLD, RD, RNV
            {"sub", P * M + P * M1},               // SLN, PRM
            {"exp", P * M + P * M1},               // SLN, PRM
            {"max", P * M + P * M1},               // LM, RM
            {"div", P * F}};                       // AV
  if (cascade == "softmax-2pass")                  // BQK LM SLN SLD GM PRM SD SNV AV
    return {{"mac", P * M * E + P * M1 + P * M * F},  // BQK, SD, SNV
            {"mul", P * M + P * M * F},               // the scale, SNV's third factor
            {"add", P * M},                           // SLD
            {"sub", P * M + P * M1},                  // SLN, PRM
            {"exp", P * M + P * M1},                  // SLN, PRM
            {"max", P * M + P * M1},                  // LM, GM
            {"div", P * F}};                          // AV
  if (cascade == "softmax-3pass")                     // QK GM SN SD A AV
    return {{"mac", P * M * E + P * M * F},
            {"mul", P * M},
            {"add", P * M},
            {"sub", P * M},
            {"exp", P * M},
            {"max", P * M},
            {"div", P * M}};
  if (cascade == "softmax-deferred-division")  // QK GM SN SD SNV AV
    return {{"mac", P * M * E + P * M * F},
            {"mul", P * M},
            {"add", P * M},
            {"sub", P * M},
            {"exp", P * M},
            {"max", P * M},
            {"div", P * F}};
  // softmax-causal: the 3-pass form over the pairs m <= p + M - P.
  const double pairs = P <= M ? P * (M - P) + P * (P + 1) / 2 : M * (M + 1) / 2;
  return {{"mac", pairs * (E + F)}, {"mul", pairs}, {"add", pairs}, {"sub", pairs},
          {"exp", pairs},           {"max", pairs}, {"div", pairs}};
}

TEST(OperatorCountAgreement, SoftmaxCountsAreTheClosedForms) {
  const ArchSpec arch = one_action_arch();
  const double bh = kBatch * kHeads;
  for (const char* name : {"softmax-1pass", "softmax-2pass", "softmax-3pass",
                           "softmax-deferred-division", "softmax-causal"}) {
    const Cascade c = cascade_named(name);
    std::vector<Settings> list = {{}};  // the defaults, then the table's shapes
    for (const Settings& s : shapes().at(name)) list.push_back(s);
    for (const Settings& settings : list) {
      const Bindings b = resolve_bindings(c, settings);
      auto shape = [&](const char* r) { return static_cast<double>(b.shape(r)); };
      const Shape s{shape("P"), shape("M"), shape("E"), shape("F"),
                    c.find_partition_of("M") ? shape("M0") : 1.0};
      const std::string what = std::string(name) + " P=" + std::to_string(b.shape("P")) +
                               " M=" + std::to_string(b.shape("M"));
      const OpTotals want = closed_form(name, s);
      expect_same_totals(want, ops_totals(operator_counts(c, b)), what + " (cascade ops)");
      const Stats stats = analytical_stats(make_problem(c, b, kBatch, kHeads), arch, "generic");
      OpTotals charged;
      for (const std::string& op : kOps) {
        const double n = action(stats, op + "_2d", op) + action(stats, op + "_1d", op);
        if (n != 0) charged[op] = n / bh;
      }
      expect_same_totals(want, charged, what + " (analytical model)");
    }
  }
}

}  // namespace
}  // namespace cascade
