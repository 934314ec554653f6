// The functional executor against the independent fp64 references (plain C++ loops in
// sim/reference), over seeded random shapes: every softmax cascade, every format.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "mappings/cascade/parser.h"
#include "sim/functional/check.h"
#include "sim/functional/executor.h"
#include "sim/reference/attention_reference.h"
#include "tests/support/error_of.h"

namespace cascade {
namespace {

Cascade load(const std::string& name) {
  return parse_cascade_file(std::string(CASCADE_SOURCE_DIR) + "/configs/cascades/" + name);
}

const char* kSoftmaxCascades[] = {"softmax-3pass.yaml", "softmax-2pass.yaml",
                                  "softmax-deferred-division.yaml", "softmax-1pass.yaml"};

struct Shape {
  int64_t P, M, E, F, M0;
  std::map<std::string, std::string> settings() const {
    return {{"P", std::to_string(P)}, {"M", std::to_string(M)}, {"E", std::to_string(E)},
            {"F", std::to_string(F)}, {"M0", std::to_string(M0)}};
  }
};

// Random shapes; P != M and M not a multiple of M0 happen often.
std::vector<Shape> random_shapes(uint64_t seed, int count) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::vector<Shape> shapes;
  for (int i = 0; i < count; ++i)
    shapes.push_back({pick(1, 40), pick(1, 70), pick(1, 12), pick(1, 9), pick(1, 24)});
  return shapes;
}

std::map<std::string, std::string> settings_for(const Cascade& c, const Shape& s) {
  auto all = s.settings();
  if (!c.find_partition_of("M")) all.erase("M0");
  return all;
}

CheckResult check(const Cascade& c, const Shape& s, NumberFormat storage, NumberFormat acc,
                  uint64_t seed, ExpMode exp = ExpMode::Exact) {
  CheckOptions o;
  o.execution.storage = storage;
  o.execution.accumulate = acc;
  o.execution.exp = exp;
  o.seed = seed;
  return check_cascade(c, resolve_bindings(c, settings_for(c, s)), o);
}

TEST(Executor, SoftmaxCascadesMatchTheFp64ReferenceInFp64) {
  for (const char* file : kSoftmaxCascades) {
    const Cascade c = load(file);
    uint64_t seed = 11;
    for (const Shape& s : random_shapes(7, 25)) {
      const CheckResult r = check(c, s, NumberFormat::FP64, NumberFormat::FP64, ++seed);
      ASSERT_EQ(r.outputs.size(), 1u);
      EXPECT_LT(r.outputs[0].max_abs_error, 1e-12)
          << file << " P=" << s.P << " M=" << s.M << " E=" << s.E << " F=" << s.F << " M0=" << s.M0;
    }
  }
}

TEST(Executor, SoftmaxCascadesMatchInFp32) {
  for (const char* file : kSoftmaxCascades) {
    const Cascade c = load(file);
    uint64_t seed = 100;
    for (const Shape& s : random_shapes(8, 15)) {
      const CheckResult r = check(c, s, NumberFormat::FP32, NumberFormat::FP32, ++seed);
      EXPECT_LT(r.outputs[0].relative_error, 1e-5) << file << " P=" << s.P << " M=" << s.M;
    }
  }
}

// bf16/fp16 storage with fp32 accumulation: within check's statistical tolerance (check.h:
// the errors of the same cascade with rounding noise), and not trivially small (the formats
// really round).
TEST(Executor, SoftmaxCascadesPassTheStatisticalToleranceInBf16AndFp16) {
  for (NumberFormat f : {NumberFormat::BF16, NumberFormat::FP16}) {
    for (const char* file : kSoftmaxCascades) {
      const Cascade c = load(file);
      uint64_t seed = 300;
      double worst = 0;
      for (const Shape& s : random_shapes(9, 10)) {
        const CheckResult r = check(c, s, f, NumberFormat::FP32, ++seed);
        const OutputComparison& o = r.outputs[0];
        EXPECT_TRUE(r.passed()) << file << " " << to_string(f) << " P=" << s.P << " M=" << s.M
                                << " E=" << s.E << " F=" << s.F << " M0=" << s.M0 << " seed " << seed
                                << ": max " << o.relative_error << " (" << o.tolerance << "), rms "
                                << o.rms_error << " (" << o.rms_tolerance << "), bias " << o.bias
                                << " (" << o.bias_tolerance << ")";
        worst = std::max(worst, r.outputs[0].relative_error);
      }
      EXPECT_GT(worst, unit_roundoff(f) / 16) << file << ": rounding had no visible effect";
    }
  }
}

TEST(Executor, HardwareExpStaysWithinFp32Tolerance) {
  const Cascade c = load("softmax-1pass.yaml");
  for (const Shape& s : random_shapes(10, 6)) {
    const CheckResult r = check(c, s, NumberFormat::FP32, NumberFormat::FP32, 5, ExpMode::Hardware);
    EXPECT_LT(r.outputs[0].relative_error, 1e-5);
  }
}

// Scores of magnitude 100+: exp(100) overflows fp16 (max 65504). The 1-pass cascade
// subtracts the running max first and stays finite and accurate; a naive cascade does not.
TEST(Executor, OnePassSurvivesLargeScoresInFp16WhereNaiveExpOverflows) {
  const Cascade one_pass = load("softmax-1pass.yaml");
  const Cascade naive = parse_cascade_text(R"(name: softmax-naive
inputs: {Q: [E, P], K: [E, M], V: [F, M]}
shapes: {P: 16, M: 48, E: 4, F: 3}
parameters: {scale: 1}
reference: {function: softmax}
einsums: |
  QK[m, p] = Q[e, p] * K[e, m] * scale
  SN[m, p] = exp(QK[m, p])
  SD[p] = SN[m, p]
  AV[f, p] = SN[m, p] * V[f, m] / SD[p]
outputs: [AV]
)", "naive.yaml");
  const std::map<std::string, std::string> shape = {{"P", "16"}, {"M", "48"}, {"E", "4"},
                                                    {"F", "3"},  {"M0", "16"}, {"scale", "1"}};
  const Bindings b1 = resolve_bindings(one_pass, shape);
  auto shape_naive = shape;
  shape_naive.erase("M0");
  const Bindings b2 = resolve_bindings(naive, shape_naive);
  // Inputs with |q·k| around 100-200.
  TensorMap inputs = random_inputs(one_pass, b1, 77, 1.0);
  for (double& v : inputs["Q"].values) v *= 7.0;
  for (double& v : inputs["K"].values) v *= 7.0;
  ExecutionOptions o{NumberFormat::FP16, NumberFormat::FP16, ExpMode::Exact};
  for (auto& [name, t] : inputs)
    for (double& v : t.values) v = round_to(NumberFormat::FP16, v);
  double max_score = 0;
  for (int64_t p = 0; p < 16; ++p)
    for (int64_t m = 0; m < 48; ++m) {
      double s = 0;
      for (int64_t e = 0; e < 4; ++e) s += inputs["Q"].values[e * 16 + p] * inputs["K"].values[e * 48 + m];
      max_score = std::max(max_score, s);
    }
  ASSERT_GT(max_score, 100.0);

  const TensorMap out1 = execute(one_pass, b1, inputs, o);
  const TensorMap out2 = execute(naive, b2, inputs, o);
  const std::vector<double> ref = reference::softmax_attention(
      {16, 48, 4, 3}, inputs["Q"].values, inputs["K"].values, inputs["V"].values, 1.0, false);
  double err = 0, scale = 0;
  bool naive_broken = false;
  for (size_t i = 0; i < ref.size(); ++i) {
    ASSERT_TRUE(std::isfinite(out1.at("AV").values[i]));
    err = std::max(err, std::fabs(out1.at("AV").values[i] - ref[i]));
    scale = std::max(scale, std::fabs(ref[i]));
    naive_broken = naive_broken || !std::isfinite(out2.at("AV").values[i]);
  }
  EXPECT_TRUE(naive_broken) << "the naive cascade should overflow in fp16";
  // All-fp16 datapath over 3 tiles: a few dozen roundings of 2^-11.
  EXPECT_LT(err / scale, 64 * unit_roundoff(NumberFormat::FP16));
}

TEST(Executor, CausalMaskMatchesBottomRightAlignedReference) {
  const Cascade c = parse_cascade_text(R"(name: softmax-causal
inputs: {Q: [E, P], K: [E, M], V: [F, M]}
shapes: {P: 16, M: 16, E: 4, F: 4}
parameters: {scale: 1/sqrt(E)}
reference: {function: softmax, causal: true}
einsums: |
  QK[m, p] = Q[e, p] * K[e, m] * scale    where m <= p + M - P
  GM[p]    = max(m: QK[m, p])             where m <= p + M - P
  SN[m, p] = exp(QK[m, p] - GM[p])        where m <= p + M - P
  SD[p]    = SN[m, p]                     where m <= p + M - P
  AV[f, p] = SN[m, p] * V[f, m] / SD[p]   where m <= p + M - P
outputs: [AV]
)", "causal.yaml");
  for (const Shape& s : random_shapes(12, 20)) {
    if (s.P > s.M) continue;  // every query keeps at least one key
    CheckOptions o;
    auto settings = s.settings();
    settings.erase("M0");
    const CheckResult r = check_cascade(c, resolve_bindings(c, settings), o);
    EXPECT_LT(r.outputs[0].max_abs_error, 1e-12) << "P=" << s.P << " M=" << s.M;
  }
}

TEST(Executor, ResultsAreBitReproducible) {
  const Cascade c = load("softmax-1pass.yaml");
  const Bindings b = resolve_bindings(c, {{"P", "9"}, {"M", "33"}, {"M0", "8"}});
  const TensorMap in = random_inputs(c, b, 3, 1.0);
  ExecutionOptions o{NumberFormat::BF16, NumberFormat::FP32, ExpMode::Hardware};
  const TensorMap a = execute(c, b, in, o);
  const TensorMap d = execute(c, b, in, o);
  EXPECT_EQ(a.at("AV").values, d.at("AV").values);
}

// A factor of a summed product that does not depend on the summed variables multiplies the
// finished, rounded sum once (executor.h, rounding order 4; what operator_counts counts),
// on every path of the executor: the blocked contraction (plain), the strided contraction
// (a mask on the summed variable), the general evaluator (a summand that is not a plain
// product of reads), an explicit sum(...), and a hoisted read indexed by the output.
TEST(Executor, HoistedFactorsMultiplyTheFinishedRoundedSum) {
  const Cascade c = parse_cascade_text(R"(name: hoisting
inputs: {X: [E, P], W: [E], B: [P]}
shapes: {P: 40, E: 37}
parameters: {s: 1/sqrt(E)}
einsums: |
  PLAIN[p]    = X[e, p] * W[e] * s
  FIRST[p]    = s * X[e, p] * W[e]
  MASKED[p]   = X[e, p] * W[e] * s           where e <= p
  GENERAL[p]  = (X[e, p] + 1) * W[e] * s
  EXPLICIT[p] = sum(e: X[e, p] * W[e] * s) + 1
  READ[p]     = X[e, p] * W[e] * B[p] * s
outputs: [PLAIN, FIRST, MASKED, GENERAL, EXPLICIT, READ]
)", "hoisting.yaml");
  const Bindings b = resolve_bindings(c, {});
  const TensorMap in = random_inputs(c, b, 17, 1.0);
  const ExecutionOptions o{NumberFormat::FP32, NumberFormat::FP32, ExpMode::Exact};
  const TensorMap out = execute(c, b, in, o);
  const int64_t P = 40, E = 37;
  const float s = static_cast<float>(1 / std::sqrt(37.0));
  auto x = [&](int64_t e, int64_t p) { return static_cast<float>(in.at("X").values[e * P + p]); };
  auto w = [&](int64_t e) { return static_cast<float>(in.at("W").values[e]); };
  int differs = 0;  // outputs where scaling every term would have given other bits
  for (int64_t p = 0; p < P; ++p) {
    float sum = 0, masked = 0, general = 0, per_term = 0;
    for (int64_t e = 0; e < E; ++e) {
      sum += x(e, p) * w(e);
      if (e <= p) masked += x(e, p) * w(e);
      general += (x(e, p) + 1.0f) * w(e);
      per_term += x(e, p) * w(e) * s;
    }
    const float b_p = static_cast<float>(in.at("B").values[p]);
    EXPECT_EQ(out.at("PLAIN").values[p], sum * s) << p;
    EXPECT_EQ(out.at("FIRST").values[p], sum * s) << p;
    EXPECT_EQ(out.at("MASKED").values[p], masked * s) << p;
    EXPECT_EQ(out.at("GENERAL").values[p], general * s) << p;
    EXPECT_EQ(out.at("EXPLICIT").values[p], sum * s + 1.0f) << p;
    EXPECT_EQ(out.at("READ").values[p], sum * b_p * s) << p;
    differs += per_term != sum * s;
  }
  EXPECT_GT(differs, 0) << "the inputs do not tell the two rounding orders apart";
}

// An implicit sum covers the whole right side (mappings/README.md): a bias term without the
// summed variable is rejected, the explicit form adds it once, and a term that uses the
// summed variable is summed with the rest. Checked against plain fp64 loops.
TEST(Executor, ImplicitSumsAndAdditiveTerms) {
  const std::string head = R"(name: alibi
inputs: {Q: [E, P], K: [E, M], B: [M]}
shapes: {P: 5, M: 7, E: 3}
parameters: {scale: 1/sqrt(E), slope: 0.25}
einsums: |
)";
  const Error implicit = testing_support::error_of([&] {
    parse_cascade_text(head + "  S[m, p] = Q[e, p] * K[e, m] * scale - slope * (p - m)\noutputs: [S]\n",
                       "alibi.yaml");
  });
  EXPECT_NE(implicit.message().find("does not use e"), std::string::npos) << implicit.message();
  EXPECT_EQ(implicit.where().line, 6);

