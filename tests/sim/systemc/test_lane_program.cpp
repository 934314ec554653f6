// Which Einsums the 1D softmax unit runs as its commands (lane_program.h): the shipped
// 1-pass cascade's tail, the same cascade with other tensor names, the linear family's
// division, and forms that are not the unit's commands.
#include "sim/systemc/lane_program.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "mappings/cascade/parser.h"

namespace cascade {
namespace {

const std::string kRoot = CASCADE_SOURCE_DIR;

// "leader max_exp PRM" / "partner max_exp RM" / "none" per Einsum output.
std::map<std::string, std::string> roles_of(const Cascade& cascade) {
  const Problem problem = make_problem(cascade, resolve_bindings(cascade, {}), 1, 1);
  const std::vector<LaneRole> roles = lane_roles(problem);
  std::map<std::string, std::string> out;
  for (size_t e = 0; e < roles.size(); ++e) {
    const LaneRole& r = roles[e];
    std::string text = r.kind == LaneRole::Kind::None ? "none"
                       : r.kind == LaneRole::Kind::Leader ? "leader " : "partner ";
    if (r.kind != LaneRole::Kind::None) {
      text += to_string(r.command);
      if (r.other >= 0) text += " " + cascade.einsums[static_cast<size_t>(r.other)].output;
    }
    out[cascade.einsums[e].output] = text;
  }
  return out;
}

TEST(LaneProgram, OnePassTail) {
  const auto r = roles_of(parse_cascade_file(kRoot + "/configs/cascades/softmax-1pass.yaml"));
  EXPECT_EQ(r.at("RM"), "leader max_exp PRM");
  EXPECT_EQ(r.at("PRM"), "partner max_exp RM");
  EXPECT_EQ(r.at("RD"), "leader rescale SPD");
  EXPECT_EQ(r.at("SPD"), "partner rescale RD");
  EXPECT_EQ(r.at("RNV"), "leader rescale SPNV");
  EXPECT_EQ(r.at("SPNV"), "partner rescale RNV");
  EXPECT_EQ(r.at("AV"), "leader divide");
  for (const char* other : {"BQK", "LM", "SLN", "SLD", "SLNV"}) EXPECT_EQ(r.at(other), "none") << other;
}

const char* kRenamed = R"(name: renamed
inputs: {Q: [E, P], K: [E, M], V: [F, M]}
partition: {M: [M1, M0]}
shapes: {P: 16, M: 16, E: 4, F: 4, M0: 4}
einsums: |
  S[m1, m0, p]   = Q[e, p] * K[e, m1*M0 + m0]
  T[m1, p]       = max(m0: S[m1, m0, p])
  MX[m1+1, p]    = max(MX[m1, p], T[m1, p])        init MX[0, p] = -inf
  X[m1, m0, p]   = exp(S[m1, m0, p] - MX[m1+1, p])
  L[m1, p]       = X[m1, m0, p]
  N[m1, f, p]    = X[m1, m0, p] * V[f, m1*M0 + m0]
  C[m1, p]       = exp(MX[m1, p] - MX[m1+1, p])
  CD[m1, p]      = C[m1, p] * D[m1, p]
  D[m1+1, p]     = CD[m1, p] + L[m1, p]            init D[0, p] = 0
  CN[m1, f, p]   = RN[m1, f, p] * C[m1, p]
  RN[m1+1, f, p] = N[m1, f, p] + CN[m1, f, p]      init RN[0, f, p] = 0
  O[f, p]        = RN[M1, f, p] / D[M1, p]
outputs: [O]
)";

TEST(LaneProgram, RecognisesTheFormNotTheNames) {
  const auto r = roles_of(parse_cascade_text(kRenamed, "renamed.yaml"));
  EXPECT_EQ(r.at("MX"), "leader max_exp C");
  EXPECT_EQ(r.at("D"), "leader rescale CD");  // C * D and CD + L: either operand order
  EXPECT_EQ(r.at("RN"), "leader rescale CN");
  EXPECT_EQ(r.at("O"), "leader divide");
  EXPECT_EQ(r.at("S"), "none");
}

TEST(LaneProgram, OtherFormsAreNotCommands) {
  // D subtracts instead of adding, and the correction of N is not an exp of a max's step.
  std::string text = kRenamed;
  text.replace(text.find("CD[m1, p] + L[m1, p]"), 20, "L[m1, p] - CD[m1, p]");
  text.replace(text.find("RN[m1, f, p] * C[m1, p]"), 23, "RN[m1, f, p] * T[m1, p]");
  const auto r = roles_of(parse_cascade_text(text, "changed.yaml"));
  EXPECT_EQ(r.at("MX"), "leader max_exp C");
  EXPECT_EQ(r.at("D"), "none");
  EXPECT_EQ(r.at("CD"), "none");
  EXPECT_EQ(r.at("RN"), "none");
  EXPECT_EQ(r.at("CN"), "none");
}

TEST(LaneProgram, LinearFamilyDivides) {
  const auto r = roles_of(parse_cascade_file(kRoot + "/configs/cascades/linear.yaml"));
  int divides = 0, others = 0;
  for (const auto& [name, role] : r) (role == "leader divide" ? divides : others) += role != "none";
  EXPECT_EQ(divides, 1);
  EXPECT_EQ(others, 0);
}

}  // namespace
}  // namespace cascade
