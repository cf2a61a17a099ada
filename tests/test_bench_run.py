"""bench/run.py's output is well formed: a quick run writes one JSON row and one table line per (workload,
dtype), with every implementation's time, the ratios and the targets. No timing is asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
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
    assert report["settings"]["heap"] and f"heap: {report['settings']['heap']}." in table[0]
    assert report["settings"]["cpu"] and f", {report['settings']['cpu']}, one thread" in table[0]
    for row in rows:
        peaks = row["peak_mb"]
        assert set(peaks) == {"numpy", "gradscope"} and min(peaks.values()) > 0
        assert any(line.startswith(f"- {row['workload']} float32: ") and line.endswith("× the floor)")
                   for line in table)


def test_step_peaks_count_what_a_step_holds_at_once(monkeypatch):
    """Issue 15's "no hidden copies": the peak is the most a step holds at once, not the sum of what it allocates."""
    run = _bench_run_module(monkeypatch)

    def holds_two():
        first = np.ones(1_000_000)
        second = np.ones(1_000_000)
        return first.sum() + second.sum()

    def one_at_a_time():
        for _ in range(4):
            np.ones(1_000_000).sum()

    peaks = run.step_peaks({"numpy": holds_two, "gradscope": one_at_a_time, "pytorch": holds_two})
    assert set(peaks) == {"numpy", "gradscope"}  # torch's allocator is invisible to tracemalloc
    assert 16e6 <= peaks["numpy"] < 16.5e6
    assert 8e6 <= peaks["gradscope"] < 8.5e6


def test_an_unknown_workload_is_a_usage_error(tmp_path):
    completed = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--only", "nonsense", "--out",
                                str(tmp_path / "r")], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert "unknown workload(s) nonsense" in completed.stderr


def _bench_run_module(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import run
    return run


FAKE_RECORDING_ROW = {
    "workload": "recording", "dtype": "float32", "unit": "ms", "description": "fake recorded step", "value": 2.6,
    "baseline": 2.0, "baseline_name": "unrecorded", "ratio": 1.3, "target": "≤ 1.3× unrecorded", "met": True,
    "extra": {"peak_mb": 12.5}}


def _fake_bench(monkeypatch, tmp_path, rows_source: str, run):
    """A bench script `fake_bench.py` on sys.path (so the process each debugger bench runs in imports it too),
    registered as the debugger bench "fake"."""
    folder = tmp_path / "fake"
    folder.mkdir()
    (folder / "fake_bench.py").write_text(
        "import os, sys\n"
        f"def rows(quick):\n    return {rows_source}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setitem(run.DEBUGGER_BENCHES, "fake", "fake_bench")


def test_debugger_rows_form_a_second_table(monkeypatch, tmp_path):
    run = _bench_run_module(monkeypatch)
    _fake_bench(monkeypatch, tmp_path, repr([FAKE_RECORDING_ROW]), run)
    out = tmp_path / "results"
    rows = run.run(["fake"], ["float32"], "quick", 1, 0.0, out, echo=lambda line: None)
    assert rows == [FAKE_RECORDING_ROW]
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["rows"] == [] and report["debugger_rows"][0]["ratio"] == 1.3
    table = out.with_suffix(".md").read_text()
    assert "| recording | float32 | ms | 2.6 | 2 (unrecorded) | 1.3 | ≤ 1.3× unrecorded | yes | peak_mb 12.5 |" in table
    assert "- `recording` (float32): fake recorded step" in table


def test_each_debugger_bench_runs_in_a_process_of_its_own(monkeypatch, tmp_path):
    run = _bench_run_module(monkeypatch)
    row = dict(FAKE_RECORDING_ROW, extra={})
    _fake_bench(monkeypatch, tmp_path, f"[dict({row!r}, extra={{'pid': os.getpid(), 'quick': quick}})]", run)
    first, = run.debugger_rows("fake", quick=True)
    second, = run.debugger_rows("fake", quick=False)
    assert first["extra"]["quick"] is True and second["extra"]["quick"] is False
    assert len({first["extra"]["pid"], second["extra"]["pid"], os.getpid()}) == 3


def test_a_debugger_row_missing_a_key_is_reported(monkeypatch, tmp_path):
    run = _bench_run_module(monkeypatch)
    _fake_bench(monkeypatch, tmp_path, "[{'workload': 'browser', 'value': 1.0}]", run)
    with pytest.raises(ValueError, match="bench/fake_bench.py row 'browser' lacks"):
        run.rows_of("fake_bench", quick=True)
    with pytest.raises(RuntimeError, match="(?s)fake_bench.py failed in its own process.*row 'browser' lacks"):
        run.debugger_rows("fake", quick=True)


def test_rows_are_timed_in_the_threads_cpu_time(monkeypatch):
    """A descheduled step must not count: on a shared machine the wall median of one implementation can be
    several times its CPU time (session 9: 13.2 ms wall for a 2.2 ms step)."""
    run = _bench_run_module(monkeypatch)

    def sleeper():
        time.sleep(0.02)  # off the CPU, as a descheduled step is

    cpu, wall = run.interleaved_times({"numpy": sleeper, "gradscope": lambda: sum(range(20000))}, 3, 0.0)
    assert max(cpu["numpy"]) < 0.01 <= min(wall["numpy"])
    assert min(cpu["gradscope"]) > 0


def test_each_timed_step_follows_an_untimed_one_of_its_own(monkeypatch):
    """As in a training loop: not right after another implementation's step, whose memory would fill the caches."""
    run = _bench_run_module(monkeypatch)
    calls = []
    clock = iter(range(1000))
    monkeypatch.setattr(run.time, "thread_time", lambda: next(clock))
    monkeypatch.setattr(run.time, "perf_counter", lambda: 0.0)
    run.interleaved_times({"numpy": lambda: calls.append("numpy"), "gradscope": lambda: calls.append("gradscope")},
                          2, 0.0)
    assert calls == ["numpy", "numpy", "gradscope", "gradscope"] * 2


HEAP_PROBE = """
import resource, sys
import numpy as np
import heap
if sys.argv[1] == "keep":
    heap.keep_freed_memory()
def cycle():
    arrays = [np.ones(3 << 17) for _ in range(12)]  # 12 x 3 MiB, then all freed at once
    del arrays
cycle()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    cycle()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) // 3)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc and ru_minflt")
def test_the_heap_policy_keeps_freed_memory_so_the_next_step_does_not_page_fault(tmp_path):
    """With glibc's defaults, 36 MiB freed at the top of the heap goes back to the OS and the next step faults
    on all of it again (~9,000 pages); the bench's policy keeps it, for whatever runs next."""
    if "glibc" not in heap_policy_in_a_child():
        pytest.skip("not glibc")
    faults = {}
    for policy in ("default", "keep"):
        completed = subprocess.run([sys.executable, "-c", HEAP_PROBE, policy], capture_output=True, text=True,
                                   timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT / "bench")))
        assert completed.returncode == 0, completed.stderr
        faults[policy] = int(completed.stdout.split()[-1])
    assert faults["default"] > 4000 and faults["keep"] < 100, faults


