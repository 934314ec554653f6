// The Verilated 2D PE (hdl/pe_2d.sv) against the golden PE (tests/hdl/pe_golden.h), bit
// for bit: every operation on random fp32 and storage-format operands with special values,
// random operation streams with their latencies and the ready/valid handshake, and the
// hardware exp against the executor's hardware_exp_as<FP32> on millions of inputs.
// The same file tests pe_2d_fastexp (test_pe_2d_fastexp) and a user's PE (test_pe_2d_user,
// -DCASCADE_RTL_PE=...): built with CASCADE_PE_EXP_FAST, the exp is the executor's
// fast_exp_as<FP32> in 4 cycles (pe_golden.h); the models keep the names Vpe_2d_bf16/fp16.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "Vpe_2d_bf16.h"
#include "Vpe_2d_fp16.h"
#include "tests/hdl/pe_golden.h"

namespace cascade::rtl_test {
namespace {

template <class Model>
class Pe {
 public:
  explicit Pe(int row = 0) {
    m_.clk_i = 0;
    m_.rst_ni = 0;
    m_.en_i = 1;
    m_.valid_i = 0;
    m_.row_i = static_cast<uint8_t>(row);
    m_.eval();
    m_.rst_ni = 1;
    m_.eval();
  }
  void tick() {
    m_.clk_i = 1;
    m_.eval();
    m_.clk_i = 0;
    m_.eval();
    ++cycles_;
  }
  // Offers one operation in the next cycle (the PE must be ready) and clocks it in.
  void issue(uint8_t op, bool flag, int sel, uint32_t a, uint32_t b, uint32_t w = 0, int entry = 0) {
    m_.valid_i = 1;
    m_.entry_i = static_cast<uint8_t>(entry);
    m_.w_i = w;
    m_.op_i = op;
    m_.flag_i = flag;
    m_.sel_i = static_cast<uint8_t>(sel);
    m_.a_i = a;
    m_.b_i = b;
    m_.eval();
    EXPECT_TRUE(m_.ready_o) << "issued while busy";
    tick();
    m_.valid_i = 0;
    m_.eval();
  }
  // Runs an operation to completion; returns its latency (cycles until done/ready).
  int run(uint8_t op, bool flag, int sel, uint32_t a, uint32_t b, int entry = 0) {
    issue(op, flag, sel, a, b, 0, entry);
    int latency = 1;
    while (!m_.ready_o) {
      tick();
      ++latency;
    }
    return latency;
  }
  Model& io() { return m_; }
  long cycles() const { return cycles_; }

