# sweep on a tiny sweep file: rows as the CLI's CSV has them, each equal to run() of the
# same point, and a rerun that computes nothing.
import csv

import pytest

import cascade

TINY = """\
name: tiny
base:
  arch: fusemax
  workload: bert-base
  cascade: softmax-1pass
  mapper: fusemax
axes:
  - seq: [1024, 2048]
  - arch.arrays.array_2d.rows: [128, 256]
    arch.arrays.array_2d.cols: [128, 256]
"""


def test_sweep_rows_equal_run_and_rerun_reuses_them(tmp_path):
    sweep_file = tmp_path / "tiny.yaml"
    sweep_file.write_text(TINY)
    db, out_csv = tmp_path / "tiny.sqlite", tmp_path / "tiny.csv"
    r = cascade.sweep(str(sweep_file), db=str(db), csv=str(out_csv), jobs=2)
    assert (r["points"], r["computed"], r["reused"], r["failed"]) == (4, 4, 0, 0)
    rows = r["rows"]
    assert [(row["seq"], row["arch.arrays.array_2d.rows"]) for row in rows] == [
        (1024, 128), (1024, 256), (2048, 128), (2048, 256)]
    # The CSV (the CLI's schema) holds the same rows, as text.
    with open(out_csv) as f:
        written = list(csv.DictReader(f))
    assert [float(w["latency_s"]) for w in written] == [row["latency_s"] for row in rows]
    assert [w["mapping"] for w in written] == [row["mapping"] for row in rows]
    # The full-size points are run()'s.
    for row in rows:
        if row["arch.arrays.array_2d.rows"] == 256:
            report = cascade.run("fusemax", "bert-base", seq=row["seq"], mapper="fusemax")
            assert row["latency_s"] == report["latency_s"]
            assert row["energy_j"] == pytest.approx(report["energy_j"], rel=1e-15)
    # A quarter of the PEs is slower.
    assert rows[0]["latency_s"] > rows[1]["latency_s"]
    again = cascade.sweep(str(sweep_file), db=str(db))
    assert (again["computed"], again["reused"], again["csv"]) == (0, 4, None)
    assert again["rows"] == rows
