// Golden model of one 2D PE (hdl/pe_2d.sv, hdl/tile_pkg.sv), written from the operations'
// definitions with the fp32 golden operations of fp32_golden.h.
#pragma once

#include <cstdint>

#include "tests/hdl/fp32_golden.h"

namespace cascade::rtl_test {

// tile_pkg::pe_op_e
enum PeOp : uint8_t {
  kOpNop = 0, kOpMac = 1, kOpAdd = 2, kOpMax = 3, kOpExp = 4, kOpSubExp = 5, kOpNarrow = 6,
  kOpLoad = 7, kOpColSum = 8, kOpColMax = 9, kOpColDot = 10, kOpReadRow = 11
};
inline bool is_column_op(uint8_t op) { return op >= kOpColSum && op <= kOpReadRow; }
// Cycles an operation occupies a PE (its latency).
inline int op_cycles(uint8_t op) { return op == kOpExp ? 8 : op == kOpSubExp ? 9 : 1; }

struct PeGolden {
  bool fp16 = false;  // storage format of OpNarrow
  uint32_t acc = 0;
  // Applies one operation with west operand a and north operand b (or partial result y);
  // returns what the PE passes south.
  uint32_t apply(uint8_t op, bool flag, int sel, int row, uint32_t a, uint32_t b) {
    switch (op) {
      case kOpMac: acc = mac_golden(a, b, flag ? 0u : acc); return b;
      case kOpAdd: acc = flag ? sub_golden(acc, b) : add_golden(acc, b); return b;
      case kOpMax: acc = max_golden(acc, b); return b;
      case kOpExp: acc = exp_golden(acc); return b;
      case kOpSubExp: acc = exp_golden(sub_golden(acc, b)); return b;
      case kOpNarrow: acc = narrow_golden(acc, fp16); return b;
      case kOpLoad: acc = b; return b;
      case kOpColSum: return add_golden(b, acc);
      case kOpColMax: return max_golden(b, acc);
      case kOpColDot: return add_golden(b, mul_golden(acc, a));
      case kOpReadRow: return sel == row ? acc : b;
      default: return b;
    }
  }
};

}  // namespace cascade::rtl_test
