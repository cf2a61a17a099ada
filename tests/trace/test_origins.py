"""Forward origins anywhere: an op outside the autograd graph (no input requires grad) that turns
finite values into non-finite ones is named, with its op, line, scope and pass, by the recorder,
by anomaly mode with check_forward, and by the `ForwardOrigins` observer others build on."""

import inspect
import json
import math
import zipfile

import numpy as np
import pytest

import gradscope as torch
from gradscope import nn
from gradscope.autograd import observers
from gradscope.trace.diagnosis import ForwardOrigins
from gradscope.trace.recorder import Recorder
from gradscope.trace.tracefile import load_trace, save_trace

pytestmark = pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled:UserWarning")


def next_line() -> int:
    return inspect.currentframe().f_back.f_lineno + 1


def outside(trace):
    return [a for a in trace.anomalies if a.node is None]


def training_loop(bad_step: int, steps: int = 4):
    """A loop whose features go through log outside the graph; one batch has a zero feature."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    with Recorder() as rec:
        for step in range(steps):
            raw = torch.rand(5, 3) + 0.5
            if step == bad_step:
                raw[2, 1] = 0.0
            line = next_line()
            features = torch.log(raw)
            loss = ((model(features) - 1) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return rec.finish({"model": model}), line, losses


def test_an_op_outside_the_graph_is_the_forward_culprit_of_its_pass():
    trace, line, losses = training_loop(bad_step=2)
    assert math.isfinite(losses[2]) and math.isnan(losses[3])  # finite loss at the step where it began
    (origin,) = outside(trace)
    assert (origin.phase, origin.role, origin.op, origin.pass_index) == ("forward", "culprit", "log", 2)
    assert (origin.source.file, origin.source.line) == (__file__, line)
    assert origin.message == "log produced 1 -inf: log of a value <= 0 (input min 0)"
    assert origin.scope is None
    # it is the first culprit: every anomaly of the graph comes in the same pass or later
    assert trace.anomalies.index(origin) == min(i for i, a in enumerate(trace.anomalies) if a.role == "culprit")
    assert all(a.pass_index >= 2 for a in trace.anomalies)


def test_finite_runs_record_nothing_outside_the_graph():
    trace, _, losses = training_loop(bad_step=-1)
    assert all(math.isfinite(loss) for loss in losses)
    assert trace.anomalies == []


class Normalise(nn.Module):
    """Preprocessing inside a module: its ops don't touch a parameter, so they make no node."""

    def forward(self, x):
        return x / x.sum(dim=1, keepdim=True)


def test_the_scope_of_an_op_outside_the_graph_is_the_module_it_ran_in():
    prep = Normalise()
    layer = nn.Linear(2, 1)
    with Recorder() as rec:
        layer(prep(torch.tensor([[1.0, -1.0], [1.0, 2.0]]))).sum().backward()
    trace = rec.finish({"prep": prep, "layer": layer})
    (origin,) = outside(trace)
    assert (origin.op, origin.scope, origin.pass_index) == ("div", "prep", 0)
    assert "division by zero" in origin.message


@pytest.mark.parametrize("make", [
    lambda x: x.log_(),
    lambda x: x.div_(0.0),  # scalar in-place arithmetic takes a fast path outside dispatch
    lambda x: x.__itruediv__(0),
    lambda x: x.reciprocal_(),
    lambda x: x.__setitem__(0, 1 / x[1]),
], ids=["log_", "div_", "/=", "reciprocal_", "setitem"])
def test_in_place_ops_outside_the_graph_are_checked(make):
    x = torch.zeros(3)
    with Recorder() as rec:
        make(x)
    assert not np.isfinite(x.numpy()).all()
    (origin,) = outside(rec.finish({}))
    assert origin.source.file == __file__
    assert origin.pass_index is None  # no backward ran after it


def test_ops_run_by_backward_are_not_forward_origins():
    """A double-backward rule evaluated on tensors runs ops too; a non-finite gradient is the
    backward's anomaly, not a forward origin."""
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    with Recorder() as rec:
        (g,) = torch.autograd.grad(x.sqrt().sum(), x, create_graph=True)
    assert math.isinf(g[0].item())
    trace = rec.finish({"x": x})
    assert outside(trace) == []
    assert {(a.phase, a.role) for a in trace.anomalies} == {("backward", "culprit")}


def test_forward_origins_as_a_plain_observer():
    origins = ForwardOrigins()
    y = torch.ones(2, requires_grad=True)
    with observers.observing(origins):
        a = torch.tensor([4.0, 0.0]).sqrt()  # finite
        line = next_line()
        b = torch.log(a) * y  # log is the origin; the mul only passes -inf on
        (b - 1).sum()
    (origin,) = origins.found
    assert (origin.op, origin.source.line) == ("log", line)
    in_graph_too = ForwardOrigins(in_graph=False)
    with observers.observing(in_graph_too):
        (y * 0).log()  # made a node: left to node observers
    assert in_graph_too.found == []


