// IndexProgram, the one evaluator of index expressions: values against hand-computed ones,
// the order and locations of its errors, shapes from a lookup, and tile extents against
// brute force over every index of the shipped cascades.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <random>
#include <set>

#include "tests/support/error_of.h"
#include "mappings/cascade/index_program.h"
#include "mappings/cascade/parser.h"

namespace cascade {
namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = CASCADE_SOURCE_DIR;

using testing_support::error_of;

IndexExpr parse_at(const std::string& text, int line = 1) {
  return parse_index_expression(text, SourceLocation{"t", line, 1});
}

// NATTEN's window rule (configs/cascades/neighborhood-1d.yaml) over M = 10, W = 3, D = 2.
Cascade windows() {
  return parse_cascade_text(R"yaml(name: windows
inputs: {Q: [E, P], K: [E, M]}
shapes: {P: 10, M: P, E: 2, W: 3, D: 2, M0: 4}
index_functions:
  "glen(p)": "(M - p % D + D - 1) / D"
  "start(p)": "p % D + (clamp(p / D, W / 2, glen(p) - 1 - W / 2) - W / 2) * D"
einsums: |
  X[w, p] = Q[e, p] * K[e, start(p) + w*D]
outputs: [X]
)yaml",
                            "windows.yaml");
}

const std::map<std::string, int> kSlots = {{"p", 0}, {"w", 1}, {"m1", 2}, {"m0", 3}};

class Programs : public testing::Test {
 protected:
  Cascade c = windows();
  Bindings b = resolve_bindings(c, {});
  IndexProgram compile(const std::string& text) {
    return IndexProgram(parse_at(text), c, b, kSlots);
  }
  // Both evaluation modes must agree; returns their value.
  int64_t value(const std::string& text, std::vector<int64_t> slots) {
    slots.resize(kSlots.size(), 0);
    const IndexProgram program = compile(text);
    const int64_t checked = program.evaluate_checked(slots.data());
    EXPECT_EQ(program.evaluate(slots.data()), checked) << text;
    return checked;
  }
};

TEST_F(Programs, FloorDivisionAndNonNegativeModulo) {
  EXPECT_EQ(value("p / 2", {-7}), -4);
  EXPECT_EQ(value("p / -2", {7}), -4);
  EXPECT_EQ(value("p / -2", {-7}), 3);
  EXPECT_EQ(value("p / 2", {-6}), -3);
  EXPECT_EQ(value("p % 3", {-7}), 2);
  EXPECT_EQ(value("p % -3", {-7}), 2);  // the remainder is never negative
  EXPECT_EQ(value("p % -3", {7}), 1);
  EXPECT_EQ(value("p % 3", {-6}), 0);
  EXPECT_EQ(value("-(p % 3)", {7}), -1);
  EXPECT_EQ(value("(p - 9) / M0 + (p - 9) % M0", {0}), -3 + 3);
  EXPECT_EQ(value("m1*M0 + m0", {0, 0, 2, 3}), 11);
}

TEST_F(Programs, BuiltinsAndUserFunctions) {
  EXPECT_EQ(value("clamp(p, 0, 5)", {10}), 5);
  EXPECT_EQ(value("clamp(p, 0, 5)", {-3}), 0);
  EXPECT_EQ(value("clamp(p, 0, 5)", {3}), 3);
  EXPECT_EQ(value("min(p, -4) + max(p, -4)", {3}), -1);
  // glen(p) = ceil((10 - p%2) / 2) = 5 for both groups; start(p): group p%2, window of 3
  // around p/2 clamped to [1, 3], minus 1, times 2.
  EXPECT_EQ(value("glen(p)", {0}), 5);
  EXPECT_EQ(value("glen(p)", {7}), 5);
  const int64_t starts[10] = {0, 1, 0, 1, 2, 3, 4, 5, 4, 5};
  for (int64_t p = 0; p < 10; ++p) EXPECT_EQ(value("start(p)", {p}), starts[p]) << p;
  EXPECT_EQ(value("start(p) + w*D", {9, 2}), 9);
}

