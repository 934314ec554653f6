// ResidentArray (sim/systemc/resident_array.h) on its own, without the RTL (so under the
// sanitizers too): the schedule against closed forms, values against hand-computed ones,
// state kept across programs, and its errors. Its agreement with the Verilated tile is
// tests/agreement/test_rtl_resident.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "arch/support/error.h"
#include "sim/systemc/resident_array.h"

namespace cascade {
namespace {

TileStep step(TileOp op, bool flag = false, int entry = 0) {
  TileStep s;
  s.op = op, s.flag = flag, s.entry = entry;
  return s;
}

TEST(ResidentArray, ColumnResultsLeaveRowsPlusColsMinusOneCyclesAfterTheirStep) {
  ResidentArray array(3, 5, NumberFormat::BF16, ExpMode::Hardware);
  std::vector<TileStep> program(7, step(TileOp::ColSum));
  const TileProgramRun run = array.run(program);
  ASSERT_EQ(run.accepted.size(), 7u);
  ASSERT_EQ(run.results.size(), 7u);
  for (int64_t k = 0; k < 7; ++k) {
    EXPECT_EQ(run.accepted[static_cast<size_t>(k)], k);
    EXPECT_EQ(run.results[static_cast<size_t>(k)].cycle, k + 3 + 5 - 1);
  }
  EXPECT_EQ(run.cycles, 6 + 3 + 5 - 1 + 1);  // the cycle after the last result
}

TEST(ResidentArray, ExpHoldsTheInputForItsCycles) {
  for (ExpMode mode : {ExpMode::Hardware, ExpMode::Fast}) {
    const int l = mode == ExpMode::Fast ? 4 : 8;
    ResidentArray array(2, 2, NumberFormat::BF16, mode);
    const TileProgramRun run =
        array.run({step(TileOp::Exp), step(TileOp::SubExp), step(TileOp::Nop), step(TileOp::Exp)});
    EXPECT_EQ(run.accepted, (std::vector<int64_t>{0, l, 2 * l + 1, 2 * l + 2})) << to_string(mode);
    EXPECT_EQ(run.cycles, 3 * l + 2) << to_string(mode);  // no column results: the last hold
    EXPECT_TRUE(run.results.empty());
  }
}

// A tile stored in two entries, acc overwritten between, read back by column sum and max:
// the values hand-computed.
TEST(ResidentArray, EntriesKeepTilesAcrossPrograms) {
  ResidentArray array(2, 3, NumberFormat::BF16, ExpMode::Hardware);
  // acc(i, j) = a_i * b_j from +0, then narrowed into entry 5
  TileStep mac = step(TileOp::Mac, true);
  mac.a = {1.5, -2.0};
  mac.b = {1.0, 2.0, 0.5};
  array.run({mac, step(TileOp::Narrow, true, 5)});
  // acc(i, j) = 3 * 1 (another tile) into entry 2
  TileStep other = step(TileOp::Mac, true);
  other.a = {3.0, 3.0};
  other.b = {1.0, 1.0, 1.0};
  array.run({other, step(TileOp::Narrow, true, 2)});
  EXPECT_EQ(array.entry(1, 2, 5), -1.0);
  EXPECT_EQ(array.acc(1, 2), 3.0);
  const TileProgramRun run = array.run({step(TileOp::ColSum, true, 5), step(TileOp::ColMax, true, 5),
                                        step(TileOp::ColSum, true, 2), step(TileOp::ColSum)});
  ASSERT_EQ(run.results.size(), 4u);
  EXPECT_EQ(run.results[0].y, (std::vector<double>{-0.5, -1.0, -0.25}));  // 1.5 b - 2 b
  EXPECT_EQ(run.results[1].y, (std::vector<double>{1.5, 3.0, 0.75}));
  EXPECT_EQ(run.results[2].y, (std::vector<double>{6.0, 6.0, 6.0}));
  EXPECT_EQ(run.results[3].y, (std::vector<double>{6.0, 6.0, 6.0}));  // acc, without flag
}

// exp(x - b) on an entry, narrowed back into it; the column dot with a west operand; the
// narrow rounds to bf16 (nearest even) and a NaN in a max gives NaN.
TEST(ResidentArray, SubExpNarrowAndColumnDot) {
  ResidentArray array(2, 1, NumberFormat::BF16, ExpMode::Hardware);
  TileStep load = step(TileOp::Load);
  load.x = {1.0 + 0x1p-8};  // a bf16 tie: rounds to 1.0
  array.run({load, step(TileOp::Narrow, true, 0)});
  EXPECT_EQ(array.entry(0, 0, 0), 1.0);
  TileStep sub = step(TileOp::SubExp, true, 0);
  sub.x = {1.0};
  TileStep dot = step(TileOp::ColDot, true, 0);
  dot.a = {2.0, 4.0};
  const TileProgramRun run = array.run({sub, step(TileOp::Narrow, true, 0), dot});
  EXPECT_EQ(array.entry(0, 0, 0), 1.0);  // exp(1 - 1) = 1 exactly in the hardware exp
  ASSERT_EQ(run.results.size(), 1u);
  EXPECT_EQ(run.results[0].y[0], 6.0);   // 1 * 2 + 1 * 4
  TileStep nan = step(TileOp::Max);
  nan.x = {std::numeric_limits<double>::quiet_NaN()};
  array.run({nan});
  EXPECT_TRUE(std::isnan(array.acc(1, 0)));
}

TEST(ResidentArray, RefusesWhatThePeCannotDo) {
  EXPECT_THROW(ResidentArray(2, 2, NumberFormat::FP32, ExpMode::Hardware), Error);
  EXPECT_THROW(ResidentArray(2, 2, NumberFormat::BF16, ExpMode::Exact), Error);
  EXPECT_THROW(ResidentArray(2, 2, NumberFormat::BF16, ExpMode::Hardware, 17), Error);
  ResidentArray array(2, 2, NumberFormat::BF16, ExpMode::Hardware, 4);
  EXPECT_THROW(array.run({step(TileOp::ColSum, true, 4)}), Error);
  TileStep wrong = step(TileOp::Mac);
  wrong.a = {1.0, 2.0, 3.0};
  EXPECT_THROW(array.run({wrong}), Error);
  TileStep drain = step(TileOp::Mac);
  drain.sel = 0x80;
  EXPECT_THROW(array.run({drain}), Error);
  // a program with a bad step changes nothing, not even by its good steps before it
  TileStep load = step(TileOp::Load);
  load.x = {2.0, 2.0};
  EXPECT_THROW(array.run({load, step(TileOp::Narrow, true, 1), drain}), Error);
  EXPECT_EQ(array.acc(0, 0), 0.0);
  EXPECT_EQ(array.entry(0, 0, 1), 0.0);
}

}  // namespace
}  // namespace cascade
