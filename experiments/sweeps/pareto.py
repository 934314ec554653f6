#!/usr/bin/env python3
"""Pareto plot of a sweep's database (`cascade sweep FILE --db DB`).

The front over (latency, energy, area), all minimised, is computed here on its own (a point
is dropped when another is no worse in all three and better in one), the same rule as
`cascade sweep report`, which tests/cli/sweep_pareto.sh holds it to. Two
panels, latency and energy against area, both logarithmic; every successful point in grey,
the front's points coloured by --color (a setting of the sweep's points, default the first
one that varies) and joined in area order.

    cascade sweep configs/sweeps/fusemax-pareto.yaml --db pareto.sqlite
    /usr/bin/python3 experiments/sweeps/pareto.py pareto.sqlite        # writes pareto.png
"""

import argparse
import json
import math
import sqlite3
import sys

FIGURES = ("latency_s", "energy_j", "area_mm2")


def dominates(a, b):
    return all(a[f] <= b[f] for f in FIGURES) and any(a[f] < b[f] for f in FIGURES)


def pareto_front(points):
    """The points no other point dominates, in index order. Scanned in (latency, energy, area)
    order, a point can only be dominated by one before it, and then by a front member: each
    point is compared with the front so far (O(n * front), not O(n^2): sweeps reach 10^6)."""
    front = []
    for p in sorted(points, key=lambda p: tuple(p[f] for f in FIGURES)):
        if not any(dominates(q, p) for q in front):
            front.append(p)
    return sorted(front, key=lambda p: p["index"])


def load(db, sweep):
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        query = "SELECT sweep, idx, key, point, latency_s, energy_j, area_mm2 FROM points WHERE status = 'ok'"
        rows = con.execute(query + (" AND sweep = ?" if sweep else ""), (sweep,) if sweep else ()).fetchall()
    except sqlite3.Error as e:
        sys.exit(f"{db}: not a sweep database ({e})")
    sweeps = sorted({r[0] for r in rows})
    if len(sweeps) > 1:
        sys.exit(f"{db} holds the sweeps {', '.join(sweeps)}: choose one with --sweep")
    if not rows:
        sys.exit(f"{db}: no successful point" + (f" of sweep '{sweep}'" if sweep else ""))
    return sweeps[0], [dict(index=r[1], key=r[2], point=json.loads(r[3]), latency_s=r[4],
                            energy_j=r[5], area_mm2=r[6]) for r in sorted(rows, key=lambda r: r[1])]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("db", help="a sweep's SQLite database")
    ap.add_argument("--sweep", help="the sweep to plot when the database holds several")
    ap.add_argument("--out", help="PNG to write (default: the database's name with .png)")
    ap.add_argument("--color", help="setting that colours the front's points")
    ap.add_argument("--where", action="append", default=[], metavar="SETTING=VALUE",
                    help="only the points with this value (repeatable), e.g. cascade=linear")
    ap.add_argument("--front-csv", help="also write the front's indices and keys as CSV")
    ap.add_argument("--no-plot", action="store_true", help="only the front (no matplotlib)")
    args = ap.parse_args()

    name, points = load(args.db, args.sweep)
    for condition in args.where:
        setting, _, value = condition.partition("=")
        if all(setting not in p["point"] for p in points):
            sys.exit(f"--where {condition}: not a setting of the points (settings: {', '.join(points[0]['point'])})")
        points = [p for p in points if str(p["point"].get(setting)) == value]
        if not points:
            sys.exit(f"--where {condition}: no point has it")
        name += f", {condition}"
    front = pareto_front(points)
    print(f"{name}: Pareto front over (latency, energy, area): {len(front)} of {len(points)} points")
    for p in sorted(front, key=lambda p: p["latency_s"]):
        print(f"  {p['index']:>6}  {p['latency_s']:.6e} s  {p['energy_j']:.6e} J  "
              f"{p['area_mm2']:.4f} mm2  {json.dumps(p['point'])}")
    if args.front_csv:
        with open(args.front_csv, "w") as f:
            f.write("index,key\n" + "".join(f"{p['index']},{p['key']}\n" for p in front))
    if args.no_plot:
        return

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    varying = [k for k in points[0]["point"] if len({json.dumps(p["point"].get(k)) for p in points}) > 1]
    color = args.color or (varying[0] if varying else None)
    if color and all(color not in p["point"] for p in points):
        sys.exit(f"--color {color}: not a setting of the points (settings: {', '.join(points[0]['point'])})")
    values = sorted({str(p["point"].get(color)) for p in front}, key=lambda v: (not v.replace(".", "", 1).isdigit(), float(v) if v.replace(".", "", 1).isdigit() else 0, v))
    cmap = plt.get_cmap("viridis")
    fig, axs = plt.subplots(1, 2, figsize=(11, 4.4))
    for ax, y, label in ((axs[0], "latency_s", "latency (s)"), (axs[1], "energy_j", "energy (J)")):
        ax.scatter([p["area_mm2"] for p in points], [p[y] for p in points], s=10, color="0.8",
                   label="all points")
        for i, v in enumerate(values):
            sel = [p for p in front if str(p["point"].get(color)) == v]
            ax.scatter([p["area_mm2"] for p in sel], [p[y] for p in sel], s=30,
                       color=cmap(i / max(1, len(values) - 1)), label=f"front: {color} = {v}")
        # The staircase of the panel's two figures (the 2-D front of the 3-D front's points).
        line, best = [], math.inf
        for p in sorted(front, key=lambda p: (p["area_mm2"], p[y])):
            if p[y] < best:
                line.append(p)
                best = p[y]
        ax.step([p["area_mm2"] for p in line], [p[y] for p in line], "k--", lw=0.8, where="post")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("area (mm$^2$)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which="both")
    axs[1].legend(fontsize=7)
    fig.suptitle(f"{name}: {len(front)} Pareto-optimal of {len(points)} points (latency, energy, area)")
    fig.tight_layout()
    out = args.out or args.db.rsplit(".", 1)[0] + ".png"
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
