// Shared by the tile probes' drivers (tile_probe.cpp, peer_probe.cpp).
#pragma once
#include <cstdint>
#include <type_traits>

// Word w (32 bits: two 16-bit lanes) of a port Verilator gives as an array of words (wider
// than 64 bits) or as one integer.
template <typename Port>
void set_word(Port& port, int w, uint32_t value) {
  if constexpr (std::is_integral_v<Port>) {
    port = (port & ~(Port{0xFFFFFFFFu} << (32 * w))) | (Port{value} << (32 * w));
  } else {
    port[w] = value;
  }
}
