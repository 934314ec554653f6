// Concatenation along a rank: `concat: {J: [D, E]}` and concat(j: part, ...) — the IR the
// parser builds, printing and its round trip, validation errors at exact locations, and
// the derived shape J = D + E (mappings/README.md, "Concatenation").
#include <gtest/gtest.h>

#include <string>

#include "mappings/cascade/parser.h"
#include "tests/support/error_of.h"

namespace cascade {
namespace {

using testing_support::error_of;

Cascade parse(const std::string& text) { return parse_cascade_text(text, "test.yaml"); }

// Two parts of different ranks, so the offsets of part 2 are visible (D = 3, E = 5).
std::string cascade_with(const std::string& einsum, const std::string& concat = "J: [D, E]") {
  return "name: cat\ninputs:\n  A: [D, P]\n  B: [E, P]\nconcat:\n  " + concat +
         "\nshapes: {D: 3, E: 5, P: 4}\neinsums: |\n  " + einsum + "\noutputs: [X]\n";
}
const std::string kEinsum = "X[j, p] = concat(j: A[d, p] * 2, -B[e, p])";

TEST(Concat, ParsesIntoOneNodeWithThePartsVariables) {
  const Cascade c = parse(cascade_with(kEinsum));
  ASSERT_EQ(c.concatenations.size(), 1u);
  EXPECT_EQ(c.concatenations[0].rank, "J");
  EXPECT_EQ(c.concatenations[0].parts, (std::vector<std::string>{"D", "E"}));
  const Expr& e = c.einsums[0].value;
  ASSERT_EQ(e.op, ExprOp::Concat);
  ASSERT_EQ(e.indices.size(), 1u);
  EXPECT_EQ(e.indices[0].op, IndexOp::Variable);
  EXPECT_EQ(e.indices[0].name, "j");
  EXPECT_EQ(e.reduce_vars, (std::vector<std::string>{"d", "e"}));  // from the declaration
  ASSERT_EQ(e.args.size(), 2u);
  EXPECT_EQ(e.args[0].op, ExprOp::Mul);
  EXPECT_EQ(e.args[1].op, ExprOp::Neg);
  // X's rank is the concatenation.
  EXPECT_EQ(c.find_tensor("X")->ranks, (std::vector<std::string>{"J", "P"}));
}

TEST(Concat, PrintsAndRoundTrips) {
  const Cascade c = parse(cascade_with(kEinsum));
  EXPECT_EQ(print_expr(c.einsums[0].value), "concat(j: A[d, p] * 2, -B[e, p])");
  const std::string printed = print_cascade(c);
  EXPECT_NE(printed.find("concat:\n  J: [D, E]\n"), std::string::npos) << printed;
  const Cascade again = parse(printed);
  EXPECT_EQ(again, c);
  EXPECT_EQ(print_cascade(again), printed);
  // A concat inside arithmetic keeps no parentheses it does not need.
  const Cascade d = parse(cascade_with("X[j, p] = 2 * concat(j: A[d, p], B[e, p] + 1) - 1"));
  EXPECT_EQ(print_expr(d.einsums[0].value), "2 * concat(j: A[d, p], B[e, p] + 1) - 1");
  EXPECT_EQ(parse(print_cascade(d)), d);
}

TEST(Concat, TheConcatenatedShapeIsTheSumOfItsParts) {
  const Cascade c = parse(cascade_with(kEinsum));
  EXPECT_EQ(resolve_bindings(c, {}).shape("J"), 3 + 5);
  EXPECT_EQ(resolve_bindings(c, {{"D", "10"}, {"E", "7"}}).shape("J"), 17);
  const Error set = error_of([&] { resolve_bindings(c, {{"J", "8"}}); });
  EXPECT_NE(set.message().find("shape J is derived (J = D + E"), std::string::npos)
      << set.message();
  const Error huge = error_of(
      [&] { resolve_bindings(c, {{"D", "9223372036854775807"}, {"E", "2"}}); });
  EXPECT_NE(huge.message().find("too large"), std::string::npos) << huge.message();
}

struct Bad {
  std::string einsum, concat;
  int line, column;
  std::string fragment;
};

TEST(Concat, ErrorsAtTheOffendingToken) {
  // The Einsum is on line 9, indented by two: its column 1 is the file's column 3.
  const std::vector<Bad> cases = {
      {"X[j, p] = concat(j: A[d, p])", "J: [D, E]", 9, 13, "takes 2 parts, one per part of 'J: [D, E]', got 1"},
      {"X[j, p] = concat(j: A[d, p], B[e, p], A[d, p])", "J: [D, E]", 9, 41, "got 3"},
      {"X[j, p] = concat(j: A[e, p], B[e, p])", "J: [D, E]", 9, 25,
       "has rank D at position 1 but is read there with variable e"},
      {"X[j, p] = concat(j: A[d, p], B[e, p]) + A[d, p]", "J: [D, E]", 9, 45, "bound by the concat"},
      {"X[j, d] = concat(j: A[d, p], B[e, p])", "J: [D, E]", 9, 23,
       "part 1 of the concat over J ('J: [D, E]') binds d (the position in D), which is also an "
       "output index of X"},
      {"X[j, p] = concat(j: concat(j: A[d, p], B[e, p]), B[e, p])", "J: [D, E]", 9, 33,
       "binds d (the position in D), which an enclosing reduction or concat binds"},
      {"X[j, p] = concat(j A[d, p], B[e, p])", "J: [D, E]", 9, 22,
       "expected ':' after the concat variable 'j'"},
      {"X[j, p] = concat(j: A[d, p], B[e, p]", "J: [D, E]", 9, 39, "expected ')' to close"},
      {"X[j, p] = concat(j: A[d, p], B[e, p])", "J: [J, E]", 6, 3, "cannot be a part of its own"},
      {"X[j, p] = concat(j: A[d, p], B[e, p])", "J: [D]", 6, 6, "at least two part ranks"},
      {"X[j, p] = concat(j: A[d, p], B[e, p])", "J: [D, P0]", 6, 3, "part P0 of the concatenation J is not a known rank"},
  };
  for (const Bad& b : cases) {
    const Error e = error_of([&] { parse(cascade_with(b.einsum, b.concat)); });
    EXPECT_EQ(e.where().line, b.line) << b.einsum << ": " << e.what();
    EXPECT_EQ(e.where().column, b.column) << b.einsum << ": " << e.what();
    EXPECT_NE(e.message().find(b.fragment), std::string::npos) << b.einsum << ": " << e.what();
  }
}

TEST(Concat, ParameterDefaultsCannotConcat) {
  const std::string text = "name: c\ninputs:\n  A: [D]\nconcat:\n  J: [D, D]\nshapes: {D: 2}\n"
                           "parameters:\n  s: \"concat(j: 1, 2)\"\neinsums: |\n  X[d] = A[d] * s\n"
                           "outputs: [X]\n";
  const Error e = error_of([&] { parse(text); });
  EXPECT_NE(e.message().find("cannot contain a concat"), std::string::npos) << e.what();
  EXPECT_EQ(e.where().line, 8);
}

}  // namespace
}  // namespace cascade
