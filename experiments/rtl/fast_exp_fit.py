#!/usr/bin/env python3
"""The fast exp's segments (sim/functional/number_format.h kExpFastA/B, hdl/fp32_exp_pwl_seq.sv):
2^f on [0, 1] in 8 segments, each the chord on [k/8, (k+1)/8] scaled by 1 / (1 + e_k / 2),
e_k the chord's largest relative error (2^f is convex: the chord lies above it, so the
scaled line's relative error alternates between about -e_k/2 and +e_k/2), then rounded to
fp32. Prints the coefficients (fp32 hex, C hex floats) and the error on a dense grid.
Plain Python (no numpy)."""
import struct

SEGMENTS = 8
GRID = 20000


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def bits(x):
    return struct.unpack("I", struct.pack("f", x))[0]


def main():
    a_k, b_k, worst = [], [], 0.0
    for k in range(SEGMENTS):
        lo, hi = k / SEGMENTS, (k + 1) / SEGMENTS
        b = (2 ** hi - 2 ** lo) * SEGMENTS
        a = 2 ** lo - b * lo
        grid = [lo + (hi - lo) * j / GRID for j in range(GRID + 1)]
        chord_err = max((a + b * f) / 2 ** f - 1 for f in grid)
        a, b = f32(a / (1 + chord_err / 2)), f32(b / (1 + chord_err / 2))
        a_k.append(a)
        b_k.append(b)
        errs = [(a + b * f) / 2 ** f - 1 for f in grid]
        worst = max(worst, max(abs(e) for e in errs))
        print(f"k={k}: a={bits(a):08X} b={bits(b):08X} error [{min(errs):+.4e}, {max(errs):+.4e}]")
    print("a (hex floats):", ", ".join(x.hex() for x in a_k))
    print("b (hex floats):", ", ".join(x.hex() for x in b_k))
    print(f"max |p(f)/2^f - 1| = {worst:.4e}")


if __name__ == "__main__":
    main()
