// The bit patterns the Verilated kernels take for operands the C++ models hold as doubles.
// Each throws Error naming `unit` for a value the format cannot hold exactly; any NaN
// becomes the canonical quiet NaN, as the RTL makes them.
#pragma once

#include <cstdint>
#include <string>

namespace cascade::rtl {

uint16_t bf16_bits(double v, const std::string& unit);
uint32_t fp32_bits(double v, const std::string& unit);

}  // namespace cascade::rtl
