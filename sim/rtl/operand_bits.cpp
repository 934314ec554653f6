#include "sim/rtl/operand_bits.h"

#include <bit>
#include <cmath>

#include "arch/support/error.h"

namespace cascade::rtl {

uint16_t bf16_bits(double v, const std::string& unit) {
  if (std::isnan(v)) return 0x7FC0;
  const float f = static_cast<float>(v);
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  if (static_cast<double>(f) != v || (bits & 0xFFFF) != 0)
    throw Error(unit + " takes bf16 operands; " + std::to_string(v) + " is not a bf16 value");
  return static_cast<uint16_t>(bits >> 16);
}

uint32_t fp32_bits(double v, const std::string& unit) {
  if (std::isnan(v)) return 0x7FC00000u;
  const float f = static_cast<float>(v);
  if (static_cast<double>(f) != v)
    throw Error(unit + " takes fp32 operands; " + std::to_string(v) + " is not an fp32 value");
  return std::bit_cast<uint32_t>(f);
}

}  // namespace cascade::rtl
