// The Verilated 16 x 16 systolic tile (hdl/tile_2d.sv, bf16): GEMMs (K up to 300) and
// their closed-form cycle counts, back-to-back GEMMs with bubbles and stalls, random
// operation streams, and its Verilated speed in this plain C++ testbench (printed).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "Vtile_2d_n16.h"
#include "tests/hdl/tile_driver.h"

namespace cascade::rtl_test {
namespace {

TEST(Tile2dN16, GemmN16) { gemms<Vtile_2d_n16>(16, false, {1, 2, 16, 77, 300}, 24); }
TEST(Tile2dN16, BackToBackGemmsN16WithBubblesAndStalls) { back_to_back<Vtile_2d_n16>(16, true, 33); }
TEST(Tile2dN16, RandomOperationsN16) { random_ops<Vtile_2d_n16>(16, false, 1500, 44); }

// Verilated speed of the 16 x 16 tile in this plain C++ testbench (reported, not asserted).
TEST(Tile2dN16, SpeedN16) {
  Rng rng(61);
  Tile<Vtile_2d_n16> tile(16, false);
  Gemm g(16, 2000, rng, false);
  for (int rep = 0; rep < 5; ++rep) g.issue(tile);
  const auto start = std::chrono::steady_clock::now();
  tile.run(5 * 16);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(compare_rows(tile.outputs(), 64, g.golden(false)), 0);
  std::printf("16x16 tile: %ld cycles in %.3f s: %.0f cycles/s\n", tile.cycles(), s, tile.cycles() / s);
  std::printf("plain N=16 cycles=%ld seconds=%.4f cycles_per_s=%.0f\n", tile.cycles(), s, tile.cycles() / s);
}

}  // namespace
}  // namespace cascade::rtl_test
