// Which simulated (batch, head) slices the cycle model's extrapolation measures its steady
// state on (cycle_model.cpp: n slices take end[N-1] + (n - N) x the increment per slice over
// the window). Plain C++, unit-tested (tests/sim/systemc/test_steady_window.cpp).
#pragma once

#include <cstdint>
#include <vector>

namespace cascade {

struct SteadyWindow {
  int64_t lo = 0, hi = 0;  // slices: the increment is (end[hi] - end[lo]) / (hi - lo)
  int64_t period = 1;      // slices after which the increments repeat (hi - lo when none shorter)
};

// `end[k]`: the cycle simulated slice k ends (non-decreasing). The first and last `warm`
// slices are the pipeline filling and draining; of the slices between, the window is the
// longest whole number of periods ending at the last of them. The period is the smallest p
// with every increment end[k] - end[k-1] in the middle within `tolerance` (relative to their
// mean) of the one p slices later: a steady state may alternate between slices (FLAT's
// kernels overlapped across heads settle into a two-slice rhythm), and a window of an odd
// number of slices would then weigh one kind of slice twice. No repeat found: the whole
// middle (as for one slice period). Fewer than 2 middle slices: every slice.
SteadyWindow steady_window(const std::vector<double>& end, int64_t warm, double tolerance = 1e-3);

}  // namespace cascade
