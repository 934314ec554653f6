// Workload files (the FuseMax paper's models) and the problem: closed-form operator counts
// of the 1-pass cascade, and their actions on FuseMax's arrays.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/shipped_configs.h"

namespace cascade {
namespace {

using testing_support::DesignRun;
using testing_support::arch;
using testing_support::cascade_file;
using testing_support::error_message;
using testing_support::run;
using testing_support::workload;

double ops(const ProblemEinsum& e, const std::string& op) {
  for (const auto& [name, rate] : e.ops_per_point)
    if (name == op) return rate * e.points;
  return 0;
}

// ---------------------------------------------------------------------------------------
// Workloads

TEST(Workload, ModelsOfThePaper) {
  // FPSG-UIUC/micro24-fusemax-artifact, data/pregenerated/flat_validation.csv (cloud rows).
  struct Expected {
    const char* name;
    int64_t heads, e;
  };
  for (const Expected& x : {Expected{"bert-base", 12, 64}, Expected{"trxl-wt103", 16, 64},
                            Expected{"t5-small", 8, 64}, Expected{"xlm", 16, 128}}) {
    const Workload w = workload(x.name);
    EXPECT_EQ(w.batch, 64) << x.name;
    EXPECT_EQ(w.heads, x.heads) << x.name;
    EXPECT_EQ(w.shapes.at("E"), x.e) << x.name;
    EXPECT_EQ(w.shapes.at("F"), x.e) << x.name;
    EXPECT_EQ(w.sequence_lengths,
              (std::vector<int64_t>{1024, 4096, 16384, 65536, 262144, 1048576}));
    EXPECT_NE(w.cascade.find("softmax-1pass.yaml"), std::string::npos);
  }
}

TEST(Workload, SettingsKeepOnlyWhatTheCascadeKnows) {
  const Workload w = workload("bert-base");
  const Cascade c = cascade_file("neighborhood-2d");  // no P, M
  const auto s = workload_settings(w, c, 4096, {});
  EXPECT_EQ(s.count("P"), 0u);
  EXPECT_EQ(s.at("E"), "64");
  const auto t = workload_settings(w, cascade_file("softmax-1pass"), 4096, {{"M", "2048"}});
  EXPECT_EQ(t.at("P"), "4096");
  EXPECT_EQ(t.at("M"), "2048");  // --set wins over --seq
}

TEST(Workload, ErrorsNameTheFileAndKey) {
  const std::string e = error_message([] { parse_workload_text("name: x\nbatsh: 4\n", "w.yaml"); });
  EXPECT_NE(e.find("w.yaml:2:1"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'batch'"), std::string::npos) << e;
  EXPECT_NE(
      error_message([] { parse_workload_text("name: x\nheads: -2\n", "w.yaml"); }).find("positive"),
      std::string::npos);
}

// ---------------------------------------------------------------------------------------
// Closed-form operator counts (per batch and head), the 1-pass cascade.

TEST(Problem, ClosedFormOperatorCounts) {
  const Cascade c = cascade_file("softmax-1pass");
  const int64_t P = 1000, M = 1000, E = 64, F = 32, M0 = 256;  // a partial last M tile
  const Bindings b =
      resolve_bindings(c, {{"P", "1000"}, {"M", "1000"}, {"E", "64"}, {"F", "32"}, {"M0", "256"}});
  const Problem p = make_problem(c, b, 3, 5);
  const double M1 = std::ceil(double(M) / M0);
  auto e = [&](const char* name) { return p.einsums[p.find_einsum(name)]; };
  EXPECT_DOUBLE_EQ(ops(e("BQK"), "mac"), double(P) * M * E);  // QK MACs = P*M*E
  EXPECT_DOUBLE_EQ(ops(e("BQK"), "mul"), double(P) * M);      // the scale, once per output
  EXPECT_DOUBLE_EQ(ops(e("LM"), "max"), double(P) * M);
  EXPECT_DOUBLE_EQ(ops(e("SLN"), "exp"), double(P) * M);
  EXPECT_DOUBLE_EQ(ops(e("SLN"), "sub"), double(P) * M);
  EXPECT_DOUBLE_EQ(ops(e("SLD"), "add"), double(P) * M);
  EXPECT_DOUBLE_EQ(ops(e("SLNV"), "mac"), double(P) * M * F);
  EXPECT_DOUBLE_EQ(ops(e("RM"), "max"), M1 * P);
  EXPECT_DOUBLE_EQ(ops(e("PRM"), "exp"), M1 * P);
  EXPECT_DOUBLE_EQ(ops(e("SPD"), "mul"), M1 * P);
  EXPECT_DOUBLE_EQ(ops(e("RD"), "add"), M1 * P);
  EXPECT_DOUBLE_EQ(ops(e("SPNV"), "mul"), M1 * F * P);
  EXPECT_DOUBLE_EQ(ops(e("RNV"), "add"), M1 * F * P);
  EXPECT_DOUBLE_EQ(ops(e("AV"), "div"), double(F) * P);
  EXPECT_TRUE(e("BQK").contraction);
  EXPECT_FALSE(e("SLN").contraction);
}

TEST(Problem, ClosedFormActionsOnFuseMax) {
  // Stats of a whole run: each operator realised as the array's actions (exp = 6 MACs + 1
  // add on FuseMax's arrays, configs/arch/fusemax.yaml), times batch x heads.
  const DesignRun r = run("fusemax", "bert-base", "softmax-1pass", "fusemax", 4096);
  const double B = 64, H = 12, P = 4096, M = 4096, E = 64, F = 64, M1 = 16;
  const auto& a = r.result.stats.actions;
  EXPECT_DOUBLE_EQ(a.at("mac_2d").at("mac"), B * H * (P * M * E + P * M + P * M * F + 6 * P * M));
  EXPECT_DOUBLE_EQ(a.at("add_2d").at("add"),
                   B * H * (P * M /*sub*/ + P * M /*exp*/ + P * M /*SLD*/));
  EXPECT_DOUBLE_EQ(a.at("max_2d").at("max"), B * H * P * M);
  EXPECT_DOUBLE_EQ(a.at("max_1d").at("max"), B * H * M1 * P);
  EXPECT_DOUBLE_EQ(a.at("divide_1d").at("divide"), B * H * F * P);
  EXPECT_DOUBLE_EQ(a.at("mac_1d").at("mac"), B * H * (6 * M1 * P + M1 * P + M1 * F * P));
  // Register files: per point, operand reads + accumulator read; operand fills + 1 write.
  EXPECT_DOUBLE_EQ(a.at("rf_2d").at("read"),
                   B * H *
                       (3 * P * M * E + 2 * P * M /*LM*/ + 2 * P * M /*SLN*/ + 2 * P * M /*SLD*/ +
                        3 * P * M * F));
}

}  // namespace
}  // namespace cascade