def test_out_of_graph_anomalies_survive_a_trace_file(tmp_path):
    trace, line, _ = training_loop(bad_step=1)
    path = tmp_path / "run.gstrace"
    save_trace(trace, path)
    loaded = load_trace(path)
    assert [vars(a) for a in loaded.anomalies] == [vars(a) for a in trace.anomalies]
    (origin,) = outside(loaded)
    assert (origin.op, origin.source.line, origin.pass_index) == ("log", line, 1)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    first = manifest["anomalies"][0]
    assert {key: first[key] for key in ("phase", "role", "pass", "node", "node_name", "op", "file", "line")} == {
        "phase": "forward", "role": "culprit", "pass": 1, "node": None, "node_name": None, "op": "log",
        "file": __file__, "line": line}


def test_version_1_files_still_load_with_op_source_and_scope_from_the_node(tmp_path):
    layer = nn.Linear(2, 1)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    with Recorder() as rec:
        layer(torch.tensor([[0.0, 1.0]])).log().sum().backward()
    trace = rec.finish({"layer": layer})
    path = tmp_path / "new.gstrace"
    save_trace(trace, path)
    old = tmp_path / "old.gstrace"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(old, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "manifest.json":
                manifest = json.loads(data)
                manifest["schema_version"] = 1
                manifest["anomalies"] = [{key: a[key] for key in ("phase", "role", "node", "pass", "message")}
                                         for a in manifest["anomalies"]]
                data = json.dumps(manifest).encode()
            target.writestr(info, data)
    loaded = load_trace(old)
    assert [(a.op, a.source, a.scope) for a in loaded.anomalies] == [(a.op, a.source, a.scope) for a in trace.anomalies]
    assert [(a.op, a.scope) for a in loaded.anomalies][:2] == [("log", None), ("sum", None)]
    assert {a.source.line for a in loaded.anomalies} == {trace.nodes[trace.anomalies[0].node].source.line}


# ------------------------------------------------------------------------------------ anomaly mode
def test_check_forward_stops_at_an_op_outside_the_graph():
    x = torch.tensor([1.0, 0.0])
    with pytest.raises(RuntimeError) as e:
        with torch.autograd.set_detect_anomaly(True, check_forward=True):
            line = next_line()
            x.log_()
    assert str(e.value) == ("Op 'log' returned inf values in its 0th output during the forward pass (outside the "
                            "autograd graph: none of its inputs requires grad).")
    assert x.tolist() == [1.0, 0.0]  # raised before the in-place write
    report = e.value.report
    assert (report.phase, report.role, report.node, report.node_name, report.op) == (
        "forward", "culprit", None, None, "log")
    assert report.location == f"{__file__}:{line}"
    assert report.reason == "log of a value <= 0 (input min 0)"
    assert "op        log (outside the autograd graph" in str(report)


def test_check_forward_outside_the_graph_respects_off_and_allow():
    x = torch.tensor([1.0, 0.0])
    with torch.autograd.set_detect_anomaly(True):  # check_forward off: PyTorch's behaviour
        assert torch.log(x).isinf().tolist() == [False, True]
    with torch.autograd.set_detect_anomaly(True, check_forward=True, allow=["log"]):
        assert torch.log(x).isinf().tolist() == [False, True]
    with torch.autograd.set_detect_anomaly(True, check_forward=True):
        assert torch.log(torch.tensor([-math.inf])).isnan().tolist() == [True]  # -inf came in: passed on


@pytest.mark.parametrize("after", ["node", "outside the graph", "nothing"])
def test_forward_anomalies_after_the_last_pass_belong_to_no_pass(after):
    x = torch.zeros(3, requires_grad=True)
    with Recorder(max_passes=1) as rec:
        x.log().sum().backward()
        x.log().sum().backward()  # a pass past max_passes is not recorded: what follows feeds no recorded pass
        if after == "node":
            x.log()
        elif after == "outside the graph":
            torch.zeros(2).log()
    trace = rec.finish({})
    found = [(a.phase, a.role, a.op, a.pass_index) for a in trace.anomalies]
    fed = [("forward", "culprit", "log", 0), ("forward", "propagator", "sum", 0), ("backward", "culprit", "log", 0)]
    # the second forward fed a pass that wasn't recorded: as one after the last pass, where infinities only
    # handed on are no anomaly (they may be an eval loop's masks: tests/watch/test_masks.py)
    unfed = [("forward", "culprit", "log", None)]
    tail = {"node": [("forward", "culprit", "log", None)], "outside the graph": [("forward", "culprit", "log", None)],
            "nothing": []}[after]
    assert found == fed + unfed + tail
