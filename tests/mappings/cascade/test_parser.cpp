// Cascade files: parsing, validation errors with exact locations, the shipped cascades.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <sstream>

#include "tests/support/error_of.h"
#include "tests/support/bad_files.h"
#include "mappings/cascade/parser.h"
#include "tests/mappings/cascade/ir_builders.h"

namespace cascade {
namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = CASCADE_SOURCE_DIR;

Cascade parse(const std::string& text) { return parse_cascade_text(text, "test.yaml"); }

using testing_support::error_of;

using namespace ir_test;

const std::string kSmall = R"yaml(name: small
inputs:
  Q: [E, P]
  K: [E, M]
  V: [F, M]
shapes: {P: 8, M: 8, E: 4, F: 4}
parameters:
  scale: 1/sqrt(E)
einsums: |
  QK[m, p] = Q[e, p] * K[e, m] * scale
  GM[p]    = max(m: QK[m, p])
  SN[m, p] = exp(QK[m, p] - GM[p])
  SD[p]    = SN[m, p]
  AV[f, p] = SN[m, p] * V[f, m] / SD[p]
outputs: [AV]
)yaml";

// ---------------------------------------------------------------------------------------
// The shipped cascades.

std::vector<fs::path> config_cascades() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kSourceDir + "/configs/cascades"))
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ConfigCascades, ParsePrintParseIsIdentity) {
  const auto files = config_cascades();
  ASSERT_GE(files.size(), 4u);
  for (const fs::path& path : files) {
    SCOPED_TRACE(path.string());
    const Cascade original = parse_cascade_file(path.string());
    EXPECT_FALSE(original.einsums.empty());
    EXPECT_FALSE(original.outputs.empty());
    EXPECT_TRUE(original.warnings.empty()) << original.warnings.front();
    const std::string printed = print_cascade(original);
    const Cascade reparsed = parse_cascade_text(printed, path.string() + " (printed)");
    EXPECT_EQ(original, reparsed) << printed;
    EXPECT_EQ(printed, print_cascade(reparsed));
    // validate() filled one TensorInfo per input and per Einsum.
    EXPECT_EQ(original.tensors.size(), original.inputs.size() + original.einsums.size());
    for (size_t i = 0; i < original.einsums.size(); ++i) {
      const TensorInfo* t = original.find_tensor(original.einsums[i].output);
      ASSERT_NE(t, nullptr);
      EXPECT_EQ(t->producer, static_cast<int>(i));
      EXPECT_EQ(t->ranks.size(), original.einsums[i].output_indices.size());
    }
  }
}