  const Cascade c = parse_cascade_text(
      head + "  S[m, p] = sum(e: Q[e, p] * K[e, m]) * scale - slope * (p - m)\n"
             "  T[p] = S[m, p] + B[m]\n"
             "outputs: [S, T]\n",
      "alibi.yaml");
  const Bindings b = resolve_bindings(c, {});
  const TensorMap in = random_inputs(c, b, 5, 1.0);
  const TensorMap out = execute(c, b, in, ExecutionOptions{});
  const int64_t P = 5, M = 7, E = 3;
  for (int64_t p = 0; p < P; ++p) {
    double t = 0;
    for (int64_t m = 0; m < M; ++m) {
      double qk = 0;
      for (int64_t e = 0; e < E; ++e) qk += in.at("Q").values[e * P + p] * in.at("K").values[e * M + m];
      const double s = qk / std::sqrt(3.0) - 0.25 * static_cast<double>(p - m);
      EXPECT_NEAR(out.at("S").values[m * P + p], s, 1e-12) << m << "," << p;
      t += s + in.at("B").values[m];
    }
    EXPECT_NEAR(out.at("T").values[p], t, 1e-12) << p;
  }
}

TEST(Executor, OutOfRangeReadIsAClearError) {
  const Cascade c = parse_cascade_text(R"(name: oob
inputs: {X: [M]}
shapes: {M: 4}
einsums: |
  Y[m] = X[m + 1]
outputs: [Y]
)", "oob.yaml");
  const Bindings b = resolve_bindings(c, {});
  TensorMap in = random_inputs(c, b, 1, 1.0);
  try {
    execute(c, b, in, ExecutionOptions{});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("out of range"), std::string::npos) << e.what();
    EXPECT_EQ(e.where().line, 5);
  }
}

TEST(Executor, WrongInputShapeIsAClearError) {
  const Cascade c = load("softmax-3pass.yaml");
  const Bindings b = resolve_bindings(c, {});
  TensorMap in = random_inputs(c, b, 1, 1.0);
  in["Q"] = Tensor({3, 3});
  EXPECT_THROW(execute(c, b, in, ExecutionOptions{}), Error);
}

}  // namespace
}  // namespace cascade
