#!/usr/bin/env python3
"""What the attention-families sweep finds (configs/sweeps/attention-families.yaml), as the
markdown table configs/sweeps/README.md shows: per family and length, the FuseMax design
(2D 256 x 256, 1D 256, 400 GiB/s) and its bottleneck, how much its latency moves when only
the DRAM bandwidth (200 -> 1600 GiB/s) or only the 1D array (64 -> 1024 PEs) changes, and the
smallest design within 5 % of the family's best latency.

    cascade sweep attention-families --csv families.csv
    /usr/bin/python3 experiments/sweeps/families.py families.csv
"""
import csv
import sys

ROWS2D, COLS1D, BW = ("arch.arrays.array_2d.rows", "arch.arrays.array_1d.cols",
                      "arch.components.dram.bandwidth_gib_per_s")


def main():
    with open(sys.argv[1]) as f:
        rows = [r for r in csv.DictReader(f) if r["status"] == "ok"]
    design = {ROWS2D: "256", COLS1D: "256", BW: "400"}

    def at(sel, **change):
        want = dict(design, **{k: str(v) for k, v in change.items()})
        (r,) = [r for r in sel if all(r[k] == v for k, v in want.items())]
        return r

    print("| cascade | tokens | FuseMax design: latency, bottleneck | DRAM 200 → 1600 GiB/s | "
          "1D 64 → 1024 PEs | smallest design within 5 % of the best latency |")
    print("|---|---|---|---|---|---|")
    for cascade in dict.fromkeys(r["cascade"] for r in rows):
        for seq in dict.fromkeys(r["seq"] for r in rows):
            sel = [r for r in rows if r["cascade"] == cascade and r["seq"] == seq]
            fm = at(sel)
            lat = lambda r: float(r["latency_s"])
            bw = lat(at(sel, **{BW: 200})) / lat(at(sel, **{BW: 1600}))
            oned = lat(at(sel, **{COLS1D: 64})) / lat(at(sel, **{COLS1D: 1024}))
            best = min(map(lat, sel))
            small = min((r for r in sel if lat(r) <= 1.05 * best), key=lambda r: float(r["area_mm2"]))
            print(f"| {cascade} | {int(seq) // 1024}K | {lat(fm) * 1e3:.4g} ms, {fm['bottleneck']} | "
                  f"{bw:.2f}x faster | {oned:.2f}x faster | {small[ROWS2D]}² 2D, {small[COLS1D]} 1D, "
                  f"{small[BW]} GiB/s: {lat(small) * 1e3:.4g} ms, {float(small['area_mm2']):.0f} mm² "
                  f"({float(small['area_mm2']) / float(fm['area_mm2']):.2f}x the FuseMax design's area) |")


if __name__ == "__main__":
    main()