TEST(ConfigCascades, OnePassDetails) {
  const Cascade c = parse_cascade_file(kSourceDir + "/configs/cascades/softmax-1pass.yaml");
  EXPECT_EQ(c.name, "softmax-1pass");
  ASSERT_EQ(c.einsums.size(), 12u);
  ASSERT_EQ(c.partitions.size(), 1u);
  EXPECT_EQ(c.partitions[0].parts, (std::vector<std::string>{"M1", "M0"}));

  const TensorInfo* rm = c.find_tensor("RM");
  ASSERT_NE(rm, nullptr);
  EXPECT_EQ(rm->ranks, (std::vector<std::string>{"M1", "P"}));
  EXPECT_EQ(rm->extra, (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(rm->producer, 2);
  EXPECT_EQ(rm->consumers, (std::vector<int>{2, 3, 6}));  // RM, SLN, PRM

  const TensorInfo* bqk = c.find_tensor("BQK");
  ASSERT_NE(bqk, nullptr);
  EXPECT_EQ(bqk->ranks, (std::vector<std::string>{"M1", "M0", "P"}));
  const TensorInfo* q = c.find_tensor("Q");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->producer, -1);
  EXPECT_EQ(q->consumers, (std::vector<int>{0}));

  // BQK = Q[e, p] * K[e, m1*M0 + m0] * scale, with scale a Parameter.
  const Expr expected =
      bin(ExprOp::Mul,
          bin(ExprOp::Mul, rd("Q", {var("e"), var("p")}),
              rd("K", {var("e"), ibin(IndexOp::Add, ibin(IndexOp::Mul, var("m1"), sym("M0")),
                                      var("m0"))})),
          param("scale"));
  EXPECT_EQ(c.einsums[0].value, expected);
  // RM[m1+1, p] = ... init RM[0, p] = -inf
  const Einsum& rm_einsum = c.einsums[2];
  EXPECT_EQ(rm_einsum.output_indices,
            (std::vector<IndexExpr>{ibin(IndexOp::Add, var("m1"), cst(1)), var("p")}));
  ASSERT_TRUE(rm_einsum.init.has_value());
  EXPECT_EQ(rm_einsum.init->indices, (std::vector<IndexExpr>{cst(0), var("p")}));
  EXPECT_EQ(rm_einsum.init->value, num(-std::numeric_limits<double>::infinity()));
  // AV reads the last slice: RNV[M1, f, p].
  EXPECT_EQ(c.einsums[11].value.args[0], rd("RNV", {sym("M1"), var("f"), var("p")}));
  // Locations: the K read in the first Einsum (line 20, "  BQK[m1, m0, p]  = Q[e, p] * K").
  const Expr& k = c.einsums[0].value.args[0].args[1];
  EXPECT_EQ(k.loc.line, 20);
  EXPECT_EQ(k.loc.column, 31);
  EXPECT_EQ(c.einsums[0].loc.column, 3);
}

// ---------------------------------------------------------------------------------------
// Hand-checked IR.

TEST(EinsumSyntax, AffineIndexAndImplicitProduct) {
  const Einsum e = einsum("BQK[m1, m0, p] = Q[e, p] * K[e, m1*M0 + m0]");
  EXPECT_EQ(e.output, "BQK");
  EXPECT_EQ(e.output_indices, (std::vector<IndexExpr>{var("m1"), var("m0"), var("p")}));
  EXPECT_EQ(e.value, bin(ExprOp::Mul, rd("Q", {var("e"), var("p")}),
                         rd("K", {var("e"), ibin(IndexOp::Add,
                                                 ibin(IndexOp::Mul, var("m1"), sym("M0")),
                                                 var("m0"))})));
  EXPECT_TRUE(e.where.empty());
  EXPECT_FALSE(e.init.has_value());
}

TEST(EinsumSyntax, Precedence) {
  const Expr a = rd("A", {var("p")}), b = rd("B", {var("p")}), c = rd("C", {var("p")}),
             d = rd("D", {var("p")});
  EXPECT_EQ(einsum("X[p] = A[p] + B[p] * C[p] - D[p] / A[p]").value,
            bin(ExprOp::Sub, bin(ExprOp::Add, a, bin(ExprOp::Mul, b, c)),
                bin(ExprOp::Div, d, a)));
  EXPECT_EQ(einsum("X[p] = A[p] - B[p] - C[p]").value,
            bin(ExprOp::Sub, bin(ExprOp::Sub, a, b), c));
  EXPECT_EQ(einsum("X[p] = A[p] - (B[p] - C[p])").value,
            bin(ExprOp::Sub, a, bin(ExprOp::Sub, b, c)));
  EXPECT_EQ(einsum("X[p] = A[p] / B[p] * C[p]").value,
            bin(ExprOp::Mul, bin(ExprOp::Div, a, b), c));
  // Index expressions: % and / bind like *, left to right.
  EXPECT_EQ(parse_index_expression("p + 2*q % 3 - r / 4", SourceLocation{}),
            ibin(IndexOp::Sub,
                 ibin(IndexOp::Add, var("p"),
                      ibin(IndexOp::Mod, ibin(IndexOp::Mul, cst(2), var("q")), cst(3))),
                 ibin(IndexOp::Div, var("r"), cst(4))));
}

TEST(EinsumSyntax, UnaryMinus) {
  const Expr a = rd("A", {var("p")}), b = rd("B", {var("p")});
  EXPECT_EQ(einsum("X[p] = -A[p] * B[p]").value, bin(ExprOp::Mul, neg(a), b));
  EXPECT_EQ(einsum("X[p] = -(A[p] * B[p])").value, neg(bin(ExprOp::Mul, a, b)));
  EXPECT_EQ(einsum("X[p] = -3 * A[p]").value, bin(ExprOp::Mul, num(-3), a));  // a literal
  EXPECT_EQ(einsum("X[p] = A[p] - -2.5").value, bin(ExprOp::Sub, a, num(-2.5)));
  EXPECT_EQ(einsum("X[p] = --A[p]").value, neg(neg(a)));
  EXPECT_EQ(einsum("X[p] = A[-p + 1]").value,
            rd("A", {ibin(IndexOp::Add, ineg(var("p")), cst(1))}));
  EXPECT_EQ(einsum("X[p] = A[-2 + p]").value, rd("A", {ibin(IndexOp::Add, cst(-2), var("p"))}));
}

TEST(EinsumSyntax, BinaryMaxVersusReduction) {
  const Expr a = rd("A", {var("p")}), b = rd("B", {var("p")});
  EXPECT_EQ(einsum("X[p] = max(A[p], B[p])").value, call("max", {a, b}));
  EXPECT_EQ(einsum("X[p] = max(m0: B[m0, p])").value,
            reduce("max", {"m0"}, rd("B", {var("m0"), var("p")})));
  EXPECT_EQ(einsum("X[p] = min(m, e: B[m, e] * A[p])").value,
            reduce("min", {"m", "e"},
                   bin(ExprOp::Mul, rd("B", {var("m"), var("e")}), a)));
  EXPECT_EQ(einsum("X[p] = sum(m: B[m, p])").value,
            reduce("sum", {"m"}, rd("B", {var("m"), var("p")})));
  // Two variables without a colon: a binary call on index values.
  EXPECT_EQ(einsum("X[p] = min(m, p)").value,
            call("min", {value_of(var("m")), value_of(var("p"))}));
  EXPECT_EQ(einsum("X[p] = elu1(A[p]) + pow(A[p], 2)").value,
            bin(ExprOp::Add, call("elu1", {a}), call("pow", {a, num(2)})));
}

TEST(EinsumSyntax, NumbersAndInfinity) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(einsum("X[p] = inf").value, num(inf));
  EXPECT_EQ(einsum("X[p] = -inf").value, num(-inf));
  EXPECT_EQ(einsum("X[p] = 1e-6").value, num(1e-6));
  EXPECT_EQ(einsum("X[p] = .5").value, num(0.5));
  EXPECT_EQ(einsum("X[p] = 2.5E+3").value, num(2500.0));
  EXPECT_EQ(einsum("X[p] = 7").value, num(7.0));
  // Names used as values: rank variables and shapes become index values.
  EXPECT_EQ(einsum("X[p] = p - M").value,
            bin(ExprOp::Sub, value_of(var("p")), value_of(sym("M"))));
  EXPECT_EQ(einsum("X[p] = index(p / 2)").value,
            value_of(ibin(IndexOp::Div, var("p"), cst(2))));
}

