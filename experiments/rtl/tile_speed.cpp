// Speed of the Verilated systolic tile inside SystemC (sim/rtl's RtlTile, clocked by its own
// SystemC thread, 2 delta-cycle evaluations per clock): GEMMs of N x N x 2000 on every
// Verilated size, back to back in one simulation. Prints one line per size:
//   sc N=4 cycles=... seconds=... cycles_per_s=...
// experiments/rtl/speed.sh runs it next to the plain C++ testbench (test_tile_2d) and
// writes the results file. A benchmark, not a test.
#include <chrono>
#include <cstdio>
#include <memory>
#include <systemc>
#include <vector>

#include "sim/rtl/rtl_tile.h"

namespace {

class Bench : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Bench);
  explicit Bench(sc_core::sc_module_name name) : sc_core::sc_module(name) {
    for (int n : cascade::rtl::tile_sizes("default"))
      tiles_.push_back(cascade::rtl::make_tile("tile" + std::to_string(n), n));
    SC_THREAD(run);
  }

 private:
  void run() {
    for (auto& tile : tiles_) {
      const int n = tile->n();
      cascade::GemmOperands g;
      g.m = g.n = n;
      g.k = 2000;
      uint32_t x = 12345;
      auto next = [&] {  // small bf16 values (1 + m/8) * 2^e
        x = x * 1664525u + 1013904223u;
        const double m = static_cast<double>(8 + (x >> 29)) / 8.0;  // 1, 1.125, ... 1.875
        return ((x >> 10) & 1 ? m : -m) * ((x >> 12) & 1 ? 0.5 : 0.25);
      };
      for (int64_t i = 0; i < g.m * g.k; ++i) g.a.push_back(next());
      for (int64_t i = 0; i < g.k * g.n; ++i) g.b.push_back(next());
      tile->run(cascade::Dataflow::OutputStationary, g, false);  // warm up
      const int64_t before = tile->cycles_clocked();
      const auto start = std::chrono::steady_clock::now();
      for (int rep = 0; rep < 5; ++rep) tile->run(cascade::Dataflow::OutputStationary, g, rep % 2 == 1);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const int64_t cycles = tile->cycles_clocked() - before;
      std::printf("sc N=%d cycles=%lld seconds=%.4f cycles_per_s=%.0f\n", n,
                  static_cast<long long>(cycles), s, static_cast<double>(cycles) / s);
    }
    sc_core::sc_stop();
  }
  std::vector<std::unique_ptr<cascade::rtl::RtlTile>> tiles_;
};

}  // namespace

int sc_main(int, char**) {
  sc_core::sc_set_time_resolution(1, sc_core::SC_FS);
  Bench bench("bench");
  sc_core::sc_start();
  return 0;
}
