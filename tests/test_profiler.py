"""gradscope.profiler (torch.profiler): regions, backward nodes and ops recorded with their wall times, PyTorch's
table layout, schedule and on_trace_ready cadence (against torch's), Chrome traces."""

from __future__ import annotations

import json
import time

import pytest

import gradscope
from gradscope import profiler

torch = pytest.importorskip("torch")
import torch.profiler  # noqa: E402, F811 - binds torch.profiler


def _profiled():
    x = gradscope.randn(32, 32, requires_grad=True)
    start = time.perf_counter()
    with profiler.profile(activities=[profiler.ProfilerActivity.CPU], record_shapes=True) as prof:
        with profiler.record_function("forward"):
            y = (x @ x).relu().sum()
        y.backward()
    return prof, (time.perf_counter() - start) * 1e6


def test_regions_nodes_and_ops_are_recorded_and_nested():
    prof, elapsed = _profiled()
    events = prof.events()
    names = [e.name for e in events]
    assert names[:4] == ["forward", "aten::mm", "aten::relu", "aten::sum"]
    assert "autograd::engine::evaluate_function: MmBackward0" in names and "MmBackward0" in names
    forward = events[0]
    assert [c.name for c in forward.children] == ["aten::mm", "aten::relu", "aten::sum"]
    assert forward.cpu_time_total == pytest.approx(sum(c.cpu_time_total for c in forward.children)
                                                   + forward.self_cpu_time_total)
    outer = events[names.index("autograd::engine::evaluate_function: MmBackward0")]
    assert [c.name for c in outer.children] == ["MmBackward0"]
    assert 0 < events.self_cpu_time_total <= elapsed
    mm = [row for row in prof.key_averages(group_by_input_shape=True) if row.key == "aten::mm"][0]
    assert mm.count == 1 and mm.input_shapes == [[32, 32], [32, 32]]


def test_the_table_is_laid_out_as_torchs():
    prof, _ = _profiled()
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=3)
    ours = table.splitlines()
    x = torch.randn(8, 8)
    with torch.profiler.profile() as theirs_prof:
        (x @ x).sum()
    theirs = theirs_prof.key_averages().table(sort_by="cpu_time_total", row_limit=3).splitlines()
    assert ours[1].split() == theirs[1].split()  # the header
    assert set(ours[0]) == set(theirs[0]) == {"-", " "}
    assert len(ours) == 3 + 3 + 2 and ours[-1].startswith("Self CPU time total: ")
    # the first row is the key with the most CPU time: "forward" or the MmBackward0 node's, by the machine's timing
    top = max(prof.key_averages(), key=lambda row: row.cpu_time_total)
    assert top.key.split()[0] in ("forward", "autograd::engine::evaluate_function:")
    assert ours[3].split()[0] == top.key.split()[0] and ours[3].split()[-1] == "1"


@pytest.mark.parametrize("arguments", [dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=0, active=1, repeat=2),
                                       dict(wait=2, warmup=1, active=3, repeat=1, skip_first=2),
                                       dict(wait=1, warmup=0, active=2, skip_first_wait=1)])
def test_schedule_and_trace_cadence_match_torch(arguments):
    ours, theirs = profiler.schedule(**arguments), torch.profiler.schedule(**arguments)
    assert [ours(step).name for step in range(14)] == [theirs(step).name for step in range(14)]
    cadence = []
    for lib, module in ((gradscope, profiler), (torch, torch.profiler)):
        saved = []
        x = lib.ones(3, requires_grad=True)
        with module.profile(schedule=module.schedule(**arguments),
                            on_trace_ready=lambda prof, saved=saved: saved.append(prof.step_num)) as prof:
            for _ in range(10):
                (x * 2).sum().backward()
                prof.step()
        cadence.append(saved)
    assert cadence[0] == cadence[1]


def test_decorator_chrome_trace_and_trace_handler(tmp_path):
    @profiler.record_function("helper")
    def helper(t):
        return t * 3

    with profiler.profile(on_trace_ready=profiler.tensorboard_trace_handler(str(tmp_path / "tb"))) as prof:
        helper(gradscope.ones(2))
    assert [e.name for e in prof.events()] == ["helper", "aten::mul"]
    prof.export_chrome_trace(tmp_path / "trace.json")
    trace = json.loads((tmp_path / "trace.json").read_text())
    assert [e["name"] for e in trace["traceEvents"]] == ["helper", "aten::mul"]
    assert len(list((tmp_path / "tb").iterdir())) == 1
    assert gradscope.profiler.ProfilerActivity.CPU.name == torch.profiler.ProfilerActivity.CPU.name


def test_profiling_ends_with_the_block():
    from gradscope.autograd import observers

    with profiler.profile():
        assert not observers.idle
    assert observers.idle