TEST(EinsumSyntax, WhereAndInit) {
  const Einsum e = einsum(
      "RM[m1+1, p] = max(RM[m1, p], LM[m1, p]) where m1 < 3 and p != M1*2 init RM[0, p] = -inf");
  EXPECT_EQ(e.output_indices,
            (std::vector<IndexExpr>{ibin(IndexOp::Add, var("m1"), cst(1)), var("p")}));
  EXPECT_EQ(e.value, call("max", {rd("RM", {var("m1"), var("p")}),
                                  rd("LM", {var("m1"), var("p")})}));
  ASSERT_EQ(e.where.size(), 2u);
  EXPECT_EQ(e.where[0].lhs, var("m1"));
  EXPECT_EQ(e.where[0].op, CompareOp::Less);
  EXPECT_EQ(e.where[0].rhs, cst(3));
  EXPECT_EQ(e.where[1].op, CompareOp::NotEqual);
  EXPECT_EQ(e.where[1].rhs, ibin(IndexOp::Mul, sym("M1"), cst(2)));
  ASSERT_TRUE(e.init.has_value());
  EXPECT_EQ(e.init->indices, (std::vector<IndexExpr>{cst(0), var("p")}));
  EXPECT_EQ(e.init->value, num(-std::numeric_limits<double>::infinity()));
  // Every comparison operator.
  const std::vector<std::pair<std::string, CompareOp>> ops = {
      {"<", CompareOp::Less},          {"<=", CompareOp::LessEqual},
      {">", CompareOp::Greater},       {">=", CompareOp::GreaterEqual},
      {"==", CompareOp::Equal},        {"!=", CompareOp::NotEqual}};
  for (const auto& [text, op] : ops)
    EXPECT_EQ(einsum("X[p] = A[p] where p " + text + " 2").where.at(0).op, op) << text;
}