 private:
  Model m_;
  long cycles_ = 0;
};

// A random operand: fp32 of every kind, or a widened storage value.
uint32_t operand(Rng& rng, bool fp16) {
  if (rng.next() % 2) return random_fp32(rng);
  return widen_golden(static_cast<uint16_t>(rng.next()), fp16);
}

template <class Model>
void random_stream(bool fp16, uint64_t seed, int ops) {
  Pe<Model> pe(3);
  PeGolden golden{fp16};
  Rng rng(seed);
  long mismatches = 0;
  for (int n = 0; n < ops && mismatches < 5; ++n) {
    // mostly MACs and column ops, some of everything
    static const uint8_t kOps[] = {kOpMac, kOpMac, kOpMac, kOpAdd, kOpMax, kOpExp, kOpSubExp,
                                   kOpNarrow, kOpLoad, kOpLoad, kOpColSum, kOpColMax,
                                   kOpColDot, kOpReadRow, kOpWsDot, kOpWsDot, kOpNop};
    const uint8_t op = kOps[rng.next() % std::size(kOps)];
    const bool flag = rng.next() % 4 == 0;
    // OpWsDot: sel[7] swaps the shadow weight in (half the time)
    const int sel = static_cast<int>(rng.next() % 6) | (op == kOpWsDot && rng.next() % 2 ? 0x80 : 0);
    const uint32_t a = operand(rng, fp16), b = operand(rng, fp16), w = operand(rng, fp16);
    // the register file: a few entries most of the time (reads find what was stored), any
    // entry now and then
    const int entry = static_cast<int>(rng.next() % 8 ? rng.next() % 3 : rng.next() % kPeEntries);
    const uint32_t y = golden.apply(op, flag, sel, 3, a, b, w, entry);
    pe.issue(op, flag, sel, a, b, w, entry);
    EXPECT_EQ(pe.io().entry_o, entry) << "the entry passes south";
    // column results and the pass-through leave one cycle after acceptance
    if (!same_result(pe.io().b_o, y)) {
      ++mismatches;
      ADD_FAILURE() << "op " << int(op) << " #" << n << std::hex << " a=" << a << " b=" << b
                    << ": y rtl " << pe.io().b_o << ", golden " << y;
    }
    int latency = 1;
    while (!pe.io().ready_o) {
      pe.tick();
      ++latency;
    }
    EXPECT_EQ(latency, op_cycles(op)) << "op " << int(op);
    const bool writes = op == kOpWsDot ? (sel & 0x80) != 0 : op != kOpNop && !is_column_op(op);
    EXPECT_EQ(pe.io().done_o, writes ? 1 : 0) << "op " << int(op);
    if (!same_result(pe.io().acc_o, golden.acc)) {
      ++mismatches;
      ADD_FAILURE() << "op " << int(op) << " flag " << flag << " #" << n << std::hex
                    << " a=" << a << " b=" << b << ": acc rtl " << pe.io().acc_o << ", golden "
                    << golden.acc;
      golden.acc = pe.io().acc_o;  // resynchronise, report the next difference separately
    }
    // a gap between operations now and then
    if (rng.next() % 8 == 0) pe.tick();
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(Pe2d, RandomOperationStreamBf16) { random_stream<Vpe_2d_bf16>(false, 7, 300000); }
TEST(Pe2d, RandomOperationStreamFp16) { random_stream<Vpe_2d_fp16>(true, 8, 100000); }

// One MAC per cycle, back to back, acc = round(round(a * b) + acc) from +0 after a flag.
TEST(Pe2d, MacEveryCycle) {
  Pe<Vpe_2d_bf16> pe;
  Rng rng(9);
  uint32_t golden = 0;
  for (int k = 0; k < 200000; ++k) {
    const bool clear = k % 97 == 0;
    const uint32_t a = random_fp32(rng), b = partner_fp32(rng, a);
    pe.issue(kOpMac, clear, 0, a, b);
    golden = mac_golden(a, b, clear ? 0u : golden);
    ASSERT_TRUE(same_result(pe.io().acc_o, golden))
        << k << std::hex << ": rtl " << pe.io().acc_o << ", golden " << golden;
    ASSERT_TRUE(pe.io().ready_o);
    ASSERT_EQ(pe.io().done_o, 1);
  }
  // The product is rounded before the sum: (1 + 2^-23)^2 - 1 - 2^-22 is 0 here, 2^-46 fused.
  pe.issue(kOpLoad, false, 0, 0, 0xBF800000u | 0x00000000u);                // acc = -1
  pe.issue(kOpAdd, true, 0, 0, 0x34800000u);                                // acc = -1 - 2^-22
  pe.issue(kOpMac, false, 0, 0x3F800001u, 0x3F800001u);
  EXPECT_EQ(pe.io().acc_o, 0u);
}

// The PE's exp against the executor's (hardware_exp_as<FP32>, or fast_exp_as<FP32>) on
// millions of inputs: the range where results go from 0 to inf, points where t = x log2(e)
// crosses a multiple of 1/8 (an integer; a segment boundary of the fast exp), tiny and
// subnormal arguments, raw random patterns (NaNs, infinities, huge) and special values.
TEST(Pe2d, ExpEqualsTheExecutorsExp) {
  Pe<Vpe_2d_bf16> pe;
  Rng rng(10);
  long checked = 0, mismatches = 0;
  auto check = [&](uint32_t x) {
    pe.issue(kOpLoad, false, 0, 0, x);
    const int latency = pe.run(kOpExp, false, 0, 0, 0);
    const uint32_t golden = pe_exp_golden(x);
    ++checked;
    if (latency != kPeExpCycles || !same_result(pe.io().acc_o, golden)) {
      if (++mismatches <= 5)
        ADD_FAILURE() << std::hex << "exp(" << x << "): rtl " << pe.io().acc_o << ", golden "
                      << golden << std::dec << ", latency " << latency;
    }
  };
  for (uint32_t x : special_fp32()) check(x);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1200000; ++i) {
    const uint64_t r = rng.next();
    const double u = static_cast<double>(r >> 11) * 0x1p-53;
    switch (i % 6) {
      case 0: case 1: check(bits_of(-104.0 + 194.0 * u)); break;         // [-104, 90]
      case 2: check(bits_of(-1.0 + 2.0 * u)); break;                     // |x| <= 1
      case 3: {                                                           // t near k/8
        const int k = static_cast<int>(r % 2240) - 1216;
        const uint32_t x = bits_of(k * 0.6931471805599453 / 8);
        check(x + static_cast<uint32_t>((r >> 20) % 9) - 4);
        break;
      }
      case 4: check(static_cast<uint32_t>(r >> 24)); break;               // raw patterns
      default:                                                            // tiny, subnormal
        check((static_cast<uint32_t>(r >> 40) & 0x80000000u) |
              (static_cast<uint32_t>(r % (110u << 23))));
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(mismatches, 0) << "of " << checked;
  std::printf("exp: %ld inputs, %ld PE cycles, %.2f s (%.2f M cycles/s)\n", checked, pe.cycles(),
              seconds, pe.cycles() / seconds / 1e6);
}

// exp(acc - b) in one cycle more than exp (9 cycles for pe_2d), the subtraction rounded first.
TEST(Pe2d, SubExp) {
  Pe<Vpe_2d_bf16> pe;
  Rng rng(11);
  long mismatches = 0;
  for (int i = 0; i < 200000; ++i) {
    const uint64_t r = rng.next();
    const uint32_t m = (i % 3) ? bits_of(-50.0 + 100.0 * static_cast<double>(r >> 11) * 0x1p-53)
                               : random_fp32(rng);
    const uint32_t x = (i % 2) ? partner_fp32(rng, m ^ 0x80000000u) : random_fp32(rng);
    pe.issue(kOpLoad, false, 0, 0, x);
    const int latency = pe.run(kOpSubExp, false, 0, 0, m);
    const uint32_t golden = pe_exp_golden(sub_golden(x, m));
    if ((latency != kPeExpCycles + 1 || !same_result(pe.io().acc_o, golden)) && ++mismatches <= 5)
      ADD_FAILURE() << std::hex << "exp(" << x << " - " << m << "): rtl " << pe.io().acc_o
                    << ", golden " << golden << std::dec << ", latency " << latency;
  }
  EXPECT_EQ(mismatches, 0);
}

// The register file keeps a tile's values across operations: 16 values stored in the 16
// entries (OpNarrow with flag), MACs on acc in between, then each entry read back by every
// reading operation with flag (column sum and max from y, column dot, exp, exp(x - b)),
// in an order unlike the stores'; without flag the same operations read acc.
TEST(Pe2d, RegisterFileKeepsEntries) {
  Pe<Vpe_2d_bf16> pe;
  Rng rng(13);
  uint32_t stored[kPeEntries];
  for (int round = 0; round < 2000; ++round) {
    for (int e = 0; e < kPeEntries; ++e) {
      const uint32_t v = bits_of(-8.0 + 16.0 * static_cast<double>(rng.next() >> 11) * 0x1p-53);
      pe.issue(kOpLoad, false, 0, 0, v);
      pe.issue(kOpNarrow, true, 0, 0, 0, 0, e);
      stored[e] = narrow_golden(v, false);
      pe.issue(kOpMac, true, 0, random_fp32(rng), random_fp32(rng));  // acc changes
    }
    const uint32_t acc = pe.io().acc_o;
    for (int i = 0; i < kPeEntries; ++i) {
      const int e = (i * 7 + round) % kPeEntries;
      const uint32_t y = random_fp32(rng), a = random_fp32(rng);
      pe.issue(kOpColSum, true, 0, 0, y, 0, e);
      ASSERT_TRUE(same_result(pe.io().b_o, add_golden(y, stored[e]))) << round << " " << e;
      pe.issue(kOpColMax, true, 0, 0, y, 0, e);
      ASSERT_TRUE(same_result(pe.io().b_o, max_golden(y, stored[e]))) << round << " " << e;
      pe.issue(kOpColDot, true, 0, a, y, 0, e);
      ASSERT_TRUE(same_result(pe.io().b_o, add_golden(y, mul_golden(stored[e], a))));
      pe.issue(kOpColSum, false, 0, 0, y, 0, e);
      ASSERT_TRUE(same_result(pe.io().b_o, add_golden(y, acc))) << "without flag: acc";
      ASSERT_EQ(pe.io().acc_o, acc) << "column operations leave acc";
    }
    const int e = round % kPeEntries;
    ASSERT_EQ(pe.run(kOpExp, true, 0, 0, 0, e), kPeExpCycles);
    ASSERT_TRUE(same_result(pe.io().acc_o, pe_exp_golden(stored[e]))) << round;
    // entry_i is read in the accepting cycle only (round's entry, then another)
    const uint32_t m = bits_of(static_cast<double>(round % 5));
    pe.issue(kOpSubExp, true, 0, 0, m, 0, e);
    pe.io().entry_i = static_cast<uint8_t>((e + 1) % kPeEntries);
    while (!pe.io().ready_o) pe.tick();
    ASSERT_TRUE(same_result(pe.io().acc_o, pe_exp_golden(sub_golden(stored[e], m)))) << round;
  }
}

// Narrowing to bf16 and fp16: ties, subnormals, overflow, NaN.
TEST(Pe2d, Narrow) {
  Pe<Vpe_2d_bf16> bf;
  Pe<Vpe_2d_fp16> hf;
  Rng rng(12);
  long mismatches = 0;
  for (int i = 0; i < 300000; ++i) {
    uint32_t x = random_fp32(rng);
    if (i % 3 == 0) x = (x & 0xFFFF0000u) | 0x8000u;                       // bf16 tie
    if (i % 3 == 1) x = (x & 0x807FE000u) | 0x1000u | ((103 + (x >> 24) % 40) << 23);  // fp16 range, tie
    bf.issue(kOpLoad, false, 0, 0, x);
    bf.issue(kOpNarrow, false, 0, 0, 0);
    hf.issue(kOpLoad, false, 0, 0, x);
    hf.issue(kOpNarrow, false, 0, 0, 0);
    if (!same_result(bf.io().acc_o, narrow_golden(x, false)) && ++mismatches <= 5)
      ADD_FAILURE() << std::hex << "bf16(" << x << "): rtl " << bf.io().acc_o;
    if (!same_result(hf.io().acc_o, narrow_golden(x, true)) && ++mismatches <= 5)
      ADD_FAILURE() << std::hex << "fp16(" << x << "): rtl " << hf.io().acc_o;
  }
  EXPECT_EQ(mismatches, 0);
}

// ready_o falls for the cycles after an exp starts; other operations never lower it; a
// clock enable low holds everything.
TEST(Pe2d, HandshakeAndEnable) {
  Pe<Vpe_2d_bf16> pe;
  pe.issue(kOpLoad, false, 0, 0, 0x3F800000u);
  pe.issue(kOpExp, false, 0, 0, 0);
  for (int c = 1; c < kPeExpCycles; ++c) {
    EXPECT_FALSE(pe.io().ready_o) << c;
    EXPECT_FALSE(pe.io().done_o) << c;
    pe.tick();
  }
  EXPECT_TRUE(pe.io().ready_o);
  EXPECT_TRUE(pe.io().done_o);
  EXPECT_EQ(pe.io().acc_o, pe_exp_golden(0x3F800000u));
  pe.tick();
  EXPECT_FALSE(pe.io().done_o);
  // en_i low: an offered operation and the registers hold
  pe.io().en_i = 0;
  pe.io().valid_i = 1;
  pe.io().op_i = kOpLoad;
  pe.io().b_i = 0x40000000u;
  pe.tick();
  EXPECT_EQ(pe.io().acc_o, pe_exp_golden(0x3F800000u));
  pe.io().en_i = 1;
  pe.tick();
  EXPECT_EQ(pe.io().acc_o, 0x40000000u);
}

}  // namespace
}  // namespace cascade::rtl_test
