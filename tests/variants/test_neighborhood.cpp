// Neighborhood attention (NATTEN: odd kernel W, dilation D, windows shifted at the borders)
// as Einsum cascades: 1D with the 3-pass softmax in the window, 1D with FuseMax's online
// softmax over window tiles, 1D causal, and 2D on a Y x X grid. Checked through the
// functional executor against the independent fp64 references of sim/reference over
// seeded random shapes, in every format; a full window is full softmax bit for bit; the
// window start is NATTEN's rule; pass and operator counts against closed forms; the
// parameter checks.
#include "sim/reference/attention_reference.h"
#include "tests/variants/variant_support.h"

namespace cascade {
namespace {

using namespace variants;

// A sequence of length L >= 3, an odd kernel 3 <= W <= L and a dilation with W*D <= L.
Settings neighborhood_shapes(Rng& rng) {
  Settings s = heads(rng);
  const int64_t L = pick(rng, 3, 60);
  const int64_t W = 2 * pick(rng, 1, (std::min<int64_t>(L, 15) - 1) / 2) + 1;
  const int64_t D = pick(rng, 1, L / W);
  s["P"] = s["M"] = std::to_string(L);
  s["W"] = std::to_string(W);
  s["D"] = std::to_string(D);
  return s;
}

Settings neighborhood_1pass_shapes(Rng& rng) {
  Settings s = neighborhood_shapes(rng);
  s["W0"] = std::to_string(pick(rng, 1, std::stoll(s["W"]) + 1));
  return s;
}

Settings neighborhood_causal_shapes(Rng& rng) {
  Settings s = heads(rng);
  const int64_t L = pick(rng, 2, 60);
  const int64_t W = pick(rng, 2, std::min<int64_t>(L, 15));  // even kernels allowed
  const int64_t D = pick(rng, 1, L / W);
  s["P"] = s["M"] = std::to_string(L);
  s["W"] = std::to_string(W);
  s["D"] = std::to_string(D);
  return s;
}

// A grid that is never square, per-axis odd kernels and dilations.
Settings neighborhood_2d_shapes(Rng& rng) {
  Settings s = heads(rng);
  const int64_t Y = pick(rng, 3, 12);
  int64_t X = pick(rng, 3, 12);
  if (X == Y) X = Y == 12 ? 3 : Y + 1;
  auto axis = [&](int64_t L, const char* w, const char* d) {
    const int64_t k = 2 * pick(rng, 1, (L - 1) / 2) + 1;
    s[w] = std::to_string(k);
    s[d] = std::to_string(pick(rng, 1, L / k));
  };
  s["Y"] = std::to_string(Y);
  s["X"] = std::to_string(X);
  axis(Y, "WY", "DY");
  axis(X, "WX", "DX");
  return s;
}

std::vector<Variant> neighborhood_variants() {
  return {
      {"neighborhood-1d.yaml", neighborhood_shapes},
      {"neighborhood-1d-1pass.yaml", neighborhood_1pass_shapes},
      {"neighborhood-1d-causal.yaml", neighborhood_causal_shapes},
      {"neighborhood-2d.yaml", neighborhood_2d_shapes},
  };
}

VARIANT_CHECKS(NeighborhoodVariants, neighborhood_variants)

TEST(NeighborhoodVariants, Bf16BoundStillCatchesAPlausibleBug) {
  expect_bugs_caught({
      // windows at the start of each group shifted one key too far
      {"neighborhood-1d.yaml", "clamp(p / D, W / 2,", "clamp(p / D, W / 2 + 1,"},
      // running sums not rescaled when the running max grows
      {"neighborhood-1d-1pass.yaml", "RD[w1, p] * PRM[w1, p]", "RD[w1, p]"},
      // window one key too short (the query's own key left out)
      {"neighborhood-1d-causal.yaml",
       "p - w*D]",
       "p - w*D - D]",
       true,
       {{"where w*D <= p", "where w*D + D <= p"}}},
      // scores not scaled by 1/sqrt(E)
      {"neighborhood-2d.yaml", "] * scale", "]"},
  });
}

// W = L, D = 1, non-causal: every query sees every key, in the same order as the softmax
// cascades, so the outputs are identical bit for bit, in every format.
TEST(Neighborhood, FullWindowIsFullSoftmaxBitForBit) {
  const Cascade n3 = load("neighborhood-1d.yaml"), s3 = load("softmax-3pass.yaml");
  const Cascade n1 = load("neighborhood-1d-1pass.yaml"), s1 = load("softmax-1pass.yaml");
  const Cascade n2d = load("neighborhood-2d.yaml");
  Rng rng(77);
  for (int i = 0; i < 6; ++i) {
    const int64_t L = 2 * pick(rng, 1, 20) + 1, E = pick(rng, 1, 8), F = pick(rng, 1, 8);
    const int64_t tile = pick(rng, 1, L + 2);
    const Settings shapes = {{"P", std::to_string(L)},
                             {"M", std::to_string(L)},
                             {"E", std::to_string(E)},
                             {"F", std::to_string(F)}};
    Settings ns = shapes, ss = shapes;
    ns["W"] = std::to_string(L);
    ns["D"] = "1";
    const Bindings bn3 = resolve_bindings(n3, ns), bs3 = resolve_bindings(s3, ss);
    ns["W0"] = ss["M0"] = std::to_string(tile);
    const Bindings bn1 = resolve_bindings(n1, ns), bs1 = resolve_bindings(s1, ss);
    const TensorMap inputs = random_inputs(s3, bs3, 100 + i, 1.0);
    for (NumberFormat f : {NumberFormat::FP64, NumberFormat::FP32, NumberFormat::BF16}) {
      const ExecutionOptions o{f, default_accumulation(f), ExpMode::Exact};
      EXPECT_EQ(execute(n3, bn3, inputs, o).at("AV").values,
                execute(s3, bs3, inputs, o).at("AV").values)
          << "L=" << L << " " << to_string(f);
      EXPECT_EQ(execute(n1, bn1, inputs, o).at("AV").values,
                execute(s1, bs1, inputs, o).at("AV").values)
          << "L=" << L << " tile=" << tile << " " << to_string(f);
    }
  }
  // 2D: a full Y x X window is full softmax over the Y*X tokens in row-major order
  // ([E][Y][X] and [E][Y*X] are the same memory).
  const Settings grid = {{"Y", "5"},  {"X", "7"},  {"E", "3"},  {"F", "2"},
                         {"WY", "5"}, {"WX", "7"}, {"DY", "1"}, {"DX", "1"}};
  const Bindings b2 = resolve_bindings(n2d, grid);
  const Bindings bs = resolve_bindings(s3, {{"P", "35"}, {"M", "35"}, {"E", "3"}, {"F", "2"}});
  const TensorMap flat = random_inputs(s3, bs, 5, 1.0);
  TensorMap gridded;
  for (const auto& [name, t] : flat) {
    Tensor g({t.extents[0], 5, 7});
    g.values = t.values;
    gridded[name] = g;
  }
  for (NumberFormat f : {NumberFormat::FP64, NumberFormat::BF16}) {
    const ExecutionOptions o{f, default_accumulation(f), ExpMode::Exact};
    EXPECT_EQ(execute(n2d, b2, gridded, o).at("AV").values,
              execute(s3, bs, flat, o).at("AV").values)
        << to_string(f);
  }
}

// The cascades' start() index functions are NATTEN's window rule: compared with the
// reference's neighborhood_window for every query, including lengths not divisible by D.
TEST(Neighborhood, WindowStartIsNattensRule) {
  const Cascade one = load("neighborhood-1d.yaml");
  const Cascade two = load("neighborhood-2d.yaml");
  const IndexExpr start1 = parse_index_expression("start(p)", SourceLocation{});
  const IndexExpr start2 = parse_index_expression("start(y, Y, WY, DY)", SourceLocation{});
  int checked = 0;
  for (int64_t L = 3; L <= 31; ++L)
    for (int64_t W = 3; W <= L; W += 2)
      for (int64_t D = 1; W * D <= L; ++D) {
        const Bindings b1 = resolve_bindings(
            one, {{"P", std::to_string(L)}, {"W", std::to_string(W)}, {"D", std::to_string(D)}});
        const Bindings b2 = resolve_bindings(
            two, {{"Y", std::to_string(L)}, {"WY", std::to_string(W)}, {"DY", std::to_string(D)}});
        for (int64_t p = 0; p < L; ++p) {
          const reference::NeighborhoodWindow w = reference::neighborhood_window(p, L, W, D);
          ASSERT_EQ(w.count(), W);
          ASSERT_EQ(w.step, D);
          ASSERT_EQ(evaluate_index(start1, one, b1, {{"p", p}}), w.first)
              << "L=" << L << " W=" << W << " D=" << D << " p=" << p;
          ASSERT_EQ(evaluate_index(start2, two, b2, {{"y", p}}), w.first)
              << "L=" << L << " W=" << W << " D=" << D << " y=" << p;
          ++checked;
        }
      }
  EXPECT_GT(checked, 3000);
  // VARIANTS.md's example: L = 7, k = 3, d = 1 gives starts 0, 0, 1, 2, 3, 4, 4.
  const Bindings b = resolve_bindings(one, {{"P", "7"}, {"W", "3"}, {"D", "1"}});
  std::vector<int64_t> starts;
  for (int64_t p = 0; p < 7; ++p) starts.push_back(evaluate_index(start1, one, b, {{"p", p}}));
  EXPECT_EQ(starts, (std::vector<int64_t>{0, 0, 1, 2, 3, 4, 4}));
}

// Dilation with a sequence length that D does not divide: the dilation groups have
// different lengths (ceil and floor of L/D) and the windows are clamped per group.
TEST(Neighborhood, DilationWithALengthNotDivisibleByD) {
  struct Case {
    const char* file;
    Settings s;
  };
  const Case cases[] = {
      {"neighborhood-1d.yaml", {{"P", "23"}, {"E", "4"}, {"F", "3"}, {"W", "5"}, {"D", "3"}}},
      {"neighborhood-1d.yaml", {{"P", "17"}, {"E", "2"}, {"F", "5"}, {"W", "3"}, {"D", "4"}}},
      {"neighborhood-1d.yaml", {{"P", "29"}, {"E", "3"}, {"F", "3"}, {"W", "7"}, {"D", "4"}}},
      {"neighborhood-1d-1pass.yaml",
       {{"P", "23"}, {"E", "4"}, {"F", "3"}, {"W", "5"}, {"D", "3"}, {"W0", "2"}}},
      {"neighborhood-1d-1pass.yaml",
       {{"P", "31"}, {"E", "4"}, {"F", "3"}, {"W", "7"}, {"D", "4"}, {"W0", "3"}}},
      {"neighborhood-1d-causal.yaml",
       {{"P", "23"}, {"E", "4"}, {"F", "3"}, {"W", "5"}, {"D", "3"}}},
      {"neighborhood-1d-causal.yaml",
       {{"P", "19"}, {"E", "4"}, {"F", "3"}, {"W", "4"}, {"D", "4"}}},
      {"neighborhood-2d.yaml",
       {{"Y", "11"},
        {"X", "14"},
        {"E", "3"},
        {"F", "2"},
        {"WY", "3"},
        {"WX", "3"},
        {"DY", "3"},
        {"DX", "4"}}},
  };
  for (const Case& k : cases) {
    const Cascade c = load(k.file);
    for (NumberFormat f : {NumberFormat::FP64, NumberFormat::FP32, NumberFormat::BF16}) {
      const CheckResult r = check(c, k.s, f, 13);
      EXPECT_TRUE(r.passed()) << k.file << " " << describe(k.s) << " " << to_string(f) << " rel "
                              << r.outputs[0].relative_error;
    }
  }
}

TEST(Neighborhood, TwoDimensionalOnNonSquareGrids) {
  const Cascade c = load("neighborhood-2d.yaml");
  for (const Settings& s : std::vector<Settings>{
           {{"Y", "4"}, {"X", "15"}, {"WY", "3"}, {"WX", "5"}, {"DY", "1"}, {"DX", "3"}},
           {{"Y", "15"}, {"X", "4"}, {"WY", "5"}, {"WX", "3"}, {"DY", "3"}, {"DX", "1"}},
           {{"Y", "9"}, {"X", "3"}, {"WY", "9"}, {"WX", "3"}, {"DY", "1"}, {"DX", "1"}}}) {
    Settings t = s;
    t["E"] = "5";
    t["F"] = "4";
    const CheckResult r = check(c, t, NumberFormat::FP64, 3);
    EXPECT_LT(r.outputs[0].max_abs_error, 1e-12) << describe(t);
    EXPECT_TRUE(check(c, t, NumberFormat::FP32, 3).passed()) << describe(t);
  }
}

TEST(Passes, Neighborhood) {
  // Keys are reached through the window rank W (K[e, start(p) + w*D]), so the softmax
  // passes are passes over W; M is never iterated.
  for (const char* file : {"neighborhood-1d.yaml", "neighborhood-1d-causal.yaml"}) {
    const Cascade c = load(file);
    EXPECT_EQ(passes_over(c, "W"), 3) << file;
    EXPECT_EQ(passes_over(c, "M"), 0) << file;
    EXPECT_EQ(passes_over(c, "P"), 1) << file;
    const PassReport report = analyze_passes(c);
    const RankPasses* w = report.find("W");
    ASSERT_NE(w, nullptr);
    ASSERT_EQ(w->causes.size(), 2u);
    EXPECT_EQ(w->causes[0].tensor, "GM");
    EXPECT_EQ(w->causes[1].tensor, "SD");
  }
  EXPECT_EQ(passes_over(load("neighborhood-1d-1pass.yaml"), "W"), 1);
  const Cascade two = load("neighborhood-2d.yaml");
  EXPECT_EQ(passes_over(two, "WY"), 3);
  EXPECT_EQ(passes_over(two, "WX"), 3);
  EXPECT_EQ(passes_over(two, "Y"), 1);
  EXPECT_EQ(passes_over(two, "X"), 1);
}

// ---------------------------------------------------------------------------------------
// Operator counts against closed forms (masked spaces counted exactly). The scale of QK
// multiplies each finished score once (mappings/README.md, "Operator counts").

TEST(OperatorCounts, NeighborhoodIsNTimesWTimesE) {
  const double E = 6, F = 5;
  for (const auto& [N, W, D] :
       std::vector<std::tuple<int64_t, int64_t, int64_t>>{{23, 5, 3}, {64, 7, 2}, {9, 9, 1}}) {
    const Settings s = {{"P", std::to_string(N)},
                        {"E", "6"},
                        {"F", "5"},
                        {"W", std::to_string(W)},
                        {"D", std::to_string(D)}};
    const double NW = static_cast<double>(N * W);
    const Counts c = count(load("neighborhood-1d.yaml"), s);
    EXPECT_EQ(c.of("QK", "mac"), NW * E);
    EXPECT_EQ(c.of("QK", "mul"), NW);  // the scale, once per score
    EXPECT_EQ(c.of("GM", "max"), NW);
    EXPECT_EQ(c.of("SN", "exp"), NW);
    EXPECT_EQ(c.of("AV", "mac"), NW * F);
    EXPECT_EQ(c.total.of("mac"), NW * (E + F));
    EXPECT_EQ(c.total.of("add") + c.total.of("sub"), 2 * NW);
    EXPECT_EQ(c.total.of("div"), NW);
    EXPECT_EQ(operator_names(c.total),
              (std::vector<std::string>{"add", "div", "exp", "mac", "max", "mul", "sub"}));

    Settings s1 = s;
    s1["W0"] = "2";
    const double W1 = std::ceil(static_cast<double>(W) / 2), n = static_cast<double>(N);
    const Counts o = count(load("neighborhood-1d-1pass.yaml"), s1);
    EXPECT_EQ(o.total.of("mac"), NW * (E + F));
    EXPECT_EQ(o.total.of("exp"), NW + n * W1);
    EXPECT_EQ(o.total.of("max"), NW + n * W1);
    EXPECT_EQ(o.total.of("div"), n * F);
    // The scale once per score (BQK), SPD and SPNV once per query and window tile.
    EXPECT_EQ(o.total.of("mul"), NW + n * W1 * (1 + F));

    // Causal: pairs with w*D <= p: sum over w < W of (N - w*D) = W*N - D*W(W-1)/2.
    const double causal_pairs = NW - static_cast<double>(D * W * (W - 1) / 2);
    const Counts k = count(load("neighborhood-1d-causal.yaml"), s);
    EXPECT_EQ(k.points.at("GM"), causal_pairs);
    EXPECT_EQ(k.total.of("mac"), causal_pairs * (E + F));
    EXPECT_EQ(k.total.of("exp"), causal_pairs);
    EXPECT_EQ(k.of("QK", "mul"), causal_pairs);
  }
  const Counts two = count(load("neighborhood-2d.yaml"), {{"Y", "10"},
                                                          {"X", "13"},
                                                          {"E", "6"},
                                                          {"F", "5"},
                                                          {"WY", "3"},
                                                          {"WX", "5"},
                                                          {"DY", "2"},
                                                          {"DX", "2"}});
  const double tokens = 10 * 13, window = 3 * 5;
  EXPECT_EQ(two.total.of("mac"), tokens * window * (E + F));
  EXPECT_EQ(two.of("QK", "mul"), tokens * window);
  EXPECT_EQ(two.total.of("exp"), tokens * window);
  EXPECT_EQ(two.total.of("max"), tokens * window);
}

// ---------------------------------------------------------------------------------------
// Parameter checks.

TEST(Requirements, NeighborhoodRejectsBadSettingsNamingThem) {
  expect_rejected({
      {"neighborhood-1d.yaml", {{"W", "4"}}, {"kernel size W", "odd", "W = 4"}},
      {"neighborhood-1d.yaml", {{"W", "1"}}, {"kernel size W", "at least 3"}},
      {"neighborhood-1d.yaml",
       {{"P", "9"}, {"W", "11"}},
       {"kernel size W", "sequence length M", "W = 11"}},
      {"neighborhood-1d.yaml", {{"P", "9"}, {"W", "5"}, {"D", "2"}}, {"W * D", "D = 2", "M = 9"}},
      {"neighborhood-1d.yaml", {{"P", "9"}, {"M", "10"}, {"W", "3"}}, {"P must equal", "M"}},
      {"neighborhood-1d.yaml", {{"D", "0"}}, {"shape D"}},
      {"neighborhood-1d-1pass.yaml", {{"W", "6"}}, {"kernel size W", "odd"}},
      {"neighborhood-1d-1pass.yaml", {{"W0", "0"}}, {"shape W0"}},
      {"neighborhood-1d-1pass.yaml", {{"W1", "2"}}, {"W1", "derived"}},
      {"neighborhood-1d-causal.yaml", {{"W", "1"}}, {"kernel size W", "at least 2"}},
      {"neighborhood-1d-causal.yaml",
       {{"P", "9"}, {"W", "10"}},
       {"kernel size W", "sequence length M"}},
      {"neighborhood-1d-causal.yaml", {{"P", "20"}, {"W", "7"}, {"D", "3"}}, {"W * D", "D = 3"}},
      {"neighborhood-2d.yaml", {{"WY", "4"}}, {"kernel size WY", "odd"}},
      {"neighborhood-2d.yaml", {{"WX", "2"}}, {"kernel size WX", "odd"}},
      {"neighborhood-2d.yaml", {{"WX", "15"}, {"DX", "1"}}, {"kernel size WX", "grid width X"}},
      {"neighborhood-2d.yaml", {{"WY", "11"}, {"DY", "1"}}, {"kernel size WY", "grid height Y"}},
      {"neighborhood-2d.yaml", {{"DY", "4"}}, {"WY * DY", "DY = 4", "Y = 10"}},
      {"neighborhood-2d.yaml", {{"DX", "3"}}, {"WX * DX", "DX = 3", "X = 13"}},
  });
}

// A window tile larger than the window is valid: one partial tile.
TEST(Requirements, WindowTilesLargerThanTheWindowAreOnePartialTile) {
  const CheckResult r =
      check(load("neighborhood-1d-1pass.yaml"), {{"P", "9"}, {"W", "5"}, {"D", "1"}, {"W0", "8"}},
            NumberFormat::FP64, 2);
  EXPECT_LT(r.outputs[0].max_abs_error, 1e-12);
}

}  // namespace
}  // namespace cascade