TEST(EinsumSyntax, LocationsAreExact) {
  const Einsum e = parse_einsum("QK[m, p] = Q[e, p] * K[e, m]  # comment",
                                SourceLocation{"f.yaml", 7, 3});
  EXPECT_EQ(e.loc.line, 7);
  EXPECT_EQ(e.loc.column, 3);
  const Expr& k = e.value.args[1];
  EXPECT_EQ(k.name, "K");
  EXPECT_EQ(k.loc.file, "f.yaml");
  EXPECT_EQ(k.loc.column, 3 + 21);
  EXPECT_EQ(k.indices[1].loc.column, 3 + 26);
  // A lexer error points at its character.
  const Error err = error_of([] { parse_einsum("X[p] = A[p] ? 2", SourceLocation{"f", 2, 5}); });
  EXPECT_EQ(err.where().line, 2);
  EXPECT_EQ(err.where().column, 5 + 12);
}

TEST(EinsumSyntax, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = "X[p] = " + std::string(100000, '(') + "A[p]" +
                           std::string(100000, ')');
  EXPECT_NE(error_of([&] { einsum(deep); }).message().find("nested too deeply"),
            std::string::npos);
  EXPECT_THROW(einsum("X[p] = " + std::string(100000, '-') + "A[p]"), Error);
  EXPECT_THROW(einsum("X[" + std::string(100000, '(') + "p]"), Error);
  // Reasonable nesting is fine.
  EXPECT_NO_THROW(einsum("X[p] = " + std::string(50, '(') + "A[p]" + std::string(50, ')')));
}

TEST(EinsumSyntax, BlockScalarColumnsFollowTheRawText) {
  // Deeper indentation, a comment and blank lines inside the block.
  const std::string text = R"yaml(name: cols
inputs: {Q: [E, P], K: [E, M]}
einsums: |

    # scores
    QK[m, p] = Q[e, p] * K[e, m]

    GM[p]    = max(m: QK[m, q])
outputs: [GM]
)yaml";
  const Error err = error_of([&] { parse(text); });
  EXPECT_EQ(err.where().file, "test.yaml");
  EXPECT_EQ(err.where().line, 8);
  EXPECT_EQ(err.where().column, 29);  // the q
  EXPECT_NE(err.message().find("variable 'q'"), std::string::npos) << err.message();
}

TEST(EinsumSyntax, ListOfStringsEqualsBlock) {
  std::string as_list = kSmall;
  const std::string block = R"yaml(einsums: |
  QK[m, p] = Q[e, p] * K[e, m] * scale
  GM[p]    = max(m: QK[m, p])
  SN[m, p] = exp(QK[m, p] - GM[p])
  SD[p]    = SN[m, p]
  AV[f, p] = SN[m, p] * V[f, m] / SD[p]
)yaml";
  const std::string list = R"yaml(einsums:
  - QK[m, p] = Q[e, p] * K[e, m] * scale
  - "GM[p]    = max(m: QK[m, p])"  # quoted: ': ' would start a YAML map
  - "SN[m, p] = exp(QK[m, p] - GM[p])"
  - SD[p]    = SN[m, p]
  - AV[f, p] = SN[m, p] * V[f, m] / SD[p]
)yaml";
  as_list.replace(as_list.find(block), block.size(), list);
  EXPECT_EQ(parse(kSmall), parse(as_list));
  // Positions inside a quoted item skip the quote.
  const Cascade c = parse(as_list);
  EXPECT_EQ(c.einsums[2].loc.line, 12);
  EXPECT_EQ(c.einsums[2].loc.column, 6);
}

