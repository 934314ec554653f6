// The per-PE systolic array (sim/systemc/systolic.h): its cycles equal the wavefront closed
// forms for every dataflow, with folds one after another and overlapped, on many shapes; its
// values equal a sequential GEMM in ascending k with the executor's rounding (a product
// rounded to the accumulation format, then the sum), bit for bit.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "sim/functional/number_format.h"
#include "sim/systemc/systolic.h"

namespace cascade {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

GemmOperands random_gemm(int64_t m, int64_t n, int64_t k, NumberFormat storage, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  GemmOperands g;
  g.m = m, g.n = n, g.k = k;
  for (int64_t i = 0; i < m * k; ++i) g.a.push_back(round_to(storage, normal(rng)));
  for (int64_t i = 0; i < k * n; ++i) g.b.push_back(round_to(storage, normal(rng)));
  return g;
}

// The reference: for each output, acc = round(acc + round(a * b)) over k ascending from 0.
std::vector<double> sequential_gemm(const GemmOperands& g, NumberFormat acc_format) {
  std::vector<double> c(static_cast<size_t>(g.m * g.n));
  for (int64_t i = 0; i < g.m; ++i)
    for (int64_t j = 0; j < g.n; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < g.k; ++k)
        acc = round_to(acc_format, acc + round_to(acc_format, g.a[i * g.k + k] * g.b[k * g.n + j]));
      c[i * g.n + j] = acc;
    }
  return c;
}

struct Shape {
  int64_t rows, cols, m, n, k;
};

// The closed form's R, C, T and folds of a GEMM for each dataflow (systolic.h).
double closed_form(Dataflow d, const Shape& s, bool overlap) {
  if (d == Dataflow::OutputStationary) {
    const int64_t r = std::min(s.rows, s.m), c = std::min(s.cols, s.n);
    return systolic_cycles(r, c, static_cast<double>(s.k), ceil_div(s.m, r) * ceil_div(s.n, c),
                           overlap);
  }
  const int64_t streamed = d == Dataflow::WeightStationary ? s.m : s.n;
  const int64_t across = d == Dataflow::WeightStationary ? s.n : s.m;
  const int64_t r = std::min(s.rows, s.k), c = std::min(s.cols, across);
  return systolic_cycles(r, c, static_cast<double>(streamed),
                         ceil_div(s.k, r) * ceil_div(across, c), overlap);
}

TEST(SystolicClosedForm, StandardSingleFoldCounts) {
  // One 256 x 256 fold of K = 64: 2R + C + K - 2 (SCALE-Sim's count).
  EXPECT_EQ(systolic_cycles(256, 256, 64, 1, false), 2 * 256 + 256 + 64 - 2);
  // 1024 x 1024 x 64 on 256 x 256, output stationary: 16 folds.
  EXPECT_EQ(systolic_cycles(256, 256, 64, 16, false), 16 * 830);
  // Overlapped: a fold every max(T, R) cycles after the first.
  EXPECT_EQ(systolic_cycles(256, 256, 64, 16, true), 15 * 256 + 830);
  EXPECT_EQ(systolic_cycles(16, 16, 300, 4, true), 3 * 300 + 2 * 16 + 16 + 300 - 2);
}

TEST(SystolicArray, CyclesEqualTheClosedFormsAndValuesTheSequentialGemm) {
  const std::vector<Shape> shapes = {
      {4, 4, 4, 4, 1},    {4, 4, 4, 4, 7},     {4, 4, 8, 8, 3},   {4, 4, 9, 5, 13},
      {3, 5, 7, 11, 2},   {16, 16, 16, 16, 64}, {16, 16, 40, 33, 17}, {8, 16, 64, 20, 5},
      {16, 8, 5, 70, 40}, {32, 32, 64, 64, 32}, {1, 1, 3, 4, 5},   {5, 1, 6, 2, 9}};
  int checked = 0;
  for (const Shape& s : shapes)
    for (Dataflow d : {Dataflow::OutputStationary, Dataflow::WeightStationary,
                       Dataflow::InputStationary})
      for (bool overlap : {false, true})
        for (NumberFormat storage : {NumberFormat::FP32, NumberFormat::BF16}) {
          SCOPED_TRACE(std::string(to_string(d)) + (overlap ? " overlapped " : " ") +
                       std::to_string(s.rows) + "x" + std::to_string(s.cols) + " M" +
                       std::to_string(s.m) + " N" + std::to_string(s.n) + " K" +
                       std::to_string(s.k) + " " + to_string(storage));
          const GemmOperands g = random_gemm(s.m, s.n, s.k, storage, 7 + checked);
          SystolicArray array(s.rows, s.cols, NumberFormat::FP32);
          const SystolicRun run = array.run(d, g, overlap);
          EXPECT_EQ(static_cast<double>(run.cycles), closed_form(d, s, overlap));
          EXPECT_EQ(run.macs, s.m * s.n * s.k);
          const std::vector<double> want = sequential_gemm(g, NumberFormat::FP32);
          ASSERT_EQ(run.c.size(), want.size());
          for (size_t i = 0; i < want.size(); ++i)
            ASSERT_EQ(std::memcmp(&run.c[i], &want[i], sizeof(double)), 0)
                << "output " << i << ": " << run.c[i] << " vs " << want[i];
          ++checked;
        }
  EXPECT_EQ(checked, 12 * 3 * 2 * 2);
}

// A reduction order other than ascending k changes fp32 results: the comparison above can
// tell a reordered sum (what a reduction tree would give) from the systolic one.
TEST(SystolicArray, TheValueCheckSeesAnotherSummationOrder) {
  const GemmOperands g = random_gemm(4, 4, 64, NumberFormat::FP32, 99);
  const std::vector<double> ascending = sequential_gemm(g, NumberFormat::FP32);
  GemmOperands reversed = g;
  for (int64_t i = 0; i < g.m; ++i)
    for (int64_t k = 0; k < g.k; ++k) reversed.a[i * g.k + k] = g.a[i * g.k + (g.k - 1 - k)];
  for (int64_t k = 0; k < g.k; ++k)
    for (int64_t j = 0; j < g.n; ++j) reversed.b[k * g.n + j] = g.b[(g.k - 1 - k) * g.n + j];
  const std::vector<double> descending = sequential_gemm(reversed, NumberFormat::FP32);
  int differ = 0;
  for (size_t i = 0; i < ascending.size(); ++i) differ += ascending[i] != descending[i];
  EXPECT_GT(differ, 0);
}

}  // namespace
}  // namespace cascade