TEST_F(Programs, ShapesFoldAndAffineFormsAreFound) {
  const IndexProgram tiled = compile("m1*M0 + m0");
  ASSERT_TRUE(tiled.affine());
  EXPECT_EQ(tiled.coefficient(2), 4);
  EXPECT_EQ(tiled.coefficient(3), 1);
  EXPECT_EQ(tiled.constant(), 0);
  EXPECT_EQ(tiled.slots_used(), (std::vector<int>{2, 3}));
  const IndexProgram shifted = compile("p - W/2 + (M - 1) % 4");  // constants fold
  ASSERT_TRUE(shifted.affine());
  EXPECT_EQ(shifted.constant(), -1 + 1);
  EXPECT_FALSE(compile("start(p)").affine());
  EXPECT_FALSE(compile("p * w").affine());
  EXPECT_FALSE(compile("p / 2").affine());
  // An affine coefficient that overflows leaves the program to the checked sweep.
  const IndexProgram huge = compile("p * 9223372036854775807 * 2");
  EXPECT_FALSE(huge.affine());
  const int64_t one[4] = {1, 0, 0, 0};
  EXPECT_NE(error_of([&] { huge.evaluate(one); }).message().find("integer overflow"),
            std::string::npos);
}

TEST_F(Programs, ErrorsCarryTheOperatorsLocation) {
  const int64_t zero[4] = {0, 0, 0, 0};
  auto error = [&](const std::string& text) {
    return error_of([&] { compile(text).evaluate_checked(zero); });
  };
  Error e = error("p + 1 / p");
  EXPECT_EQ(e.message(), "division by zero in '1/p'");
  EXPECT_EQ(e.where().str(), "t:1:7");  // the '/'

  e = error("M0 % (p * 3)");
  EXPECT_EQ(e.message(), "modulo by zero in 'M0 % (p*3)'");
  EXPECT_EQ(e.where().str(), "t:1:4");
  e = error("clamp(p, 3, 1)");
  EXPECT_EQ(e.message(), "clamp(x, lo, hi) with lo = 3 > hi = 1");
  EXPECT_EQ(error("9223372036854775807 + 1").message(),
            "integer overflow in index expression '9223372036854775807 + 1'");
  EXPECT_EQ(error("q + 1").message(), "variable 'q' has no value here");
  EXPECT_EQ(error("q + 1").where().str(), "t:1:1");
  EXPECT_EQ(error("N").message(), "unknown shape 'N'");
  EXPECT_EQ(error("nothing(p)").message(), "unknown index function 'nothing'");
  EXPECT_EQ(error("start(p, p)").message(), "start takes 1 argument, got 2");
  EXPECT_EQ(error("min(p)").message(), "min takes 2 arguments, got 1");
  // Errors come in evaluation order, whether found while compiling or while evaluating.
  EXPECT_EQ(error("1/p + N").message(), "division by zero in '1/p'");
  EXPECT_EQ(error("N + 1/p").message(), "unknown shape 'N'");
  // A program that never evaluates raises nothing; one that does, every time.
  const IndexProgram bad = compile("N + 1");
  EXPECT_THROW(bad.evaluate(zero), Error);
  EXPECT_THROW(bad.evaluate(zero), Error);
}

// Random expressions over the slots, shapes and functions: the fast (affine) path and the
// checked sweep give the same value wherever the checked one is defined.
IndexExpr random_index(std::mt19937& rng, int depth) {
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  IndexExpr e;
  switch (pick(depth <= 0 ? 3 : 9)) {
    case 0: e.op = IndexOp::Constant; e.value = pick(13) - 6; return e;
    case 1:
      e.op = IndexOp::Variable;
      e.name = std::vector<std::string>{"p", "w", "m1", "m0"}[pick(4)];
      return e;
    case 2:
      e.op = IndexOp::Symbol;
      e.name = std::vector<std::string>{"M", "W", "D", "M0"}[pick(4)];
      return e;
    case 3: e.op = IndexOp::Neg; e.args = {random_index(rng, depth - 1)}; return e;
    case 4:
      e.op = IndexOp::Call;
      e.name = std::vector<std::string>{"min", "max", "start", "glen"}[pick(4)];
      for (int i = 0, n = e.name == "min" || e.name == "max" ? 2 : 1; i < n; ++i)
        e.args.push_back(random_index(rng, depth - 1));
      return e;
    default: {
      const IndexOp ops[] = {IndexOp::Add, IndexOp::Sub, IndexOp::Mul, IndexOp::Add,
                             IndexOp::Sub, IndexOp::Div, IndexOp::Mod};
      e.op = ops[pick(7)];
      e.args = {random_index(rng, depth - 1), random_index(rng, depth - 1)};
      return e;
    }
  }
}

