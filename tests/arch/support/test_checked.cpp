// Checked arithmetic on user-given sizes: results that fit are exact, the rest an Error
// naming the quantity.
#include "arch/support/checked.h"

#include <gtest/gtest.h>

#include <limits>

namespace cascade {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(Checked, MultiplyAndAddThatFitAreExact) {
  EXPECT_EQ(checked_mul<int64_t>(3037000499, 3037000499, "x"), 9223372030926249001);
  EXPECT_EQ(checked_add<int64_t>(kMax - 1, 1, "x"), kMax);
  EXPECT_EQ(checked_mul<size_t>(size_t{1} << 32, (size_t{1} << 32) - 1, "x"),
            (size_t{1} << 32) * ((size_t{1} << 32) - 1));
  EXPECT_EQ(checked_mul<int64_t>(-4, 5, "x"), -20);
}

TEST(Checked, OverflowIsAnErrorNamingTheQuantity) {
  try {
    checked_mul<int64_t>(4611686018427387905, 2, "tensor Q [E, P]");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(),
              "tensor Q [E, P] is too large: 4611686018427387905 x 2 exceeds 2^63 - 1 (a signed "
              "64-bit integer)");
  }
  EXPECT_THROW(checked_add<int64_t>(kMax, 1, "x"), Error);
  EXPECT_THROW(checked_mul<size_t>(size_t{1} << 32, size_t{1} << 32, "points"), Error);
  EXPECT_THROW(checked_mul<int64_t>(std::numeric_limits<int64_t>::min(), -1, "x"), Error);
}

TEST(Checked, TheErrorCarriesTheLocationGiven) {
  try {
    checked_mul<size_t>(~size_t{0}, 2, "the points", SourceLocation{"s.yaml", 4, 5});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("s.yaml:4:5: error: the points is too large", 0), 0u)
        << e.what();
  }
}

TEST(Checked, CeilDivNeverOverflows) {
  EXPECT_EQ(ceil_div_exact<int64_t>(kMax, 256), kMax / 256 + 1);
  EXPECT_EQ(ceil_div_exact<int64_t>(1024, 256), 4);
  EXPECT_EQ(ceil_div_exact<int64_t>(1025, 256), 5);
  EXPECT_EQ(ceil_div_exact<int64_t>(1, kMax), 1);
}

TEST(Checked, DoublesOutsideInt64AreRefused) {
  EXPECT_EQ(checked_to_int64(9007199254740992.0, "x"), int64_t{1} << 53);
  EXPECT_THROW(checked_to_int64(9223372036854775808.0, "x"), Error);
  EXPECT_THROW(checked_to_int64(std::numeric_limits<double>::quiet_NaN(), "x"), Error);
  EXPECT_THROW(checked_to_int64(std::numeric_limits<double>::infinity(), "x"), Error);
}

TEST(Checked, MemoryBeyondTheMachineIsRefusedWithTheAmount) {
  EXPECT_NO_THROW(check_memory(1 << 20, "a small tensor"));
  try {
    check_memory(1e30, "the check");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("the check would need"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("this machine has"), std::string::npos) << e.message();
  }
  EXPECT_EQ(human_bytes(1536), "1.50 KiB");
  EXPECT_EQ(human_bytes(100), "100 B");
}

}  // namespace
}  // namespace cascade