TEST(CascadeFile, ParametersShapesFunctionsFormats) {
  const std::string text = R"yaml(name: window
description: neighborhood attention
citations: ["a paper"]
inputs:
  Q: [E, P]
  K: [E, M]
shapes: {P: 16, M: 16, E: 4, W: 5, D: 1, S: W*D}
requirements:
  - {check: "W % 2 == 1", message: "kernel size W must be odd"}
parameters:
  scale: 1/sqrt(E)
  eps: 1e-6
  twice: 2*scale + eps
index_functions:
  "start(p)": "clamp(p - S/2, 0, M - S)"
  "key(p, w)": "start(p) + w*D"
formats: {QK: bf16, Q: fp16}
einsums: |
  QK[w, p] = Q[e, p] * K[e, key(p, w)] * twice  where key(p, w) < M
outputs: [QK]
)yaml";
  const Cascade c = parse(text);
  ASSERT_EQ(c.parameters.size(), 3u);
  EXPECT_EQ(c.parameters[0].default_value,
            bin(ExprOp::Div, num(1), call("sqrt", {value_of(sym("E"))})));
  EXPECT_EQ(c.parameters[2].default_value,
            bin(ExprOp::Add, bin(ExprOp::Mul, num(2), param("scale")), param("eps")));
  ASSERT_EQ(c.index_functions.size(), 2u);
  EXPECT_EQ(c.index_functions[1].params, (std::vector<std::string>{"p", "w"}));
  EXPECT_EQ(c.shapes[5].value, ibin(IndexOp::Mul, sym("W"), sym("D")));
  EXPECT_EQ(c.requirements[0].message, "kernel size W must be odd");
  EXPECT_EQ(c.find_tensor("QK")->format, "bf16");
  EXPECT_EQ(c.find_tensor("Q")->format, "fp16");
  EXPECT_EQ(c.find_tensor("K")->format, "");
  EXPECT_EQ(c.find_tensor("QK")->ranks, (std::vector<std::string>{"W", "P"}));
  EXPECT_EQ(c.citations, (std::vector<std::string>{"a paper"}));
  // Round trip keeps everything.
  const std::string printed = print_cascade(c);
  EXPECT_EQ(parse(printed), c) << printed;

  const Bindings b = resolve_bindings(c, {});
  EXPECT_EQ(b.shape("S"), 5);
  EXPECT_DOUBLE_EQ(b.parameters.at("twice"), 2 * 0.5 + 1e-6);
  // start(p) = clamp(p - 2, 0, 11), key(p, w) = start(p) + w.
  const IndexExpr key = c.einsums[0].value.args[0].args[1].indices[1];
  EXPECT_EQ(evaluate_index(key, c, b, {{"p", 0}, {"w", 3}}), 3);
  EXPECT_EQ(evaluate_index(key, c, b, {{"p", 7}, {"w", 0}}), 5);
  EXPECT_EQ(evaluate_index(key, c, b, {{"p", 15}, {"w", 4}}), 15);
  EXPECT_TRUE(evaluate_condition(c.einsums[0].where[0], c, b, {{"p", 15}, {"w", 4}}));

  const Error err = error_of([&] { resolve_bindings(c, {{"W", "4"}}); });
  EXPECT_NE(err.message().find("kernel size W must be odd"), std::string::npos);
  EXPECT_NE(err.message().find("W = 4"), std::string::npos) << err.message();
  EXPECT_EQ(err.where().line, 9);
  EXPECT_EQ(err.where().column, 14);
}

TEST(CascadeFile, UnusedInputIsAWarning) {
  std::string text = kSmall;
  text.replace(text.find("  V: [F, M]\n"), 12, "  V: [F, M]\n  U: [F]\n");
  const Cascade c = parse(text);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("input U is never read"), std::string::npos) << c.warnings[0];
  EXPECT_NE(c.warnings[0].find("test.yaml:6:3"), std::string::npos) << c.warnings[0];
}

TEST(CascadeFile, ValidateWorksOnCodeBuiltCascades) {
  Cascade c = parse(kSmall);
  validate(c);  // idempotent
  EXPECT_EQ(c.tensors.size(), 3u + 5u);
  c.outputs = {"NOPE"};
  const Error err = error_of([&] { validate(c); });
  EXPECT_NE(err.message().find("unknown output 'NOPE'"), std::string::npos);
  c = parse(kSmall);
  c.einsums[1].value.args[0].name = "QQ";  // GM = max(m: QQ[m, p])
  EXPECT_NE(error_of([&] { validate(c); }).message().find("unknown tensor 'QQ'"),
            std::string::npos);
}

// ---------------------------------------------------------------------------------------
// Malformed cascades: tests/data/bad/expected.txt gives each file's error location and a
// fragment of its message.

TEST(BadCascades, EachFailsAtTheExpectedLocation) {
  testing_support::check_bad_files(
      kSourceDir + "/tests/data/bad", [](const std::string& path) { parse_cascade_file(path); }, 20u);
}

TEST(BadCascades, MissingFile) {
  const Error err = error_of([] { parse_cascade_file("/nonexistent/cascade.yaml"); });
  EXPECT_EQ(err.where().file, "/nonexistent/cascade.yaml");
  EXPECT_NE(err.message().find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace cascade