TEST_F(Programs, FastPathAgreesWithTheCheckedSweep) {
  std::mt19937 rng(5);
  int affine = 0, compared = 0;
  for (int i = 0; i < 20000; ++i) {
    const IndexExpr e = random_index(rng, 1 + i % 4);
    const IndexProgram program(e, c, b, kSlots);
    affine += program.affine();
    for (int trial = 0; trial < 4; ++trial) {
      const int64_t slots[4] = {std::uniform_int_distribution<int64_t>(-3, 12)(rng),
                                std::uniform_int_distribution<int64_t>(0, 4)(rng),
                                std::uniform_int_distribution<int64_t>(0, 3)(rng),
                                std::uniform_int_distribution<int64_t>(-2, 5)(rng)};
      int64_t checked = 0;
      try {
        checked = program.evaluate_checked(slots);
      } catch (const Error&) {
        continue;  // undefined here (division by zero, clamp with lo > hi)
      }
      ASSERT_EQ(program.evaluate(slots), checked) << print_index(e);
      ++compared;
    }
  }
  EXPECT_GT(affine, 5000);
  EXPECT_GT(compared, 50000);
}

TEST(IndexProgram, RecursionStopsAtTheCallDepthLimit) {
  Cascade c;  // built in code: validate() would reject the recursion
  IndexFunction f;
  f.name = "down";
  f.params = {"x"};
  f.body = parse_at("down(x - 1) + 1", 7);
  c.index_functions.push_back(f);
  const Error e = error_of(
      [&] { IndexProgram(parse_at("down(3)"), c, Bindings{}, {}).evaluate_checked(nullptr); });
  EXPECT_EQ(e.message(), "index functions call each other too deeply (recursion?)");
  EXPECT_EQ(e.where().str(), "t:7:1");  // the call inside the body
}

TEST(IndexProgram, ShapesThroughALookup) {
  const Cascade c = windows();
  std::vector<std::string> asked;
  const ShapeLookup lookup = [&](const std::string& name, const SourceLocation& use) -> int64_t {
    asked.push_back(name);
    if (name == "B") throw Error(use, "shape B is not set");
    return name == "W" ? 5 : name == "M" ? 20 : 2;
  };
  EXPECT_EQ(IndexProgram(parse_at("W * D + start(1)"), c, lookup, {}).evaluate_checked(nullptr),
            5 * 2 + 1);
  // Lookups happen once per use, in evaluation order (a default naming unresolved shapes).
  EXPECT_EQ(asked, (std::vector<std::string>{"W", "D", "D", "D", "W", "M", "D", "D", "D", "W",
                                             "W", "D"}));
  const Error e = error_of(
      [&] { IndexProgram(parse_at("W + B", 4), c, lookup, {}).evaluate_checked(nullptr); });
  EXPECT_EQ(e.message(), "shape B is not set");
  EXPECT_EQ(e.where().str(), "t:4:5");
}

// ---------------------------------------------------------------------------------------
// Extents against brute force: every read and write index of every shipped cascade, over
// random tiles [0, e(v)) of its variables.

struct Tally {
  int64_t distinct = 0;  // distinct values over the tile
  int64_t span = 0;      // max - min + 1
};

Tally brute_force(const IndexProgram& program, const std::vector<int64_t>& extents) {
  std::vector<int64_t> point(extents.size(), 0);
  std::set<int64_t> seen;
  while (true) {
    seen.insert(program.evaluate_checked(point.data()));
    size_t d = 0;
    while (d < point.size() && ++point[d] == extents[d]) point[d++] = 0;
    if (d == point.size()) break;
  }
  return {static_cast<int64_t>(seen.size()), *seen.rbegin() - *seen.begin() + 1};
}

struct ShippedIndex {
  std::string where;  // cascade: index
  IndexProgram program;
  std::vector<int64_t> shapes;  // per slot: the rank's extent
};

std::vector<ShippedIndex> shipped_indices() {
  std::vector<ShippedIndex> out;
  for (const auto& entry : fs::directory_iterator(kSourceDir + "/configs/cascades")) {
    const Cascade c = parse_cascade_file(entry.path().string());
    std::map<std::string, std::string> small = {{"P", "24"}, {"M", "24"}, {"E", "3"}, {"F", "3"}};
    for (auto it = small.begin(); it != small.end();) {  // only shapes this cascade has
      bool known = false;
      for (const TensorDecl& t : c.inputs)
        known = known || std::count(t.ranks.begin(), t.ranks.end(), it->first) > 0;
      it = known ? std::next(it) : small.erase(it);
    }
    const Bindings b = resolve_bindings(c, small);
    for (const Einsum& e : c.einsums) {
      std::vector<const Expr*> reads;
      collect_reads(e.value, reads);
      std::vector<const IndexExpr*> indices;
      for (const IndexExpr& i : e.output_indices) indices.push_back(&i);
      for (const Expr* r : reads)
        for (const IndexExpr& i : r->indices) indices.push_back(&i);
      for (const IndexExpr* i : indices) {
        std::vector<std::string> vars;
        index_variables(*i, vars);
        std::map<std::string, int> slots;
        std::vector<int64_t> shapes;
        for (const std::string& v : vars) {
          slots[v] = static_cast<int>(shapes.size());
          shapes.push_back(b.shape(rank_of_variable(v)));
        }
        out.push_back({c.name + ": " + print_index(*i), IndexProgram(*i, c, b, slots), shapes});
      }
    }
  }
  return out;
}

