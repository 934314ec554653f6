// Linear attention (Katharopoulos et al. 2020) as Einsum cascades: non-causal with the
// elu+1 and relu feature maps, causal as a recurrence, causal in chunks. Checked through the
// functional executor against the independent fp64 references of sim/reference over
// seeded random shapes, in every format; the chunked form equals the recurrent one; pass
// and operator counts against closed forms; the parameter checks.
#include "tests/variants/variant_support.h"

namespace cascade {
namespace {

using namespace variants;

Settings chunked_shapes(Rng& rng) {
  Settings s = sequence_shapes(rng);
  s["C"] = std::to_string(pick(rng, 1, 20));  // often > P, often not dividing P
  return s;
}

std::vector<Variant> linear_variants() {
  return {
      {"linear.yaml", cross_shapes},
      {"linear-relu.yaml", cross_shapes},
      {"linear-causal.yaml", [](Rng& r) { return sequence_shapes(r); }},
      {"linear-causal-chunked.yaml", chunked_shapes},
  };
}

VARIANT_CHECKS(LinearVariants, linear_variants)

TEST(LinearVariants, Bf16BoundStillCatchesAPlausibleBug) {
  expect_bugs_caught({
      // forgets the feature map on the queries
      {"linear.yaml", "elu1(Q[e, p])", "Q[e, p]"},
      {"linear-relu.yaml", "relu(Q[e, p])", "Q[e, p]"},
      // normalizes with the key sum of the whole sequence (the non-causal denominator)
      {"linear-causal.yaml", "Z[p+1, e]", "Z[M, e]"},
      // strict mask inside the chunk: loses the diagonal
      {"linear-causal-chunked.yaml", "where j <= c", "where j < c"},
  });
}

// The chunked and recurrent causal linear cascades compute the same values; a chunk
// larger than the sequence (one partial chunk) is the quadratic masked form.
TEST(LinearAttention, ChunkedEqualsRecurrentForEveryChunkSize) {
  const Cascade chunked = load("linear-causal-chunked.yaml");
  const Cascade recurrent = load("linear-causal.yaml");
  const Settings base = {{"P", "21"}, {"M", "21"}, {"E", "4"}, {"F", "3"}};
  const Bindings br = resolve_bindings(recurrent, base);
  const TensorMap inputs = random_inputs(recurrent, br, 9, 1.0);
  const std::vector<double> expected =
      execute(recurrent, br, inputs, ExecutionOptions{}).at("AV").values;
  for (int C : {1, 2, 5, 7, 20, 21, 22, 64}) {
    Settings s = base;
    s["C"] = std::to_string(C);
    const Bindings bc = resolve_bindings(chunked, s);
    const TensorMap out = execute(chunked, bc, inputs, ExecutionOptions{});
    EXPECT_LT(max_abs_difference(out.at("AV").values, expected), 1e-13 * max_abs(expected))
        << "C=" << C;
  }
}

TEST(Passes, LinearAttention) {
  // KV and Z are full reductions over M, but nothing that reads them iterates M (the output
  // iterates P): one pass over M. The causal and chunked forms carry their state along the
  // sequence: one pass everywhere.
  for (const char* file : {"linear.yaml", "linear-relu.yaml", "linear-causal.yaml"}) {
    const Cascade c = load(file);
    EXPECT_EQ(analyze_passes(c).max_passes(), 1) << file;
    for (const char* rank : {"P", "M", "E", "F"})
      EXPECT_EQ(passes_over(c, rank), 1) << file << " " << rank;
  }
  const Cascade chunked = load("linear-causal-chunked.yaml");
  EXPECT_EQ(analyze_passes(chunked).max_passes(), 1);
  EXPECT_EQ(passes_over(chunked, "P"), 1);
  EXPECT_EQ(passes_over(chunked, "J"), 1);
}

// ---------------------------------------------------------------------------------------
// Operator counts against closed forms (masked spaces counted exactly).

TEST(OperatorCounts, LinearAttentionIsLinearInTheSequence) {
  for (const Settings& s :
       std::vector<Settings>{{{"P", "37"}, {"M", "53"}, {"E", "6"}, {"F", "5"}},
                             {{"P", "64"}, {"M", "64"}, {"E", "16"}, {"F", "16"}}}) {
    const double P = std::stod(s.at("P")), M = std::stod(s.at("M")), E = std::stod(s.at("E")),
                 F = std::stod(s.at("F"));
    const Counts c = count(load("linear.yaml"), s);
    EXPECT_EQ(c.of("KV", "mac"), M * E * F);
    EXPECT_EQ(c.of("Z", "add"), M * E);
    EXPECT_EQ(c.of("NUM", "mac"), P * E * F);
    EXPECT_EQ(c.of("DEN", "mac"), P * E);
    EXPECT_EQ(c.of("DEN", "add"), P);  // + eps
    EXPECT_EQ(c.total.of("mac"), (M + P) * E * F + P * E);
    EXPECT_EQ(c.total.of("add"), M * E + P);
    EXPECT_EQ(c.total.of("div"), F * P);
    EXPECT_EQ(c.total.of("elu1"), (P + M) * E);  // the feature map
    EXPECT_EQ(operator_names(c.total), (std::vector<std::string>{"add", "div", "elu1", "mac"}));
    const Counts r = count(load("linear-relu.yaml"), s);
    EXPECT_EQ(r.total.of("relu"), (P + M) * E);
    EXPECT_EQ(operator_names(r.total), (std::vector<std::string>{"add", "div", "mac", "relu"}));
  }
  // Causal, recurrent: the state update is a separate multiply and add per (m, e, f).
  const Settings s = {{"P", "29"}, {"M", "29"}, {"E", "7"}, {"F", "3"}};
  const double N = 29, E = 7, F = 3;
  const Counts c = count(load("linear-causal.yaml"), s);
  EXPECT_EQ(c.of("S", "mul"), N * E * F);
  EXPECT_EQ(c.of("S", "add"), N * E * F);
  EXPECT_EQ(c.of("Z", "add"), N * E);
  EXPECT_EQ(c.total.of("mac"), N * E * F + N * E);
  EXPECT_EQ(c.total.of("add"), N * E * F + N * E + N);
  EXPECT_EQ(c.total.of("div"), N * F);
}

TEST(OperatorCounts, ChunkedCountsOnlyTheUnmaskedPairs) {
  for (const auto& [N, C] :
       std::vector<std::pair<int64_t, int64_t>>{{29, 8}, {32, 8}, {7, 16}, {10, 1}}) {
    const double n = static_cast<double>(N), E = 5, F = 3;
    const double T = std::ceil(n / static_cast<double>(C));
    const double pairs = triangle_pairs(N, C);
    const Counts c =
        count(load("linear-causal-chunked.yaml"),
              {{"P", std::to_string(N)}, {"E", "5"}, {"F", "3"}, {"C", std::to_string(C)}});
    EXPECT_EQ(c.of("A", "mac"), E * pairs) << N << " " << C;
    EXPECT_EQ(c.of("INUM", "mac"), F * pairs);
    EXPECT_EQ(c.of("IDEN", "add"), pairs);
    EXPECT_EQ(c.of("CKV", "mac"), n * E * F);
    EXPECT_EQ(c.of("S", "add"), T * E * F);
    EXPECT_EQ(c.total.of("mac"), (E + F) * pairs + 2 * n * E * F + n * E);
    EXPECT_EQ(c.total.of("add"), pairs + n * E + T * E * F + T * E + n * F + 2 * n);
  }
}

// ---------------------------------------------------------------------------------------
// Parameter checks.

TEST(Requirements, LinearAttentionRejectsBadSettingsNamingThem) {
  expect_rejected({
      {"linear-causal.yaml", {{"P", "8"}, {"M", "9"}}, {"number of queries P", "number of keys M"}},
      {"linear-causal-chunked.yaml", {{"C", "0"}}, {"shape C"}},
      {"linear-causal-chunked.yaml", {{"J", "8"}}, {"J", "chunk size C"}},
      {"linear-causal-chunked.yaml", {{"T", "3"}}, {"T", "derived"}},
      // Real-valued checks (requirements that name a parameter compare real values).
      {"linear.yaml", {{"eps", "-1e-3"}}, {"eps must not be negative", "eps = -0.001"}},
      {"linear-relu.yaml", {{"eps", "-1"}}, {"eps must not be negative"}},
      {"linear-causal.yaml", {{"eps", "-1e-9"}}, {"eps must not be negative"}},
      {"linear-causal-chunked.yaml", {{"eps", "-2"}}, {"eps must not be negative"}},
  });
}

// A chunk larger than the sequence is valid: one partial chunk (the quadratic form).
TEST(Requirements, ChunksLargerThanTheSequenceAreOnePartialChunk) {
  const CheckResult r =
      check(load("linear-causal-chunked.yaml"), {{"P", "9"}, {"C", "40"}}, NumberFormat::FP64, 2);
  EXPECT_LT(r.outputs[0].max_abs_error, 1e-12);
}

}  // namespace
}  // namespace cascade
