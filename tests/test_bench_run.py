"""bench/run.py's output is well formed: a quick run writes one JSON row and one table line per (workload,
dtype), with every implementation's time, the ratios and the targets. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_quick_run_writes_a_table_and_json(tmp_path):
    out = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--only", "chain,narrow", "--dtypes", "float32",
         "--repeats", "1", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    report = json.loads(out.with_suffix(".json").read_text())
    rows = report["rows"]
    assert [(row["workload"], row["dtype"]) for row in rows] == [("chain", "float32"), ("narrow", "float32")]
    for row in rows:
        assert row["times"]["numpy"] > 0 and row["times"]["gradscope"] > 0
        assert row["ratios"]["gradscope/numpy"] == pytest.approx(row["times"]["gradscope"] / row["times"]["numpy"])
        torch_installed = report["settings"]["pytorch"] is not None
        assert (row["times"]["pytorch"] is not None) == torch_installed
        assert ("gradscope/pytorch" in row["ratios"]) == torch_installed
        for target in row["targets"]:
            assert target["met"] in (True, False, None)
            assert target["met"] is None or target["met"] == (target["ratio"] <= target["bound"])
    assert rows[0]["unit"] == "µs/op" and rows[1]["unit"] == "ms"
    table = out.with_suffix(".md").read_text().splitlines()
    header = next(i for i, line in enumerate(table) if line.startswith("| workload |"))
    body = table[header + 2:header + 2 + len(rows)]
    assert [line.split("|")[1].strip() for line in body] == ["chain", "narrow"]
    assert all(line.count("|") == table[header].count("|") for line in body)
    assert "- `narrow`: 10 × (Linear 8→8 + tanh), batch 4, MSE, fwd+bwd" in table


def test_an_unknown_workload_is_a_usage_error(tmp_path):
    completed = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--only", "nonsense", "--out",
                                str(tmp_path / "r")], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert "unknown workload(s) nonsense" in completed.stderr
