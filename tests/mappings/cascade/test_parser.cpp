// Cascade files: parsing, printing (round trip), validation errors with exact locations,
// shape/parameter resolution and index evaluation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <sstream>

#include "tests/support/bad_files.h"
#include "mappings/cascade/parser.h"

namespace cascade {
namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = CASCADE_SOURCE_DIR;

Cascade parse(const std::string& text) { return parse_cascade_text(text, "test.yaml"); }

// The Error thrown by `f`, or a failure.
template <typename F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no cascade::Error thrown";
  return Error("none");
}

// ---- IR builders ----
IndexExpr var(const std::string& name) {
  IndexExpr e;
  e.op = IndexOp::Variable;
  e.name = name;
  return e;
}
IndexExpr sym(const std::string& name) {
  IndexExpr e;
  e.op = IndexOp::Symbol;
  e.name = name;
  return e;
}
IndexExpr cst(int64_t v) {
  IndexExpr e;
  e.op = IndexOp::Constant;
  e.value = v;
  return e;
}
IndexExpr ibin(IndexOp op, IndexExpr a, IndexExpr b) {
  IndexExpr e;
  e.op = op;
  e.args = {std::move(a), std::move(b)};
  return e;
}
IndexExpr ineg(IndexExpr a) {
  IndexExpr e;
  e.op = IndexOp::Neg;
  e.args = {std::move(a)};
  return e;
}
IndexExpr icall(const std::string& name, std::vector<IndexExpr> args) {
  IndexExpr e;
  e.op = IndexOp::Call;
  e.name = name;
  e.args = std::move(args);
  return e;
}
Expr num(double v) {
  Expr e;
  e.op = ExprOp::Number;
  e.number = v;
  return e;
}
Expr param(const std::string& name) {
  Expr e;
  e.op = ExprOp::Parameter;
  e.name = name;
  return e;
}
Expr value_of(IndexExpr i) {
  Expr e;
  e.op = ExprOp::Index;
  e.indices = {std::move(i)};
  return e;
}
Expr rd(const std::string& tensor, std::vector<IndexExpr> indices) {
  Expr e;
  e.op = ExprOp::Read;
  e.name = tensor;
  e.indices = std::move(indices);
  return e;
}
Expr bin(ExprOp op, Expr a, Expr b) {
  Expr e;
  e.op = op;
  e.args = {std::move(a), std::move(b)};
  return e;
}
Expr neg(Expr a) {
  Expr e;
  e.op = ExprOp::Neg;
  e.args = {std::move(a)};
  return e;
}
Expr call(const std::string& name, std::vector<Expr> args) {
  Expr e;
  e.op = ExprOp::Call;
  e.name = name;
  e.args = std::move(args);
  return e;
}
Expr reduce(const std::string& kind, std::vector<std::string> vars, Expr body) {
  Expr e;
  e.op = ExprOp::Reduce;
  e.name = kind;
  e.reduce_vars = std::move(vars);
  e.args = {std::move(body)};
  return e;
}

Einsum einsum(const std::string& text) { return parse_einsum(text, SourceLocation{"t", 1, 1}); }

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
// Printing.

TEST(Printer, MinimalButSafeParentheses) {
  const Expr a = rd("A", {var("p")}), b = rd("B", {var("p")}), c = rd("C", {var("p")});
  EXPECT_EQ(print_expr(bin(ExprOp::Sub, a, bin(ExprOp::Sub, b, c))), "A[p] - (B[p] - C[p])");
  EXPECT_EQ(print_expr(bin(ExprOp::Sub, bin(ExprOp::Sub, a, b), c)), "A[p] - B[p] - C[p]");
  EXPECT_EQ(print_expr(bin(ExprOp::Div, a, bin(ExprOp::Mul, b, c))), "A[p] / (B[p] * C[p])");
  EXPECT_EQ(print_expr(bin(ExprOp::Div, bin(ExprOp::Mul, a, b), c)), "A[p] * B[p] / C[p]");
  EXPECT_EQ(print_expr(bin(ExprOp::Mul, bin(ExprOp::Add, a, b), c)), "(A[p] + B[p]) * C[p]");
  EXPECT_EQ(print_expr(neg(bin(ExprOp::Mul, a, b))), "-(A[p] * B[p])");
  EXPECT_EQ(print_expr(bin(ExprOp::Mul, neg(a), b)), "-A[p] * B[p]");
  EXPECT_EQ(print_expr(neg(num(3))), "-(3)");
  EXPECT_EQ(print_expr(num(-3)), "-3");
  EXPECT_EQ(print_expr(num(0.1)), "0.1");
  EXPECT_EQ(print_expr(num(-std::numeric_limits<double>::infinity())), "-inf");
  EXPECT_EQ(print_expr(reduce("max", {"m1", "m0"}, a)), "max(m1, m0: A[p])");
  EXPECT_EQ(print_index(ineg(ibin(IndexOp::Add, var("p"), cst(1)))), "-(p + 1)");
  EXPECT_EQ(print_index(ibin(IndexOp::Sub, var("p"), cst(-1))), "p - -1");
  EXPECT_EQ(print_index(ibin(IndexOp::Mul, ibin(IndexOp::Add, var("m1"), cst(1)), sym("M0"))),
            "(m1 + 1)*M0");
  EXPECT_EQ(print_einsum(einsum("RM[m1+1, p] = max(RM[m1, p], LM[m1, p])  init RM[0, p] = -inf")),
            "RM[m1 + 1, p] = max(RM[m1, p], LM[m1, p]) init RM[0, p] = -inf");
}

