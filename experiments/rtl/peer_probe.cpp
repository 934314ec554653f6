// Driver of peer_probe.sh's MAC tiles (int_mac_tile.sv, PROBE_N = its N, ARITH = its Arith),
// the same workload and clocking as tile_probe.cpp gives tile_2d: REPS (5) N x N x 2000
// GEMMs with (2000 + 3N) cycles each, 3 eval() per cycle, the same pseudo-random operands.
// Prints cycles/s, and checks PE (0, 0)'s accumulator (it sees row 0's and column 0's
// operands unskewed) against the same sums computed here, in integers or in IEEE float
// (a product of two bf16 values is exact in float), so that the tile does the work.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "Vint_mac_tile.h"
#include "probe_ports.h"
#include "verilated.h"
#ifndef REPS
#define REPS 5
#endif
#ifndef ARITH
#define ARITH 0
#endif

float from_bf16(uint32_t h) {
  const uint32_t bits = h << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// PE (0, 0)'s next accumulator for operands a, b (16 bits each): int_mac_pe's Arith.
uint32_t next_acc(uint32_t acc, uint32_t a, uint32_t b) {
  if (ARITH == 0) return acc + a * b;
  float x;
  std::memcpy(&x, &acc, sizeof x);
  volatile float product = from_bf16(a) * from_bf16(b);  // volatile: no fused multiply-add
  x = ARITH == 1 ? x + from_bf16(a) : x + product;
  std::memcpy(&acc, &x, sizeof acc);
  return acc;
}

int main(int argc, char** argv) {
  Verilated::commandArgs(argc, argv);
  Vint_mac_tile m;
  const int n = PROBE_N;
  m.clk_i = 0; m.rst_ni = 0; m.in_valid_i = 0; m.eval();
  m.rst_ni = 1; m.eval();
  uint32_t x = 12345;
  long cycles = 0;
  uint32_t expected = 0;
  bool ok = true;
  auto start = std::chrono::steady_clock::now();
  for (int rep = 0; rep < REPS; ++rep) {
    for (int k = 0; k < 2000 + 3 * n; ++k) {
      m.in_valid_i = k < 2000;
      m.in_clear_i = k == 0;
      for (int w = 0; w < n / 2; ++w) {
        x = x * 1664525u + 1013904223u;
        const uint32_t a = (x & 0x807F807Fu) | 0x3F003F00u, b = (x & 0x807F807Fu) | 0x3E803E80u;
        set_word(m.in_a_i, w, a);
        set_word(m.in_b_i, w, b);
        if (w == 0 && k < 2000) expected = next_acc(k == 0 ? 0u : expected, a & 0xFFFFu, b & 0xFFFFu);
      }
      m.eval();
      m.clk_i = 1; m.eval(); m.clk_i = 0; m.eval();
      ++cycles;
    }
    ok = ok && m.acc_o[0] == expected;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("cycles=%ld seconds=%.3f cycles_per_s=%.0f PE(0,0) %s\n", cycles, s, cycles / s,
              ok ? "correct" : "WRONG");
  return ok ? 0 : 1;
}
