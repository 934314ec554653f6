// The printer: minimal but safe parentheses, and print -> parse round trips of random trees.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

#include "mappings/cascade/parser.h"
#include "tests/mappings/cascade/ir_builders.h"

namespace cascade {
namespace {

using namespace ir_test;


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

}  // namespace
}  // namespace cascade
