#!/usr/bin/env python3
"""Pareto plot of a sweep's CSV (`cascade sweep ... --csv FILE`).

One panel per value of --panel (default: seq), one colour per value of --color (default: the
first axis), x = --x (default area_mm2), y = --y (default latency_s), both logarithmic; the
points on the lower-left Pareto front of each panel are joined. Failed points are skipped
and counted.

    /usr/bin/python3 experiments/sweeps/plot.py runs.csv --out runs.png
"""

import argparse
import csv
import math
import sys


def pareto(points):
    """Points not dominated in (x, y), both minimised, sorted by x."""
    front, best_y = [], math.inf
    for x, y in sorted(points):
        if y < best_y:
            front.append((x, y))
            best_y = y
    return front


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv", help="a sweep's CSV")
    ap.add_argument("--out", help="PNG to write (default: the CSV's name with .png)")
    ap.add_argument("--x", default="area_mm2")
    ap.add_argument("--y", default="latency_s")
    ap.add_argument("--panel", default="seq", help="column that splits the panels ('' = one)")
    ap.add_argument("--color", help="column that sets the colour (default: the first axis)")
    args = ap.parse_args()

    with open(args.csv) as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        rows = list(reader)
    for c in [args.x, args.y] + ([args.panel] if args.panel else []):
        if c not in columns:
            sys.exit(f"{args.csv} has no column '{c}' (columns: {', '.join(columns)})")
    axes = columns[1:columns.index("status")] if "status" in columns else []
    color = args.color or (axes[0] if axes else None)
    ok = [r for r in rows if r.get("status", "ok") == "ok"]
    failed = len(rows) - len(ok)
    if not ok:
        sys.exit(f"{args.csv}: no successful points ({failed} failed)")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = sorted({r[args.panel] for r in ok}, key=float) if args.panel else [None]
    colors = sorted({r[color] for r in ok}, key=lambda v: (float(v) if v.replace(".", "", 1).isdigit() else math.inf, v)) if color else [None]
    cmap = plt.get_cmap("viridis")
    fig, axs = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    for ax, panel in zip(axs[0], panels):
        sel = [r for r in ok if panel is None or r[args.panel] == panel]
        for i, c in enumerate(colors):
            pts = [(float(r[args.x]), float(r[args.y])) for r in sel if c is None or r[color] == c]
            if pts:
                ax.scatter(*zip(*pts), s=18, color=cmap(i / max(1, len(colors) - 1)),
                           label=f"{color} = {c}" if c is not None else None)
        front = pareto([(float(r[args.x]), float(r[args.y])) for r in sel])
        ax.plot(*zip(*front), "k--", lw=1, label="Pareto front")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(args.x)
        ax.set_ylabel(args.y)
        ax.grid(alpha=0.3, which="both")
        if panel is not None:
            ax.set_title(f"{args.panel} = {panel}")
    axs[0][-1].legend(fontsize=7)
    name = args.csv.rsplit("/", 1)[-1]
    fig.suptitle(f"{name}: {len(ok)} points" + (f" ({failed} failed, not shown)" if failed else ""))
    fig.tight_layout()
    out = args.out or args.csv.rsplit(".", 1)[0] + ".png"
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
