// Decode with grouped-query heads (configs/cascades/decode-gqa-split.yaml): one query per
// query head, the keys split in S splits of T tiles of M0, FuseMax's online softmax inside
// each split and a merge over the splits. Checked through the functional executor against
// the independent fp64 decode reference (sim/reference/decode_reference.h, a plain softmax
// over all keys) over seeded random shapes (partial last splits, empty last tiles, groups
// of 1..4 heads), in every format; passes and operator counts against closed forms.
#include "tests/variants/variant_support.h"

namespace cascade {
namespace {

using namespace variants;

// Random valid shapes: every split must hold a key, (S - 1) * M0 < M (the cascade's
// requirement: split s starts at key s * M0).
Settings decode_shapes(Rng& r) {
  Settings s = heads(r);
  for (;;) {
    const int64_t m = pick(r, 1, 60), m0 = pick(r, 1, 8), splits = pick(r, 1, 6);
    if ((splits - 1) * m0 >= m) continue;
    const int64_t g = pick(r, 1, 4), kv = pick(r, 1, 3);
    s["M"] = std::to_string(m);
    s["M0"] = std::to_string(m0);
    s["S"] = std::to_string(splits);
    s["G"] = std::to_string(g);
    s["H"] = std::to_string(g * kv);
    return s;
  }
}

std::vector<Variant> decode_variants() { return {{"decode-gqa-split.yaml", decode_shapes}}; }

VARIANT_CHECKS(DecodeVariants, decode_variants)

TEST(DecodeVariants, Bf16BoundStillCatchesAPlausibleBug) {
  expect_bugs_caught({
      // the wrong KV head: h % HK (interleaved groups) instead of h / G (contiguous groups)
      {"decode-gqa-split.yaml", "h / G]", "h % HK]", true},
      // the merge without the rescaling of each split to the global max
      {"decode-gqa-split.yaml", "RNV[s, T, f, h] * SW[s, h]", "RNV[s, T, f, h]", true},
      // the running numerator not rescaled when a split's running max grows
      {"decode-gqa-split.yaml", "RNV[s, t, f, h] * PRM[s, t, h]", "RNV[s, t, f, h]", true},
  });
}

// One split (S = 1) is FuseMax's 1-pass cascade; one key per split (M0 = T = 1, S = M) is
// the merge alone; contiguous splits (the FlashDecoding layout) give the same values. Both give the reference's values.
TEST(Decode, OneSplitAndOneKeyPerSplitAreBothExact) {
  const Cascade c = load("decode-gqa-split.yaml");
  for (const Settings& s : std::vector<Settings>{
           {{"M", "37"}, {"S", "1"}, {"M0", "5"}, {"E", "6"}, {"F", "3"}, {"H", "4"}, {"G", "2"}},
           {{"M", "9"}, {"S", "9"}, {"M0", "1"}, {"E", "4"}, {"F", "5"}, {"H", "3"}, {"G", "3"}}}) {
    const CheckResult r = check(c, s, NumberFormat::FP64, 3);
    EXPECT_LT(r.outputs[0].max_abs_error, 1e-13) << describe(s);
    EXPECT_EQ(resolve_bindings(c, s).shape("T"), s.at("S") == "1" ? 8 : 1) << describe(s);
  }
  const Cascade contiguous = parse_cascade_text(
      replace_all(read_text("decode-gqa-split.yaml"), "(t*S + s)*M0 + m0", "(s*T + t)*M0 + m0"),
      "decode, contiguous splits");
  const Settings s = {{"M", "50"}, {"S", "3"}, {"M0", "4"}, {"E", "5"}, {"F", "3"}, {"H", "4"}};
  EXPECT_LT(check(contiguous, s, NumberFormat::FP64, 4).outputs[0].max_abs_error, 1e-13);
}

TEST(Passes, DecodeReadsEveryKeyOnce) {
  const Cascade c = load("decode-gqa-split.yaml");
  // One pass over the tiles of a split; the merge is a second (short) pass over the split
  // states, never over the keys; inside a tile exp(BQK - RM) reads the tile's max (two
  // passes over the M0 keys of a tile held on chip, as in FuseMax's 1-pass cascade).
  EXPECT_EQ(passes_over(c, "T"), 1);
  EXPECT_EQ(passes_over(c, "S"), 2);
  EXPECT_EQ(passes_over(c, "M0"), 2);
}

// Closed forms: QK and AV are H·M·E and H·M·F MACs (every query head reads each key once,
// whatever G), one exp per (head, key) plus one per (head, split, tile) and per
// (head, split), one division per output element.
TEST(OperatorCounts, DecodeCountsEveryKeyOncePerQueryHead) {
  const Cascade c = load("decode-gqa-split.yaml");
  for (const auto& [M, S, M0, G] : std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t>>{
           {1000, 4, 64, 4}, {4096, 16, 64, 4}, {777, 5, 16, 3}}) {
    const int64_t E = 32, F = 24, H = 6 * G;
    const Settings s = {{"M", std::to_string(M)}, {"S", std::to_string(S)},
                        {"M0", std::to_string(M0)}, {"E", std::to_string(E)},
                        {"F", std::to_string(F)}, {"H", std::to_string(H)},
                        {"G", std::to_string(G)}};
    const int64_t T = (M + S * M0 - 1) / (S * M0);
    const Counts n = count(c, s);
    const double h = static_cast<double>(H), m = static_cast<double>(M);
    EXPECT_EQ(n.of("BQK", "mac"), h * m * E) << describe(s);
    EXPECT_EQ(n.of("BQK", "mul"), h * m) << describe(s);  // the scale, once per score
    EXPECT_EQ(n.of("SLNV", "mac"), h * m * F) << describe(s);
    EXPECT_EQ(n.total.of("exp"), h * m + h * static_cast<double>(S * T) + h * S) << describe(s);
    EXPECT_EQ(n.total.of("div"), h * F) << describe(s);
  }
}

// A cascade that names the decode reference with another layout is an error naming both.
TEST(Decode, ReferenceRejectsOtherLayoutsNamingThem) {
  const Cascade c = parse_cascade_text(
      replace_all(read_text("softmax-3pass.yaml"), "reference: {function: softmax, causal: false}",
                  "reference: {function: decode}"),
      "softmax-as-decode.yaml");
  try {
    check(c, {{"P", "3"}, {"M", "5"}}, NumberFormat::FP64, 1);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("decode reference reads Q [E][H]"), std::string::npos)
        << e.what();
  }
}

TEST(Requirements, DecodeRejectsBadSettingsNamingThem) {
  expect_rejected({
      {"decode-gqa-split.yaml", {{"H", "6"}, {"G", "4"}}, {"multiple of the group size", "H % G"}},
      // 4 splits of tiles of 4 keys: the fourth would start at key 12 of 10
      {"decode-gqa-split.yaml", {{"M", "10"}, {"S", "4"}, {"M0", "4"}}, {"at least one key"}},
  });
}

}  // namespace
}  // namespace cascade