def heap_policy_in_a_child() -> str:
    completed = subprocess.run([sys.executable, "-c", "import heap; print(heap.keep_freed_memory())"],
                               capture_output=True, text=True, timeout=60,
                               env=dict(os.environ, PYTHONPATH=str(ROOT / "bench")))
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_an_aligned_copy_starts_on_a_cache_line_whatever_malloc_gives(monkeypatch):
    """heap.aligned copies an array (values, dtype, shape; memory of its own) to a 64-byte boundary, where
    NumPy's own arrays start wherever malloc's 16-byte alignment puts them."""
    _bench_run_module(monkeypatch)
    import heap
    offsets = set()
    for size in range(1, 40):
        array = np.arange(size * 3, dtype=np.float32).reshape(size, 3)[:, 1:]  # strided, too
        copy = heap.aligned(array)
        offsets.add(array.base.ctypes.data % 64)
        assert copy.ctypes.data % 64 == 0 and copy.flags.c_contiguous and copy.flags.writeable
        assert copy.dtype == array.dtype and copy.shape == array.shape and not np.shares_memory(copy, array)
        np.testing.assert_array_equal(copy, array)
    assert offsets != {0}  # malloc alone does not align them: the copy is doing it


def test_every_workload_gives_every_implementation_its_fixed_inputs_on_a_cache_line(monkeypatch):
    """Weights, data and targets start on a cache line for the floor and inside each library's tensors and
    parameters: none waits on where malloc put them, which depends on what ran before (session 16: the rnn ratio
    moved 1.26 -> 1.36 with its inputs 16 bytes off). (Each implementation has copies of its own: the training
    step's build checks three Adam steps of each against the floor's.)"""
    _bench_run_module(monkeypatch)
    import workloads
    floors = [workloads._mlp_data((8, 4, 3), 5, "float32"), workloads._rnn_data("float32", "quick"),
              workloads._narrow_data("float32", "quick"), workloads._cnn_data("float32", "quick")]
    arrays, stack = [], floors
    while stack:
        item = stack.pop()
        if isinstance(item, np.ndarray):
            arrays.append(item)
        else:
            stack = stack + list(item)
    assert len(arrays) > 20 and all(array.ctypes.data % 64 == 0 for array in arrays)
    for workload in workloads.WORKLOADS:
        for name, step in workload.build("float32", "quick").items():
            if name == "numpy" or not hasattr(step, "args"):
                continue
            arrays = []
            for item in step.args[1:]:
                if hasattr(item, "parameters"):
                    arrays += [parameter.detach().numpy() for parameter in item.parameters()]
                elif hasattr(item, "numpy"):
                    arrays.append(item.numpy())
                elif isinstance(item, list):
                    arrays += [tensor.numpy() for tensor in item]
            if workload.name != "chain":  # its leaf is made in the step, from the aligned floor's array
                assert arrays and all(array.ctypes.data % 64 == 0 for array in arrays), (workload.name, name)


def test_a_rows_per_round_ratio_comes_with_an_interval_for_its_median(monkeypatch):
    """~95% distribution-free: for 30 rounds the 10th and 21st smallest per-round ratios (the binomial's order
    statistics); it covers the true median of a known distribution in ~95% of samples; none below 6 rounds."""
    run = _bench_run_module(monkeypatch)
    values = [float(v) for v in range(30, 0, -1)]
    assert run.median_interval(values) == [10.0, 21.0]
    assert run.median_interval([1.0] * 5) is None
    rng = np.random.default_rng(0)
    covered = sum(lo <= 0 <= hi for lo, hi in (run.median_interval(list(rng.standard_normal(30)))
                                                for _ in range(2000)))
    assert 0.93 <= covered / 2000 <= 0.97
    times = {"numpy": [1.0 + 0.01 * i for i in range(30)], "gradscope": [1.3 + 0.01 * i for i in range(30)]}
    monkeypatch.setattr(run, "interleaved_times", lambda steps, repeats, budget: (times, times))
    workload = run.workloads.Workload("fake", lambda size: "fake", lambda dtype, size: {}, "ms", lambda size: 1,
                                      (("numpy", 1.3),))
    row = run.measure(workload, "float32", "full", 30, 0.0)
    lo, hi = row["per_round_interval"]["gradscope/numpy"]
    assert lo <= row["per_round_ratios"]["gradscope/numpy"] <= hi and lo < hi
