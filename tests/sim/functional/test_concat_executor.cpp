// The functional executor on concat (mappings/README.md, "Concatenation"): a two-part
// concatenation of different sizes element by element, and the shipped Hedgehog-like
// linear attention (configs/cascades/linear-hedgehog.yaml) against the same attention
// computed here in plain fp64 loops straight from its formula.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "mappings/cascade/parser.h"
#include "sim/functional/executor.h"

namespace cascade {
namespace {

Tensor random_tensor(std::vector<int64_t> extents, std::mt19937_64& rng) {
  Tensor t(std::move(extents));
  std::normal_distribution<double> normal(0.0, 1.0);
  for (double& v : t.values) v = normal(rng);
  return t;
}

TEST(ConcatExecutor, EachElementIsItsPartsValue) {
  const Cascade c = parse_cascade_text(R"(name: cat
inputs:
  A: [D, P]
  B: [E, P]
concat:
  J: [D, E]
shapes: {D: 3, E: 5, P: 4}
einsums: |
  X[j, p] = concat(j: A[d, p] * 2, -B[e, p] + index(e))
  S[p] = X[j, p]
outputs: [X, S]
)", "cat.yaml");
  for (const auto& [d, e] : {std::pair{3, 5}, std::pair{1, 1}, std::pair{7, 2}}) {
    const Bindings b =
        resolve_bindings(c, {{"D", std::to_string(d)}, {"E", std::to_string(e)}});
    std::mt19937_64 rng(d * 10 + e);
    TensorMap in = {{"A", random_tensor({d, 4}, rng)}, {"B", random_tensor({e, 4}, rng)}};
    const TensorMap out = execute(c, b, in, {});
    ASSERT_EQ(out.at("X").extents, (std::vector<int64_t>{d + e, 4}));
    for (int64_t p = 0; p < 4; ++p) {
      double sum = 0;
      for (int64_t j = 0; j < d + e; ++j) {
        const double want = j < d ? in.at("A").at({j, p}) * 2
                                  : -in.at("B").at({j - d, p}) + static_cast<double>(j - d);
        EXPECT_EQ(out.at("X").at({j, p}), want) << "j=" << j << " p=" << p;
        sum += want;
      }
      EXPECT_NEAR(out.at("S").at({p}), sum, 1e-12 * (1 + std::fabs(sum)));
    }
  }
}

// softmax over d of s[0..D), in fp64.
std::vector<double> softmax(const std::vector<double>& s) {
  const double top = *std::max_element(s.begin(), s.end());
  std::vector<double> out;
  double sum = 0;
  for (double x : s) sum += std::exp(x - top);
  for (double x : s) out.push_back(std::exp(x - top) / sum);
  return out;
}

// phi(x) = [softmax(W x), softmax(-W x)] for column `col` of X [E, N].
std::vector<double> phi(const Tensor& w, const Tensor& x, int64_t col) {
  const int64_t d_count = w.extents[0], e_count = w.extents[1];
  std::vector<double> pos(d_count), neg(d_count);
  for (int64_t d = 0; d < d_count; ++d) {
    double s = 0;
    for (int64_t e = 0; e < e_count; ++e) s += w.at({d, e}) * x.at({e, col});
    pos[d] = s;
    neg[d] = -s;
  }
  std::vector<double> out = softmax(pos);
  const std::vector<double> second = softmax(neg);
  out.insert(out.end(), second.begin(), second.end());
  return out;
}

TEST(ConcatExecutor, HedgehogLinearAttentionMatchesItsFormulaInFp64) {
  const Cascade c = parse_cascade_file(std::string(CASCADE_SOURCE_DIR) +
                                       "/configs/cascades/linear-hedgehog.yaml");
  struct Shape { int64_t P, M, E, F, D; };
  for (const Shape s : {Shape{64, 64, 16, 16, 8}, Shape{7, 13, 5, 3, 1}, Shape{20, 9, 4, 6, 11}}) {
    const Bindings b = resolve_bindings(
        c, {{"P", std::to_string(s.P)}, {"M", std::to_string(s.M)}, {"E", std::to_string(s.E)},
            {"F", std::to_string(s.F)}, {"D", std::to_string(s.D)}});
    std::mt19937_64 rng(s.P * 1000 + s.D);
    TensorMap in = {{"Q", random_tensor({s.E, s.P}, rng)}, {"K", random_tensor({s.E, s.M}, rng)},
                    {"V", random_tensor({s.F, s.M}, rng)}, {"W", random_tensor({s.D, s.E}, rng)}};
    const TensorMap out = execute(c, b, in, {});
    const Tensor& av = out.at("AV");
    // y_p = sum_m (phi(q_p) . phi(k_m)) v_m / sum_m phi(q_p) . phi(k_m), quadratic form.
    std::vector<std::vector<double>> phik;
    for (int64_t m = 0; m < s.M; ++m) phik.push_back(phi(in.at("W"), in.at("K"), m));
    double worst = 0;
    for (int64_t p = 0; p < s.P; ++p) {
      const std::vector<double> q = phi(in.at("W"), in.at("Q"), p);
      std::vector<double> num(s.F, 0.0);
      double den = 0;
      for (int64_t m = 0; m < s.M; ++m) {
        double a = 0;
        for (size_t j = 0; j < q.size(); ++j) a += q[j] * phik[m][j];
        den += a;
        for (int64_t f = 0; f < s.F; ++f) num[f] += a * in.at("V").at({f, m});
      }
      for (int64_t f = 0; f < s.F; ++f) {
        const double want = num[f] / den;
        worst = std::max(worst, std::fabs(av.at({f, p}) - want) / (1 + std::fabs(want)));
      }
    }
    EXPECT_LT(worst, 1e-12) << "P=" << s.P << " M=" << s.M << " D=" << s.D;
  }
}

}  // namespace
}  // namespace cascade
