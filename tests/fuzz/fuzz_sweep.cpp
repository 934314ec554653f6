// libFuzzer target: the sweep reader, and the first points of what it accepts.
#include <algorithm>

#include "sim/sweep/sweep.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cascade::fuzz::expect_only_errors([&] {
    const cascade::SweepSpec spec =
        cascade::parse_sweep_text(cascade::fuzz::text_of(data, size), "fuzz.yaml");
    const size_t points = spec.points();
    for (size_t i = 0; i < std::min<size_t>(points, 16); ++i) cascade::sweep_point(spec, i);
    if (points > 16) cascade::sweep_point(spec, points - 1);
  });
  return 0;
}
