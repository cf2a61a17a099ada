"""bench/anomaly.py's rows for bench/run.py are well formed: a quick run gives detect_anomaly()'s step beside the
unchecked one, at the script's own stack and 20 frames deeper, with PyTorch's ratio when it is installed. No
timing is asserted."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import gradscope

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"workload", "dtype", "unit", "description", "value", "baseline", "baseline_name", "ratio", "target", "met",
          "extra"}


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_anomaly", ROOT / "bench" / "anomaly.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled:UserWarning")
def test_quick_rows_are_well_formed():
    bench = load_bench()
    rows = bench.rows(quick=True)
    assert [row["workload"] for row in rows] == ["anomaly mode", "anomaly mode, stack +20"]
    for row in rows:
        assert set(row) == FIELDS
        assert (row["unit"], row["dtype"], row["baseline_name"]) == ("µs", "float32", "unchecked")
        assert row["value"] > 0 and row["baseline"] > 0 and row["ratio"] > 0
        assert row["target"] == "≤ 1.2× unchecked" and row["met"] == (row["ratio"] <= 1.2)
        assert row["extra"]["ratio_of_medians"] == pytest.approx(row["value"] / row["baseline"], abs=0.01)
        assert ("pytorch_ratio" in row["extra"]) == (bench.optional_torch() is not None)
    assert not gradscope.is_anomaly_enabled()  # each block restored the mode it found
