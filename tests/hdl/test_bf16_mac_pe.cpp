// The Verilated bf16 MAC PE (hdl/bf16_mac_pe.sv), clocked: one MAC per cycle, the
// accumulator after every valid input equal to a running fmaf sum (restarted from +0 by
// clear), valid_o one cycle after valid_i, the accumulator held while no input is valid.
#include <gtest/gtest.h>

#include <chrono>

#include "Vbf16_mac_pe.h"
#include "tests/hdl/fma_golden.h"

namespace cascade::rtl_test {
namespace {

class Pe {
 public:
  Pe() {
    model_.clk_i = 0;
    model_.rst_ni = 0;
    model_.valid_i = 0;
    model_.eval();
    cycle();  // reset
    model_.rst_ni = 1;
    model_.eval();
  }
  // One clock: inputs applied before the rising edge, outputs read after it.
  void cycle() {
    model_.clk_i = 1;
    model_.eval();
    model_.clk_i = 0;
    model_.eval();
  }
  Vbf16_mac_pe& io() { return model_; }

 private:
  Vbf16_mac_pe model_;
};

uint16_t random_bf16(Rng& rng) {
  // Finite values of moderate size, so long sums stay finite (sign, exponent 100..154).
  const uint64_t x = rng.next();
  return static_cast<uint16_t>((x & 0x807F) | ((100 + (x >> 16) % 55) << 7));
}

TEST(Bf16MacPe, AccumulatesLikeFmaf) {
  Pe pe;
  Rng rng(5);
  float golden = 0;
  long checked = 0;
  for (int cycle = 0; cycle < 100000; ++cycle) {
    const bool valid = rng.next() % 4 != 0;
    const bool clear = rng.next() % 64 == 0;
    const uint16_t a = random_bf16(rng), b = random_bf16(rng);
    pe.io().valid_i = valid;
    pe.io().clear_i = clear;
    pe.io().a_i = a;
    pe.io().b_i = b;
    pe.cycle();
    if (valid) golden = std::fmaf(bf16_to_float(a), bf16_to_float(b), clear ? 0.0f : golden);
    ASSERT_EQ(pe.io().valid_o, valid ? 1 : 0) << "cycle " << cycle;
    ASSERT_TRUE(same_result(pe.io().acc_o, float_to_bits(golden)))
        << "cycle " << cycle << std::hex << ": rtl " << pe.io().acc_o << ", fmaf "
        << float_to_bits(golden);
    checked += valid;
  }
  EXPECT_GT(checked, 70000);
}

TEST(Bf16MacPe, ResetClearsTheAccumulator) {
  Pe pe;
  pe.io().valid_i = 1;
  pe.io().clear_i = 0;
  pe.io().a_i = 0x3F80;  // 1.0
  pe.io().b_i = 0x4000;  // 2.0
  pe.cycle();
  pe.cycle();
  EXPECT_EQ(pe.io().acc_o, float_to_bits(4.0f));
  pe.io().rst_ni = 0;
  pe.io().eval();  // asynchronous reset
  EXPECT_EQ(pe.io().acc_o, 0u);
  EXPECT_EQ(pe.io().valid_o, 0);
}

}  // namespace
}  // namespace cascade::rtl_test
