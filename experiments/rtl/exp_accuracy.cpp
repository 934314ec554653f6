// Max relative error of the executor's exp modes against std::exp (fp64), every fp32
// argument whose exp is a normal fp32 number (x in [ln 2^-126, ln FLT_MAX], 2.1e9 values;
// `exp_accuracy STRIDE` checks every STRIDE-th bit pattern), in the fp32 datapath the RTL
// implements bit for bit: hardware (pe_2d's fp32_exp_seq) and fast (pe_2d_fastexp's
// fp32_exp_pwl_seq); also |x| <= 1 and the approximation alone (fp64 datapath).
// experiments/rtl/exp_accuracy.sh runs it and writes the table.
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "sim/functional/number_format.h"

namespace {

struct Worst {
  double all = 0, near = 0, at = 0;  // over the range, over |x| <= 1, where
  long n = 0;
  void add(double x, double rel) {
    if (rel > all) {
      all = rel;
      at = x;
    }
    if (std::fabs(x) <= 1 && rel > near) near = rel;
    ++n;
  }
};

}  // namespace

int main(int argc, char** argv) {
  using cascade::ExpMode;
  using cascade::NumberFormat;
  const uint32_t stride = argc > 1 ? static_cast<uint32_t>(std::strtoul(argv[1], nullptr, 10)) : 1;
  const double lo = std::log(0x1p-126), hi = std::log(static_cast<double>(3.4028234663852886e38));
  Worst hw32, fast32, hw64, fast64;
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits += stride) {
    const double x = std::bit_cast<float>(static_cast<uint32_t>(bits));
    if (!(x >= lo && x <= hi)) continue;
    const double e = std::exp(x);
    hw32.add(x, std::fabs(cascade::exp_in(ExpMode::Hardware, NumberFormat::FP32, x) / e - 1));
    fast32.add(x, std::fabs(cascade::exp_in(ExpMode::Fast, NumberFormat::FP32, x) / e - 1));
    hw64.add(x, std::fabs(cascade::exp_in(ExpMode::Hardware, NumberFormat::FP64, x) / e - 1));
    fast64.add(x, std::fabs(cascade::exp_in(ExpMode::Fast, NumberFormat::FP64, x) / e - 1));
  }
  std::printf("| exp mode | datapath | arguments | max rel. error | at x | max rel. error, \\|x\\| <= 1 |\n");
  std::printf("|---|---|---|---|---|---|\n");
  auto row = [&](const char* mode, const char* path, const Worst& w) {
    std::printf("| %s | %s | %ld | %.3e | %.9g | %.3e |\n", mode, path, w.n, w.all, w.at, w.near);
  };
  row("hardware", "fp32 (= pe_2d)", hw32);
  row("fast", "fp32 (= pe_2d_fastexp)", fast32);
  row("hardware", "fp64 (the polynomial alone)", hw64);
  row("fast", "fp64 (the segments alone)", fast64);
  return 0;
}
