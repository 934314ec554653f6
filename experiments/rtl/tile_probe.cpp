// Standalone speed probe of a Verilated tile_2d (built by probe_build.sh, PROBE_N = its N):
// REPS (5) N x N x 2000 OpMac GEMMs with the output-stationary drain, 3 eval() per
// cycle as tests/hdl/tile_driver.h. Prints cycles/s.
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "Vtile_2d.h"
#include "probe_ports.h"
#include "verilated.h"
#ifndef REPS
#define REPS 5  // GEMMs of 2000 steps (profile_probe.sh runs more)
#endif

int main(int argc, char** argv) {
  Verilated::commandArgs(argc, argv);  // +verilator+prof+exec+... (profile_probe.sh)
  Vtile_2d m;
  const int n = PROBE_N;
  m.clk_i = 0; m.rst_ni = 0; m.in_valid_i = 0; m.out_ready_i = 1; m.eval();
  m.rst_ni = 1; m.eval();
  uint32_t x = 12345;
  long cycles = 0;
  auto start = std::chrono::steady_clock::now();
  for (int rep = 0; rep < REPS; ++rep)
    for (int k = 0; k < 2000 + 3 * n; ++k) {
      m.in_valid_i = k < 2000;
      m.in_op_i = 1;
      m.in_flag_i = k == 0;
      m.in_sel_i = k == 1999 ? (0x80 | (n - 1)) : 0;
      for (int w = 0; w < n / 2; ++w) {
        x = x * 1664525u + 1013904223u;
        set_word(m.in_a_i, w, (x & 0x807F807Fu) | 0x3F003F00u);
        set_word(m.in_b_i, w, (x & 0x807F807Fu) | 0x3E803E80u);
      }
      m.eval();
      m.clk_i = 1; m.eval(); m.clk_i = 0; m.eval();
      ++cycles;
      Verilated::threadContextp()->timeInc(1);  // a time for +verilator+prof+exec+start
    }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("cycles=%ld seconds=%.3f cycles_per_s=%.0f\n", cycles, s, cycles / s);
}
