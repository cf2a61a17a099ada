"""bench/trace_io.py's rows for bench/run.py are well formed: a quick run (a 500-node trace, one run each)
gives save, load and the JSON export in CPU seconds, with wall time and peak memory. No timing is asserted."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"workload", "dtype", "unit", "description", "value", "baseline", "baseline_name", "ratio", "target", "met",
          "extra"}


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_trace_io", ROOT / "bench" / "trace_io.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_rows_are_well_formed():
    rows = load_bench().rows(quick=True)
    assert [row["workload"] for row in rows] == ["trace save", "trace load", "export json"]
    for row in rows:
        assert set(row) == FIELDS
        assert row["unit"] == "s" and row["dtype"] == "-"
        assert row["value"] >= 0 and row["baseline"] is None and row["baseline_name"] is None and row["ratio"] is None
        assert isinstance(row["met"], bool) and "501-node" in rows[0]["description"]
        assert row["extra"]["wall_s"] > 0 and row["extra"]["peak_mb"] > 0
    save, load, export = rows
    assert save["target"] == load["target"] == "≤ 1 s" and export["target"] == "≤ 3 s, streamed"
    assert save["met"] == (save["value"] <= 1) and load["met"] == (load["value"] <= 1)
    assert save["extra"]["file_mb"] > 0 and export["extra"]["output_mb"] > save["extra"]["file_mb"]
    assert export["extra"]["load_peak_mb"] == load["extra"]["peak_mb"]
