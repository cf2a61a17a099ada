"""bench/tui.py's rows for bench/run.py are well formed: a quick run (a 2,000-node trace, one run) gives the
first paint and the slowest key with each key's median. No timing is asserted."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"workload", "dtype", "unit", "description", "value", "baseline", "baseline_name", "ratio", "target", "met",
          "extra"}


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_tui", ROOT / "bench" / "tui.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_rows_are_well_formed(monkeypatch):
    monkeypatch.chdir(ROOT)  # the floor records a sample model, whose source paths are relative to the root
    rows = load_bench().rows(quick=True)
    assert [row["workload"] for row in rows] == ["browser first paint", "browser per key"]
    for row in rows:
        assert set(row) == FIELDS
        assert row["unit"] == "ms" and row["dtype"] == "-"
        assert row["value"] > 0 and row["baseline"] is None and row["ratio"] is None
        assert row["met"] == (row["value"] < float(row["target"].split()[1]))
    paint, key = rows
    assert paint["target"] == "< 700 ms" and key["target"] == "< 50 ms"
    files = {f"trace_file_{step}_{clock}s" for step in ("read", "write") for clock in ("", "cpu_")}
    assert files <= set(paint["extra"]) and all(paint["extra"][name] >= 0 for name in files)
    assert paint["extra"]["layout_ms"] > 0
    medians = {name.removesuffix(" ms"): value for name, value in key["extra"].items() if name.endswith(" ms")
               and not name.startswith("floor")}
    assert len(medians) > 30  # every kind of key: moving, folding, search, each view and back, passes
    assert key["value"] == max(medians.values()) == medians[key["extra"]["slowest"]]
