// Golden model of one 2D PE (hdl/pe_2d.sv, hdl/tile_pkg.sv), written from the operations'
// definitions with the fp32 golden operations of fp32_golden.h.
#pragma once

#include <cstdint>

#include "tests/hdl/fp32_golden.h"

namespace cascade::rtl_test {

// tile_pkg::pe_op_e
enum PeOp : uint8_t {
  kOpNop = 0, kOpMac = 1, kOpAdd = 2, kOpMax = 3, kOpExp = 4, kOpSubExp = 5, kOpNarrow = 6,
  kOpLoad = 7, kOpColSum = 8, kOpColMax = 9, kOpColDot = 10, kOpReadRow = 11, kOpWsDot = 12
};
// The deskewed column results (OpWsDot's leave raw, through the drain).
inline bool is_column_op(uint8_t op) { return op >= kOpColSum && op <= kOpReadRow; }
// The PE's exp: the executor's hardware exp (pe_2d), or with CASCADE_PE_EXP_FAST its fast
// exp (pe_2d_fastexp, or a user's PE built with -DCASCADE_RTL_PE_EXP=fast), and its cycles.
#ifdef CASCADE_PE_EXP_FAST
inline uint32_t pe_exp_golden(uint32_t x) { return bits_of(fast_exp_as<NumberFormat::FP32>(f32(x))); }
inline constexpr int kPeExpCycles = 4;
#else
inline uint32_t pe_exp_golden(uint32_t x) { return exp_golden(x); }
inline constexpr int kPeExpCycles = 8;
#endif
// Cycles an operation occupies a PE (its latency); exp(x - m) one more than exp.
inline int op_cycles(uint8_t op) {
  return op == kOpExp ? kPeExpCycles : op == kOpSubExp ? kPeExpCycles + 1 : 1;
}

// Register-file entries per PE (pe_2d's Entries, tile_2d's; the arch YAML's
// register_file_entries of the 2D array).
inline constexpr int kPeEntries = 16;

struct PeGolden {
  bool fp16 = false;  // storage format of OpNarrow and of the register file
  uint32_t acc = 0;
  uint32_t rf[kPeEntries] = {};  // widened: widen(narrow(acc)) as the PE reads it
  // Applies one operation with west operand a, north operand b (or partial result y),
  // shadow weight w and register-file entry `entry`; returns what the PE passes south.
  // With flag, exp, exp(x - b) and the column reductions read x from the entry (widened),
  // and OpNarrow also stores the narrowed acc there; else x is acc.
  uint32_t apply(uint8_t op, bool flag, int sel, int row, uint32_t a, uint32_t b, uint32_t w = 0,
                 int entry = 0) {
    const uint32_t x = flag ? rf[entry] : acc;
    switch (op) {
      case kOpMac: acc = mac_golden(a, b, flag ? 0u : acc); return b;
      case kOpAdd: acc = flag ? sub_golden(acc, b) : add_golden(acc, b); return b;
      case kOpMax: acc = max_golden(acc, b); return b;
      case kOpExp: acc = pe_exp_golden(x); return b;
      case kOpSubExp: acc = pe_exp_golden(sub_golden(x, b)); return b;
      case kOpNarrow:
        acc = narrow_golden(acc, fp16);
        if (flag) rf[entry] = acc;
        return b;
      case kOpLoad: acc = b; return b;
      case kOpColSum: return add_golden(b, x);
      case kOpColMax: return max_golden(b, x);
      case kOpColDot: return add_golden(b, mul_golden(x, a));
      case kOpReadRow: return sel == row ? acc : b;
      case kOpWsDot:
        if (sel & 0x80) acc = w;  // the fold's first operand: the shadow weight swapped in
        return add_golden(b, mul_golden(acc, a));
      default: return b;
    }
  }
};

}  // namespace cascade::rtl_test
