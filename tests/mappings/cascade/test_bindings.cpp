// Shapes and parameters of a workload (resolve_bindings) and index evaluation.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

#include "tests/support/error_of.h"
#include "mappings/cascade/parser.h"
#include "tests/mappings/cascade/ir_builders.h"

namespace cascade {
namespace {

using namespace ir_test;

Cascade parse(const std::string& text) { return parse_cascade_text(text, "test.yaml"); }

using testing_support::error_of;

// ---------------------------------------------------------------------------------------
// Bindings.

const std::string kTiled = R"yaml(name: tiled
inputs: {Q: [E, P], K: [E, M]}
partition: {M: [M1, M0]}
shapes: {P: 256, E: 64, M0: 64}
parameters: {scale: 1/sqrt(E), bias: 2*scale}
einsums: |
  QK[m1, m0, p] = sum(e: Q[e, p] * K[e, m1*M0 + m0]) * scale + bias
outputs: [QK]
)yaml";

// A recurrence over a partition's inner part runs only the steps inside M, so a read of its
// last step at a constant index is wrong in a partial last tile: an error at bind time
// naming the tensor and the rank, exactly when M0 does not divide M.
TEST(Bindings, ConstantReadPastAPartialTileIsAnError) {
  const Cascade c = parse(R"yaml(name: tile-max
inputs: {S: [M, P]}
partition: {M: [M1, M0]}
shapes: {P: 3, M: 8, M0: 4}
einsums: |
  RM[m1, m0+1, p] = max(RM[m1, m0, p], S[m1*M0 + m0, p])   init RM[m1, 0, p] = -inf
  GM[p] = max(m1: RM[m1, M0, p])
  FIRST[p] = max(m1: RM[m1, 1, p])
outputs: [GM, FIRST]
)yaml");
  EXPECT_EQ(resolve_bindings(c, {}).shape("M1"), 2);
  EXPECT_EQ(resolve_bindings(c, {{"M", "12"}, {"M0", "3"}}).shape("M1"), 4);
  const Error err = error_of([&] { resolve_bindings(c, {{"M", "10"}}); });
  EXPECT_NE(err.message().find("RM[m1, M0, p] reads slice 4 of RM's recurrence over rank M0"),
            std::string::npos)
      << err.message();
  EXPECT_NE(err.message().find("M = 10 is not a multiple of M0 = 4"), std::string::npos);
  EXPECT_EQ(err.where().line, 7);
  // Slice 1 exists in every tile while the last has at least one step: only GM is refused.
  const Cascade first_only = parse(R"yaml(name: tile-first
inputs: {S: [M, P]}
partition: {M: [M1, M0]}
shapes: {P: 3, M: 10, M0: 4}
einsums: |
  RM[m1, m0+1, p] = max(RM[m1, m0, p], S[m1*M0 + m0, p])   init RM[m1, 0, p] = -inf
  FIRST[p] = max(m1: RM[m1, 1, p])
outputs: [FIRST]
)yaml");
  EXPECT_EQ(resolve_bindings(first_only, {}).shape("M1"), 3);
}

TEST(Bindings, DefaultsOverridesAndPartitions) {
  const Cascade c = parse(kTiled);
  Bindings b = resolve_bindings(c, {{"M", "1024"}});
  EXPECT_EQ(b.shape("M"), 1024);
  EXPECT_EQ(b.shape("M0"), 64);
  EXPECT_EQ(b.shape("M1"), 16);
  EXPECT_EQ(b.shape("P"), 256);
  EXPECT_EQ(b.shape("E"), 64);
  EXPECT_DOUBLE_EQ(b.parameters.at("scale"), 0.125);
  EXPECT_DOUBLE_EQ(b.parameters.at("bias"), 0.25);
  // M not a multiple of M0: the last tile is partial.
  b = resolve_bindings(c, {{"M", "1000"}, {"M0", "128"}, {"P", "3"}, {"scale", "1"}});
  EXPECT_EQ(b.shape("M1"), 8);
  EXPECT_EQ(b.shape("M0"), 128);
  EXPECT_EQ(b.shape("P"), 3);
  EXPECT_DOUBLE_EQ(b.parameters.at("scale"), 1.0);
  EXPECT_DOUBLE_EQ(b.parameters.at("bias"), 2.0);  // defaults follow overrides
  b = resolve_bindings(c, {{"M", "10"}, {"M0", "64"}});
  EXPECT_EQ(b.shape("M1"), 1);
  EXPECT_THROW(b.shape("Z"), Error);
}

TEST(Bindings, Errors) {
  const Cascade c = parse(kTiled);
  Error err = error_of([&] { resolve_bindings(c, {}); });
  EXPECT_EQ(err.message(), "shape M is not set: pass --set M=<n>");
  err = error_of([&] { resolve_bindings(c, {{"M", "64"}, {"X", "3"}}); });
  EXPECT_NE(err.message().find("unknown shape or parameter 'X' (known: "), std::string::npos)
      << err.message();
  EXPECT_NE(err.message().find("scale"), std::string::npos);
  err = error_of([&] { resolve_bindings(c, {{"M", "0"}}); });
  EXPECT_NE(err.message().find("must be an integer >= 1"), std::string::npos);
  err = error_of([&] { resolve_bindings(c, {{"M", "12x"}}); });
  EXPECT_NE(err.message().find("must be an integer >= 1"), std::string::npos);
  err = error_of([&] { resolve_bindings(c, {{"M", "64"}, {"scale", "big"}}); });
  EXPECT_NE(err.message().find("must be a real number"), std::string::npos);
  err = error_of([&] { resolve_bindings(c, {{"M", "64"}, {"M1", "2"}}); });
  EXPECT_NE(err.message().find("M1 is derived"), std::string::npos) << err.message();
  // A default that evaluates below 1.
  std::string text = kTiled;
  text.replace(text.find("M0: 64"), 6, "M0: E - 64");
  err = error_of([&] { resolve_bindings(parse(text), {{"M", "64"}}); });
  EXPECT_NE(err.message().find("shape M0 = 0"), std::string::npos) << err.message();
  EXPECT_EQ(err.where().line, 4);
}

// ---------------------------------------------------------------------------------------
// Index evaluation.

TEST(IndexEvaluation, FloorDivisionAndModulo) {
  const Cascade c;
  const Bindings b;
  auto eval = [&](const std::string& text) {
    return evaluate_index(parse_index_expression(text, SourceLocation{}), c, b, {});
  };
  EXPECT_EQ(eval("-7 / 2"), -4);
  EXPECT_EQ(eval("7 / -2"), -4);
  EXPECT_EQ(eval("-6 / 2"), -3);
  EXPECT_EQ(eval("7 / 2"), 3);
  EXPECT_EQ(eval("-7 % 3"), 2);
  EXPECT_EQ(eval("7 % 3"), 1);
  EXPECT_EQ(eval("-6 % 3"), 0);
  EXPECT_EQ(eval("-(7 % 3)"), -1);
  EXPECT_EQ(eval("clamp(10, 0, 5)"), 5);
  EXPECT_EQ(eval("clamp(-3, 0, 5)"), 0);
  EXPECT_EQ(eval("clamp(3, 0, 5)"), 3);
  EXPECT_EQ(eval("min(3, -4) + max(3, -4)"), -1);
  EXPECT_EQ(eval("2 + 3*4 - 10/3"), 11);
  const Error err = error_of([&] {
    evaluate_index(parse_index_expression("p / (q - 2)", SourceLocation{"f", 3, 10}), c, b,
                   {{"p", 1}, {"q", 2}});
  });
  EXPECT_NE(err.message().find("division by zero"), std::string::npos);
  EXPECT_EQ(err.where().line, 3);
  EXPECT_EQ(err.where().column, 12);  // the '/'
  EXPECT_THROW(eval("5 % 0"), Error);
  EXPECT_THROW(eval("p"), Error);                     // unbound variable
  EXPECT_THROW(eval("N"), Error);                     // unknown shape
  EXPECT_THROW(eval("9223372036854775807 + 1"), Error);  // overflow
}

TEST(IndexEvaluation, UserFunctionsAndShapes) {
  const Cascade c = parse(R"yaml(name: f
inputs: {Q: [E, P], K: [E, M]}
shapes: {W: 3}
index_functions:
  "start(p)": "clamp(p - W/2, 0, M - W)"
  "last(p)": "start(p) + W - 1"
einsums: |
  X[w, p] = Q[e, p] * K[e, start(p) + w]
outputs: [X]
)yaml");
  const Bindings b = resolve_bindings(c, {{"M", "10"}, {"P", "10"}, {"E", "2"}});
  auto eval = [&](const std::string& text, int64_t p) {
    return evaluate_index(parse_index_expression(text, SourceLocation{}), c, b, {{"p", p}});
  };
  EXPECT_EQ(eval("start(p)", 0), 0);
  EXPECT_EQ(eval("start(p)", 5), 4);
  EXPECT_EQ(eval("start(p)", 9), 7);
  EXPECT_EQ(eval("last(p)", 9), 9);
  EXPECT_EQ(eval("M - W", 0), 7);
  EXPECT_THROW(eval("start(p, p)", 0), Error);
  EXPECT_THROW(eval("nothing(p)", 0), Error);
}

}  // namespace
}  // namespace cascade
