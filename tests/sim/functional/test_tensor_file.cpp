// .npy / .npz files (sim/functional/tensor_file.h): NumPy's format by its specification
// (numpy.lib.format), bytes built here by hand, and the errors a damaged file gets.
#include <gtest/gtest.h>

#include <bit>
#include <fstream>
#include <iterator>
#include <cstdint>
#include <string>

#include "sim/functional/tensor_file.h"
#include "tests/support/error_of.h"

namespace cascade {
namespace {

using testing_support::error_of;

// A version 1.0 file: magic, version, little-endian header length, header, data.
std::string npy(const std::string& header, const std::string& data) {
  std::string h = header;
  while ((10 + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(h.size() & 0xFF);
  out += static_cast<char>(h.size() >> 8);
  return out + h + data;
}

std::string bytes_of(const void* p, size_t n) { return std::string(static_cast<const char*>(p), n); }

TEST(NpyFile, FloatDtypesOrdersAndEndianness) {
  const float f[6] = {1, 2, 3, 4, 5, 6.5f};
  const Tensor c = parse_npy(
      npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", bytes_of(f, 24)), "c.npy");
  EXPECT_EQ(c.extents, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(c.values, (std::vector<double>{1, 2, 3, 4, 5, 6.5}));
  // Fortran order: the file lists column by column.
  const Tensor fo = parse_npy(
      npy("{'shape': (2, 3), 'fortran_order': True, 'descr': '<f4'}", bytes_of(f, 24)), "f.npy");
  EXPECT_EQ(fo.values, (std::vector<double>{1, 3, 5, 2, 4, 6.5}));
  // Big-endian float64, and float16 (0x3C00 = 1, 0xC000 = -2, 0x0001 = 2^-24, 0x7C00 = inf).
  const unsigned char be[8] = {0x40, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18};  // pi
  EXPECT_EQ(parse_npy(npy("{'descr': '>f8', 'fortran_order': False, 'shape': (), }",
                          bytes_of(be, 8)), "b.npy").values[0],
            3.141592653589793);
  const uint16_t half[4] = {0x3C00, 0xC000, 0x0001, 0x7C00};
  const Tensor h = parse_npy(
      npy("{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }", bytes_of(half, 8)), "h.npy");
  EXPECT_EQ(h.values, (std::vector<double>{1, -2, 0x1p-24, INFINITY}));
}

TEST(NpyFile, WritesWhatNumPyWrites) {
  Tensor t({2});
  t.values = {0.5, -1.0};
  const std::string want =
      npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
          bytes_of(t.values.data(), 16));
  EXPECT_EQ(npy_bytes(t), want);
  EXPECT_EQ(npy_bytes(t).size() % 16, 0u);
  EXPECT_EQ(parse_npy(npy_bytes(t), "t.npy").values, t.values);
}

TEST(NpyFile, DamagedFilesAreErrorsNamingTheFile) {
  const std::string good_header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
  auto message = [](const std::string& bytes) {
    return error_of([&] { parse_npy(bytes, "x.npy"); }).message();
  };
  EXPECT_NE(message("hello").find("no \\x93NUMPY magic"), std::string::npos);
  EXPECT_NE(message(npy(good_header, std::string(16, '\0'))).find("needs 24 data bytes, the file has 16"),
            std::string::npos);
  EXPECT_NE(message(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", std::string(12, '\0')))
                .find("dtype '<i4' is not a float dtype"),
            std::string::npos);
  EXPECT_NE(message(npy("{'descr': '<f8', 'shape': (3,), }", "")).find("lacks"), std::string::npos);
  EXPECT_NE(message(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", ""))
                .find("the element count of x.npy is too large"),
            std::string::npos);
  // fuzz_tensor_file's finding: a zero extent beside huge ones is an empty array (the
  // Fortran-order strides of the others overflowed int64 before: UBSan).
  const Tensor empty = parse_npy(
      npy("{'descr': '<f2', 'fortran_order': True, 'shape': (5, 0, 11455004681450, 114550046), }", ""),
      "empty.npy");
  EXPECT_EQ(empty.values.size(), 0u);
  EXPECT_EQ(empty.extents, (std::vector<int64_t>{5, 0, 11455004681450, 114550046}));
  std::string truncated = npy(good_header, "");
  truncated[8] = '\xFF';  // header length beyond the file
  EXPECT_NE(message(truncated).find("truncated"), std::string::npos);
  EXPECT_EQ(error_of([&] { parse_npy("hello", "x.npy"); }).where().file, "x.npy");
}

TEST(NpzFile, RoundTripAndDeterminism) {
  Tensor a({2, 2}), b({3});
  a.values = {1, 2, 3, 4};
  b.values = {-0.0, INFINITY, 1e-300};
  const std::string z = npz_bytes({{"A", a}, {"B", b}});
  EXPECT_EQ(npz_bytes({{"A", a}, {"B", b}}), z);
  const auto back = parse_npz(z, "z.npz");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].first, "A");
  EXPECT_EQ(back[0].second.values, a.values);
  EXPECT_EQ(back[1].first, "B");
  EXPECT_EQ(std::bit_cast<uint64_t>(back[1].second.values[0]), std::bit_cast<uint64_t>(-0.0));
  EXPECT_NE(error_of([&] { parse_npz("PK not a zip", "z.npz"); }).message().find("not a .npz"),
            std::string::npos);
}

// fuzz_tensor_file's finding (tests/data/reliability/npz-claimed-size.npz): a mutated archive
// whose entry claims more than its compressed bytes can hold is refused as damaged (it took
// over 10 s under ASan before: the claim was allocated, then read).
TEST(NpzFile, ClaimedSizesAreNotTrusted) {
  std::ifstream in(std::string(CASCADE_SOURCE_DIR) + "/tests/data/reliability/npz-claimed-size.npz",
                   std::ios::binary);
  ASSERT_TRUE(in.good());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string message = error_of([&] { parse_npz(bytes, "claimed.npz"); }).message();
  EXPECT_NE(message.find("claims"), std::string::npos) << message;
}

}  // namespace
}  // namespace cascade
