"""bench/recording.py's rows are well formed (the shape bench/run.py collects); no timing is asserted."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "recording.py"


def _load_bench():
    """bench/recording.py as a module, without putting bench/ on sys.path (its modules' names are generic)."""
    spec = importlib.util.spec_from_file_location("bench_recording", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_rows_are_well_formed():
    rows = _load_bench().rows(quick=True)
    assert [(row["workload"], row["dtype"]) for row in rows] == [("recording", "float32"), ("recording", "float64")]
    for row in rows:
        assert row["unit"] == "ms" and row["baseline_name"] == "unrecorded" and row["description"]
        assert row["value"] > 0 and row["baseline"] > 0
        assert row["ratio"] == pytest.approx(row["value"] / row["baseline"])
        assert row["target"] == "≤ 1.3× unrecorded" and row["met"] == (row["ratio"] <= 1.3)
        assert row["extra"]["read_stats_ms"] >= 0 and row["extra"]["per_round_ratio"] > 0