// Random expression trees print and parse back to themselves.
class RandomTrees {
 public:
  explicit RandomTrees(unsigned seed) : rng_(seed) {}

  IndexExpr index(int depth) {
    const int pick = pick_in(depth <= 0 ? 3 : 10);
    switch (pick) {
      case 0: return cst(pick_in(21) - 10);
      case 1: return var(choose({"p", "m1", "m0", "w"}));
      case 2: return sym(choose({"M", "M0", "W"}));
      case 3: return ineg(index(depth - 1));
      case 4: return icall("clamp", {index(depth - 1), index(depth - 1), index(depth - 1)});
      case 5: return icall(choose({"min", "max", "start"}), {index(depth - 1), index(depth - 1)});
      default: {
        const IndexOp ops[] = {IndexOp::Add, IndexOp::Sub, IndexOp::Mul, IndexOp::Div,
                               IndexOp::Mod};
        return ibin(ops[pick_in(5)], index(depth - 1), index(depth - 1));
      }
    }
  }

  Expr value(int depth) {
    const int pick = pick_in(depth <= 0 ? 4 : 11);
    switch (pick) {
      case 0: {
        const double numbers[] = {0, 1, 2.5, 0.1, 1e-6, 3.141592653589793, 1e300,
                                  std::numeric_limits<double>::infinity(), 123456789.125};
        const double v = numbers[pick_in(9)];
        return num(pick_in(2) ? v : -v);
      }
      case 1: return value_of(var(choose({"p", "m", "scale"})));
      case 2: return value_of(sym(choose({"M", "E"})));
      case 3: return rd(choose({"A", "BQK"}), {index(1), index(2)});
      case 4: return neg(value(depth - 1));
      case 5: return value_of(index(2));  // printed as index(...) unless a plain name
      case 6: return call(choose({"exp", "sqrt", "relu"}), {value(depth - 1)});
      case 7: return call(choose({"max", "min", "pow"}), {value(depth - 1), value(depth - 1)});
      case 8: return reduce(choose({"sum", "max", "min"}),
                            pick_in(2) ? std::vector<std::string>{"m"}
                                       : std::vector<std::string>{"m1", "m0"},
                            value(depth - 1));
      default: {
        const ExprOp ops[] = {ExprOp::Add, ExprOp::Sub, ExprOp::Mul, ExprOp::Div};
        return bin(ops[pick_in(4)], value(depth - 1), value(depth - 1));
      }
    }
  }

 private:
  int pick_in(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string choose(std::initializer_list<const char*> names) {
    return *(names.begin() + pick_in(static_cast<int>(names.size())));
  }
  std::mt19937 rng_;
};

TEST(Printer, RandomTreesRoundTrip) {
  RandomTrees trees(12345);
  for (int i = 0; i < 2000; ++i) {
    const IndexExpr ie = trees.index(4);
    const std::string itext = print_index(ie);
    ASSERT_EQ(parse_index_expression(itext, SourceLocation{}), ie) << itext;
    const Expr ve = trees.value(4);
    const std::string vtext = print_expr(ve);
    ASSERT_EQ(parse_value_expression(vtext, SourceLocation{}), ve) << vtext;
  }
}

// ---------------------------------------------------------------------------------------
// Bindings.

const std::string kTiled = R"yaml(name: tiled
inputs: {Q: [E, P], K: [E, M]}
partition: {M: [M1, M0]}
shapes: {P: 256, E: 64, M0: 64}
parameters: {scale: 1/sqrt(E), bias: 2*scale}
einsums: |
  QK[m1, m0, p] = Q[e, p] * K[e, m1*M0 + m0] * scale + bias
outputs: [QK]
)yaml";

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
