"""gradscope.watch around a training loop of one's own: monitoring, stopping, evidence, history."""

from __future__ import annotations

import json
import math
import sys
import warnings

import numpy as np
import pytest

import gradscope as torch
from gradscope import nn
from gradscope.autograd import observers
from gradscope.trace.tracefile import load_trace
from gradscope.watching import StepRecord, WatchStop, parse_rules, read_history
from gradscope.watching.metrics import Finding, ParameterStep
from gradscope.watching.rules import WatchRuleError

BAD_STEP = 5


def train(steps: int, bad_step: int | None = BAD_STEP, lr: float = 0.05, model=None):
    """Log-count features; at `bad_step` one count is 0, so log makes -inf outside the graph (see the
    sample watch_log_outside_graph.py). Returns the model."""
    torch.manual_seed(0)
    model = model or nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for step in range(steps):
        counts = torch.randint(1, 20, (32, 6)).float()
        if step == bad_step:
            counts[3, 2] = 0.0
        target = (counts[:, :1] > 10).float()
        features = torch.log(counts)  # LOG LINE
        loss = nn.functional.mse_loss(model(features), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


LOG_LINE = next(number for number, line in enumerate(open(__file__).read().splitlines(), 1)
                if line.rstrip().endswith("# LOG LINE"))


def test_stops_at_the_step_where_log_made_inf_outside_the_graph():
    with pytest.raises(WatchStop) as stopped, torch.watch() as watched:
        train(20)
    report = stopped.value.report
    first = report.first_anomaly
    assert (first.step, first.phase, first.role, first.op, first.node) == (BAD_STEP, "forward", "culprit", "log", None)
    assert (first.file, first.line) == (__file__, LOG_LINE)
    assert first.message == "log produced 1 -inf: log of a value <= 0 (input min 0)"
    assert report.stopped and report.steps_run == BAD_STEP + 1
    assert math.isfinite(report.loss)  # tanh saturates: the loss of that step is still finite
    assert report.first_parameter.parameter.endswith("0.weight") and report.first_parameter.phase == "backward"
    assert [record.step for record in watched.history] == list(range(BAD_STEP + 1))
    assert watched.history[-1].parameters[report.first_parameter.parameter].value_nonfinite == 16
    assert sorted(watched.evidence) == [BAD_STEP - 1, BAD_STEP]  # keep=1: the step before it too
    assert observers.WATCHERS == () and observers.GLOBAL == ()  # stopped listening


def test_recordings_of_the_kept_steps_are_full_traces(tmp_path):
    with pytest.raises(WatchStop) as stopped, torch.watch(out=tmp_path, keep=2):
        train(20)
    report = stopped.value.report
    assert [p.rsplit("/", 1)[-1] for p in report.traces] == [f"step-{s:06d}.gstrace" for s in (3, 4, 5)]
    trace = load_trace(tmp_path / "step-000005.gstrace")
    assert trace.meta["step"] == BAD_STEP and len(trace.passes) == 1
    culprits = [trace.nodes[a.node] for a in trace.culprits() if a.phase == "backward"]
    assert culprits and culprits[0].source.line != LOG_LINE  # the backward culprit is the layer fed -inf
    assert report.backward_culprit.startswith(culprits[0].name)
    assert report.backward_culprit.endswith(f"(at {culprits[0].source})")
    history = read_history(tmp_path / "history.jsonl")
    assert [r.step for r in history] == list(range(BAD_STEP + 1))
    assert history[-1].findings[0].op == "log"


def test_keep_going_runs_to_the_end_and_records_every_anomaly():
    with torch.watch(keep_going=True, keep=None) as watched:
        train(12)
    report = watched.report
    assert not report.stopped and report.reason == "finished" and report.steps_run == 12
    assert report.first_anomaly.step == BAD_STEP
    assert report.anomalous_steps == list(range(BAD_STEP, 12))  # NaN parameters from then on
    later = [f for f in report.anomalies if f.step == BAD_STEP + 1]
    assert later and later[0].role == "propagator"


def test_a_clean_run_reports_no_anomaly_and_max_steps_stops_it():
    with torch.watch(keep=None) as watched:
        train(6, bad_step=None)
    assert watched.report.first_anomaly is None and watched.report.steps_run == 6
    assert all(r.loss is not None and r.parameters for r in watched.history)
    ratios = [p.update_ratio for p in watched.history[0].parameters.values()]
    assert all(r is not None and 0 < r < 1 for r in ratios)
    with pytest.raises(WatchStop) as stopped, torch.watch(max_steps=3):
        train(6, bad_step=None)
    assert stopped.value.report.reason == "max-steps" and stopped.value.report.steps_run == 3
    assert stopped.value.report.first_anomaly is None


def test_parameters_are_named_after_the_model_and_the_scope_is_the_module():
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(4, 2)

        def forward(self, h):
            return (self.proj(h).sigmoid() * torch.tensor([1.0, 0.0])).log()  # log(0) in the graph

    net = nn.Sequential(nn.Linear(3, 4), Head())
    with pytest.raises(WatchStop) as stopped, torch.watch(net):
        net(torch.randn(5, 3)).sum().backward()
    first = stopped.value.report.first_anomaly
    assert (first.op, first.scope, first.node) == ("log", "model.1", "LogBackward0")
    assert first.message == "log produced 5 -inf: log of a value <= 0 (input min 0)"


def test_spike_rule_stops_a_diverging_run_before_it_overflows():
    torch.manual_seed(0)
    features = torch.randn(64, 8)
    targets = features @ torch.randn(8, 1)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    with pytest.raises(WatchStop) as stopped, torch.watch(model, rules=["grad-spike"], keep=None):
        for step in range(100):
            optimizer.param_groups[0]["lr"] = 1e-3 * 1.5**step
            loss = nn.functional.mse_loss(model(features), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    first = stopped.value.report.first_anomaly
    assert first.rule == "grad-spike" and first.phase == "backward"
    assert math.isfinite(stopped.value.report.loss)
    assert any("grew" in line for line in stopped.value.report.before)


def test_rules_parse_and_refuse_nonsense():
    rules = parse_rules(["grad-spike=20", "loss-spike", "grad-norm=model.fc1.*<=1e3"])
    assert (rules.grad_spike, rules.loss_spike, str(rules.bounds[0])) == (20.0, 10.0, "model.fc1.*<=1000")
    for bad in ("grad-spike=0.5", "loss-spike=x", "nonsense", "grad-norm=<=3"):
        with pytest.raises(WatchRuleError):
            parse_rules([bad])


def test_history_lines_round_trip_with_nonfinite_numbers():
    record = StepRecord(3, math.inf, 2, {"w": ParameterStep(math.nan, 4, None, 1), "b": ParameterStep(0.5)},
                        [Finding(3, "update", "nonfinite", "bad", parameter="w")])
    line = json.dumps(record.to_json(), allow_nan=False)  # strict JSON
    back = StepRecord.from_json(json.loads(line))
    assert back.loss == math.inf and back.step == 3 and back.optimizer_steps == 2
    assert math.isnan(back.parameters["w"].grad_norm) and back.parameters["w"].grad_nonfinite == 4
    assert back.parameters["w"].value_nonfinite == 1 and back.parameters["b"].grad_norm == 0.5
    assert back.findings == record.findings


def test_the_package_exports_watch():
    assert torch.WatchStop is WatchStop and torch.watch is sys.modules["gradscope.watching"].watch


def test_ops_a_backward_pass_runs_are_not_forward_findings():
    """With create_graph the backward runs ops too (sqrt's derivative at 0 is inf): they belong to
    the backward pass, not to the forward check."""
    x = torch.zeros(3, requires_grad=True)
    with torch.watch(keep=None, keep_going=True) as watched:
        (grad,) = torch.autograd.grad(x.sqrt().sum(), x, create_graph=True)
        (x * 2).sum().backward()
    assert math.isinf(grad[0].item())
    assert watched.report.steps_run == 2 and watched.report.first_anomaly is None


def test_the_scope_of_a_culprit_deep_in_a_model_is_its_modules_path():
    class Block(nn.Module):
        def __init__(self, gate):
            super().__init__()
            self.fc = nn.Linear(2, 2)
            self.gate = gate

        def forward(self, h):
            return self.fc(h).sigmoid().mul(self.gate).sqrt().log()  # log(0) where the gate is 0

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([Block(torch.ones(2)), Block(torch.tensor([1.0, 0.0]))])

        def forward(self, h):
            for layer in self.layers:
                h = layer(h).exp()
            return h.sum()

    net = Net()
    with pytest.raises(WatchStop) as stopped, torch.watch(keep=None):
        net(torch.randn(3, 2)).backward()
    first = stopped.value.report.first_anomaly
    assert (first.op, first.scope, first.role) == ("log", "net.layers.1", "culprit")


def test_kept_recordings_keep_values_only_up_to_the_recorders_limit(tmp_path):
    """The ring copies arrays (cheaper than statistics); a kept step's trace summarises the large ones,
    as `inspect --save` keeps them, and reads back."""
    torch.manual_seed(0)
    layer = nn.Linear(80, 64)
    x = torch.randn(100, 80)
    with pytest.raises(WatchStop), torch.watch(out=tmp_path, keep=0):
        out = layer(x)  # 6,400 elements: above the 4,096 kept as values
        (out.sum() * torch.tensor(math.inf)).backward()
    trace = load_trace(tmp_path / "step-000000.gstrace")
    assert trace.meta["keep_values"] == 4096
    records = [r for node in trace.nodes.values() for r in node.outputs if r is not None and r.shape == (100, 64)]
    assert records and not records[0].has_values
    assert math.isclose(records[0].stats.norm, float(np.linalg.norm(out.detach().numpy())), rel_tol=1e-5)
    small = [r for node in trace.nodes.values() for r in node.inputs if r is not None and r.shape == (64,)]
    assert small and small[0].has_values  # the bias: kept whole


def test_the_current_steps_recorder_listens_to_the_engine_itself():
    """Kept recordings cost what a recorder costs: the engine hands each event to the current step's
    Recorder, with no forwarding object between them, and each step's recorder takes its predecessor's place."""
    from gradscope.trace.recorder import Recorder
    from gradscope.watching.recordings import StepRecordings

    recordings = StepRecordings()
    recordings.start()
    try:
        first = recordings._recorder
        assert isinstance(first, Recorder) and observers.GLOBAL == (first,)
        recordings.pass_ended(0, {})
        assert recordings._recorder is not first and observers.GLOBAL == (recordings._recorder,)
    finally:
        recordings.stop()
    assert observers.GLOBAL == ()
    recordings.pass_ended(1, {})  # a step ending after the recordings stopped doesn't listen again
    assert observers.GLOBAL == () and [step for step, _ in recordings.recent()] == [0, 1]


@pytest.mark.parametrize("method, scalar", [("div_", 0), ("div_", 0.0), ("mul_", math.inf), ("add_", 2), ("sub_", 0.5)])
def test_a_watcher_sees_scalar_in_place_ops_outside_the_graph_and_nothing_else_changes(monkeypatch, method, scalar):
    """`x.div_(0)` on a tensor that requires no grad: unwatched, one ufunc in place (no op, no temporary); watched
    (a watcher only, as `gradscope watch --no-traces`), the op itself, which the watcher is told of. The values, the
    version, the dtype and the silence on division by zero are torch's either way."""
    import torch as reference

    from gradscope.autograd import inplace

    general = []
    monkeypatch.setattr(inplace, "_inplace", lambda *args, _general=inplace._inplace, **kwargs: (
        general.append(args[0]), _general(*args, **kwargs))[1])

    class Watcher:
        def __init__(self):
            self.ops = []

        def op_computed(self, op, inputs, outputs):
            self.ops.append((op.name, [float(v) for v in outputs[0]._data.ravel()]))

    values = [1.0, -2.0, 0.0]
    expected = getattr(reference.tensor(values), method)(scalar)
    for watched in (False, True):
        x = torch.tensor(values)
        watcher = Watcher()
        if watched:
            observers.add_watcher(watcher)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # numpy's "divide by zero encountered" is no warning in torch
                returned = getattr(x, method)(scalar)
        finally:
            observers.remove_watcher(watcher)
        assert returned is x and x._version == 1 and x.dtype == torch.float32
        np.testing.assert_array_equal(x.numpy(), expected.numpy())
        assert general == ([x] if watched else [])
        assert [name for name, _ in watcher.ops] == ([method[:-1]] if watched else [])
        general.clear()
    assert observers.idle
