"""The bench scripts' rows for bench/run.py are well formed (quick runs, small sizes): recording beside the
unrecorded step; detect_anomaly()'s step beside the unchecked one, at the script's own stack and 20 frames
deeper, with PyTorch's ratio when it is installed; trace save, load and the JSON export in CPU seconds (a
500-node trace) with wall time and peak memory; the browser's first paint and slowest key (a 2,000-node
trace) with each key's median. No timing is asserted."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import gradscope

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"workload", "dtype", "unit", "description", "value", "baseline", "baseline_name", "ratio", "target", "met",
          "extra"}


def load_bench(name: str):
    """bench/NAME.py as a module, without putting bench/ on sys.path (its modules' names are generic)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recording_rows_are_well_formed():
    rows = load_bench("recording").rows(quick=True)
    assert [(row["workload"], row["dtype"]) for row in rows] == [("recording", "float32"), ("recording", "float64")]
    for row in rows:
        assert row["unit"] == "ms" and row["baseline_name"] == "unrecorded" and row["description"]
        assert row["value"] > 0 and row["baseline"] > 0
        assert row["ratio"] == pytest.approx(row["value"] / row["baseline"])
        assert row["target"] == "≤ 1.3× unrecorded" and row["met"] == (row["ratio"] <= 1.3)
        assert row["extra"]["read_stats_ms"] >= 0 and row["extra"]["per_round_ratio"] > 0


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled:UserWarning")
def test_anomaly_rows_are_well_formed():
    bench = load_bench("anomaly")
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


def test_trace_io_rows_are_well_formed():
    rows = load_bench("trace_io").rows(quick=True)
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


def test_tui_rows_are_well_formed(monkeypatch):
    monkeypatch.chdir(ROOT)  # the floor records a sample model, whose source paths are relative to the root
    rows = load_bench("tui").rows(quick=True)
    assert [row["workload"] for row in rows] == ["browser first paint", "browser per key", "browser anomaly list"]
    for row in rows:
        assert set(row) == FIELDS
        assert row["unit"] == "ms" and row["dtype"] == "-"
        assert row["value"] > 0 and row["baseline"] is None and row["ratio"] is None
        assert row["met"] == (row["value"] < float(row["target"].split()[1]))
    paint, key, anomalies = rows
    assert paint["target"] == "< 700 ms" and key["target"] == "< 50 ms" and anomalies["target"] == "< 300 ms"
    assert "2,520 anomalies" in anomalies["description"] and anomalies["extra"]["wall_ms"] > 0
    files = {f"trace_file_{step}_{clock}s" for step in ("read", "write") for clock in ("", "cpu_")}
    assert files <= set(paint["extra"]) and all(paint["extra"][name] >= 0 for name in files)
    assert paint["extra"]["layout_ms"] > 0
    medians = {name.removesuffix(" ms"): value for name, value in key["extra"].items() if name.endswith(" ms")
               and not name.startswith("floor")}
    assert len(medians) > 30  # every kind of key: moving, folding, search, each view and back, passes
    assert key["value"] == max(medians.values()) == medians[key["extra"]["slowest"]]
    assert "j in 2,520 anomalies" in medians and "G in 2,520 anomalies (the last)" in medians