TEST(IndexExtent, ExactForAffineIndicesOfTheShippedCascades) {
  std::mt19937 rng(2024);
  int affine = 0, trials = 0, exact = 0;
  for (const ShippedIndex& s : shipped_indices()) {
    if (!s.program.affine()) continue;
    ++affine;
    for (int trial = 0; trial < 40; ++trial) {
      std::vector<int64_t> e;
      std::vector<double> ext;
      for (int64_t shape : s.shapes) {
        e.push_back(std::uniform_int_distribution<int64_t>(1, std::min<int64_t>(shape, 9))(rng));
        ext.push_back(static_cast<double>(e.back()));
      }
      const Tally t = brute_force(s.program, e);
      const double extent = s.program.extent(ext.data());
      // The extent is the interval the tile's values lie in: exactly its span, and no fewer
      // than its distinct values (m1*M0 + m0 over a partial m0 tile leaves gaps).
      EXPECT_EQ(extent, static_cast<double>(t.span)) << s.where;
      EXPECT_LE(t.distinct, t.span) << s.where;
      exact += t.distinct == t.span;
      ++trials;
    }
  }
  EXPECT_GE(affine, 20);  // plain variables, m1 + 1, t*B + b, m1*M0 + m0
  EXPECT_GT(exact, trials * 9 / 10);  // most tiles have no gaps: the span is the count
}

// Through / and % the rules assume a tile that starts at a multiple of the divisor (p / B
// over [15, 17) takes two values, the rule says one), so the bound is checked for tiles at
// the origin, as the loop-nest analysis sizes them.
TEST(IndexExtent, UpperBoundForTheShippedWindowAndBlockIndices) {
  std::mt19937 rng(99);
  std::set<std::string> seen;
  for (const ShippedIndex& s : shipped_indices()) {
    if (s.program.affine()) continue;
    seen.insert(s.where.substr(s.where.find(": ") + 2));
    for (int trial = 0; trial < 60; ++trial) {
      std::vector<int64_t> e;
      std::vector<double> ext;
      for (int64_t shape : s.shapes) {
        e.push_back(std::uniform_int_distribution<int64_t>(1, std::min<int64_t>(shape, 12))(rng));
        ext.push_back(static_cast<double>(e.back()));
      }
      const Tally t = brute_force(s.program, e);
      EXPECT_GE(s.program.extent(ext.data()), static_cast<double>(t.distinct)) << s.where;
    }
  }
  // start(p) + w*D (1D and 2D windows, causal or not), p / B and p % B (lightning's AV).
  EXPECT_TRUE(seen.count("p/B") && seen.count("p % B")) << testing::PrintToString(seen);
  EXPECT_GE(seen.size(), 4u) << testing::PrintToString(seen);
}

TEST_F(Programs, ExtentRules) {
  auto extent = [&](const std::string& text, std::vector<double> ext) {
    ext.resize(kSlots.size(), 1);
    return compile(text).extent(ext.data());
  };
  EXPECT_EQ(extent("7", {}), 1);
  EXPECT_EQ(extent("p + w", {5, 3}), 7);
  EXPECT_EQ(extent("p - w", {5, 3}), 7);
  EXPECT_EQ(extent("-3 * p", {5}), 13);
  EXPECT_EQ(extent("p * w", {5, 3}), 15);
  EXPECT_EQ(extent("p / M0", {9}), 3);
  EXPECT_EQ(extent("p / -2", {9}), 9);  // only a positive divisor narrows
  EXPECT_EQ(extent("p % M0", {9}), 4);
  EXPECT_EQ(extent("p % M0", {3}), 3);
  EXPECT_EQ(extent("min(p, w)", {5, 3}), 5);
  EXPECT_EQ(extent("clamp(p, 0, w)", {5, 8}), 8);
  EXPECT_EQ(extent("m1*M0 + m0", {1, 1, 3, 4}), 12);
  EXPECT_EQ(extent("p * ((M - 1) % 4)", {5}), 5);  // a folded constant: (10-1) % 4 = 1
  EXPECT_EQ(extent("glen(p) * 0 + p", {6}), 6);
}

}  // namespace
}  // namespace cascade
