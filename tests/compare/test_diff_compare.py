"""The comparison core: two recordings aligned by pass, scope, op and order, the first divergence in
execution order (structural, forward, backward), per-parameter and per-module results, tolerances."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope as torch
from gradscope import nn
from gradscope.checks.assertions import record_backward
from gradscope.compare import Tolerance, compare_records, compare_traces
from gradscope.trace.model import TensorRecord
from gradscope.trace.tracefile import load_trace, save_trace


class Block(nn.Module):
    """A module whose forward is built from a list of op names, so runs can differ by one op."""

    def __init__(self, ops=("tanh",), scale=0.5):
        super().__init__()
        self.fc = nn.Linear(3, 3)
        self.ops = ops
        self.scale = scale

    def forward(self, x):
        h = self.fc(x)
        for op in self.ops:
            h = getattr(torch, op)(h)
        return h * self.scale


class Net(nn.Module):
    def __init__(self, first=("tanh",), second=("tanh",), scale=0.5):
        super().__init__()
        self.first = Block(first)
        self.second = Block(second, scale)

    def forward(self, x):
        return self.second(self.first(x))


def record(dtype=None, keep_values=1 << 16, **options):
    torch.manual_seed(0)
    model = Net(**options)
    x = torch.randn(4, 3)
    if dtype is not None:
        model, x = model.to(dtype), x.to(dtype)
    return record_backward(lambda: model(x).pow(2).mean(), {"model": model}, keep_values=keep_values)


def test_identical_runs_are_equal():
    report = compare_traces(record(), record())
    assert report.equal and report.first is None and report.differences == []
    assert [p.status for p in report.parameters] == ["equal"] * 4
    assert {m.scope: m.first for m in report.modules} == {
        "model.first.fc": None, "model.first": None, "model.second.fc": None, "model.second": None}


def test_an_inserted_op_is_the_only_structural_difference():
    report = compare_traces(record(second=("tanh",)), record(second=("tanh", "sigmoid")))
    first = report.first
    assert (first.kind, first.phase, first.what, first.scope) == ("structural", "forward", "only in B", "model.second")
    assert first.a is None and first.b.op == "sigmoid" and first.b.source.line > 0
    assert len(report.structural) == 1  # the ops after it still pair up: the scale's mul is not reported missing
    # the first numerical difference is the mul fed by the extra op, not anything in model.first
    assert report.numerical[0].a.op == "mul" and report.numerical[0].phase == "forward"
    assert next(m for m in report.modules if m.scope == "model.first").first.phase == "backward"


def test_a_removed_op_is_only_in_a():
    report = compare_traces(record(first=("tanh", "sigmoid")), record(first=("tanh",)))
    assert (report.first.what, report.first.a.op, report.first.b, report.first.scope) == (
        "only in A", "sigmoid", None, "model.first")


def test_a_different_op_at_the_same_place_names_both_lines():
    report = compare_traces(record(first=("tanh",)), record(first=("sigmoid",)))
    first = report.first
    assert first.what == "different op" and (first.a.op, first.b.op) == ("tanh", "sigmoid")
    text = first.describe()
    assert f"{first.a.source.file}:{first.a.source.line}" in text and "sigmoid (SigmoidBackward0)" in text
    assert len(report.structural) == 1


def test_a_changed_constant_is_a_forward_divergence_with_the_worst_element():
    a, b = record(scale=0.5), record(scale=0.6)
    report = compare_traces(a, b)
    first = report.first
    assert (first.kind, first.phase, first.what, first.scope, first.a.op) == (
        "numerical", "forward", "output 0", "model.second", "mul")
    out_a, out_b = first.a.outputs[0].values, first.b.outputs[0].values
    error = np.abs(out_a.astype(np.float64) - out_b)
    assert first.mismatch.compared == "values"
    assert first.mismatch.max_abs == pytest.approx(error.max())
    assert first.mismatch.where == tuple(int(i) for i in np.unravel_index(error.argmax(), error.shape))
    assert first.mismatch.max_rel == pytest.approx(0.2, rel=1e-5)  # 0.6 / 0.5 - 1 everywhere
    # gradients of every parameter change; the table gives their relative error
    assert all(p.status == "differs" and p.grad_rel_error > 0.01 for p in report.parameters)


class ScaleGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None


def _scaled(scale):
    torch.manual_seed(0)
    first, second = nn.Linear(3, 3), nn.Linear(3, 1)
    x = torch.randn(5, 3)
    return record_backward(lambda: second(ScaleGrad.apply(first(x), scale)).sum(), {"first": first, "second": second})


def test_a_backward_only_change_is_found_in_backward_order():
    report = compare_traces(_scaled(1.0), _scaled(0.25))
    first = report.first
    assert (first.kind, first.phase, first.what, first.a.op) == ("numerical", "backward", "gradient to input 0",
                                                                  "ScaleGrad")
    assert first.mismatch.max_rel == pytest.approx(0.75)
    status = {p.name: (p.status, p.grad_rel_error) for p in report.parameters}
    assert status["second.weight"] == ("equal", 0.0) and status["second.bias"] == ("equal", 0.0)
    assert status["first.weight"][0] == "differs" and status["first.weight"][1] == pytest.approx(0.75)


def test_without_values_statistics_are_compared_and_that_is_said():
    report = compare_traces(record(keep_values=0, scale=0.5), record(keep_values=0, scale=0.6))
    mismatch = report.first.mismatch
    assert mismatch.compared == "statistics" and mismatch.where is None
    assert "statistics only, the values were not kept" in report.first.describe()
    assert report.parameters[0].compared == "statistics"
    assert compare_traces(record(keep_values=0), record(keep_values=0)).equal


def test_float64_against_float32_is_equal_at_the_lower_precision_tolerance():
    single, double = record(), record(dtype=torch.float64)
    assert compare_traces(single, double).equal
    assert compare_traces(double, single).equal
    strict = compare_traces(single, double, Tolerance(rtol=1e-12, atol=1e-12))
    assert not strict.equal and strict.first.kind == "numerical"


def test_tolerances_by_dtype():
    assert Tolerance().for_dtypes("float64", "float64") == (1e-7, 1e-7)
    assert Tolerance().for_dtypes("float32", "float64") == (1.3e-6, 1e-5)
    assert Tolerance().for_dtypes("float16", "float32") == (1e-3, 1e-5)
    assert Tolerance().for_dtypes("int64", "int64") == (0.0, 0.0)
    assert Tolerance(rtol=0.1).for_dtypes("float64", "float64") == (0.1, 1e-7)


def _record(values):
    return TensorRecord(values=np.array(values, dtype=np.float64))


def test_nans_and_infinities_in_the_same_places_are_equal():
    tolerance = Tolerance()
    assert compare_records(_record([1.0, np.nan, np.inf]), _record([1.0, np.nan, np.inf]), tolerance) is None
    mismatch = compare_records(_record([1.0, np.nan]), _record([1.0, 2.0]), tolerance)
    assert mismatch.where == (1,) and math.isinf(mismatch.max_abs)
    assert compare_records(_record([np.inf]), _record([-np.inf]), tolerance) is not None
    assert compare_records(_record([1.0, 2.0]), _record([1.0, 2.0, 3.0]), tolerance).compared == "shape"


def test_tolerance_is_relative_to_a():
    loose = Tolerance(rtol=0.1, atol=0.0)
    assert compare_records(_record([10.0]), _record([10.9]), loose) is None
    assert compare_records(_record([10.0]), _record([11.1]), loose).max_rel == pytest.approx(0.11)


def test_parameters_in_one_run_only_are_reported_as_such():
    torch.manual_seed(0)
    shared, extra = nn.Linear(2, 1), nn.Linear(2, 1)
    x = torch.randn(3, 2)
    a = record_backward(lambda: shared(x).sum(), {"shared": shared})
    b = record_backward(lambda: (shared(x) + extra(x)).sum(), {"shared": shared, "extra": extra})
    status = {p.name: p.status for p in compare_traces(a, b).parameters}
    assert status == {"shared.weight": "equal", "shared.bias": "equal", "extra.weight": "only in B",
                      "extra.bias": "only in B"}
    status = {p.name: p.status for p in compare_traces(b, a).parameters}
    assert status["extra.weight"] == "only in A"


def test_a_long_run_of_repeated_ops_stays_aligned():
    """difflib's autojunk would treat an op seen in more than 1% of a long sequence as junk."""
    def chain(extra_at):
        w = torch.ones(3, requires_grad=True)
        def fn():
            h = w
            for step in range(400):
                h = h * 1.0
                if step == extra_at:
                    h = h.exp()
            return h.sum()
        return record_backward(fn, {"w": w})
    report = compare_traces(chain(None), chain(200))
    assert [(d.what, d.b.op) for d in report.structural] == [("only in B", "exp")]
    assert report.numerical[0].a.op == "mul"  # the first mul after the exp


def test_extra_backward_passes_are_structural():
    w = torch.ones(2, requires_grad=True)
    def run(passes):
        with torch.no_grad():
            w.grad = None
        from gradscope.checks.assertions import GradRecorder
        recorder = GradRecorder()
        with recorder:
            for _ in range(passes):
                (w * 2).sum().backward()
        return recorder.trace
    report = compare_traces(run(1), run(2))
    assert [d.what for d in report.structural] == ["pass 1 is only in B"]
    assert report.first.what == "pass 1 is only in B"  # pass 0 is the same in both runs


def test_traces_read_from_files_compare_like_live_ones(tmp_path):
    save_trace(record(scale=0.5), tmp_path / "a.gstrace")
    save_trace(record(scale=0.6), tmp_path / "b.gstrace")
    live = compare_traces(record(scale=0.5), record(scale=0.6))
    stored = compare_traces(load_trace(tmp_path / "a.gstrace"), load_trace(tmp_path / "b.gstrace"))
    assert stored.first.describe() == live.first.describe()
    assert [d.what for d in stored.differences] == [d.what for d in live.differences]


def test_the_report_is_json():
    report = compare_traces(record(first=("tanh",)), record(first=("log",)))  # log of negatives: nan
    data = json.loads(json.dumps(report.to_json(), allow_nan=False))
    assert data["equal"] is False and data["first"]["what"] == "different op"
    assert data["first"]["a"]["op"] == "tanh" and data["first"]["b"]["line"] > 0
    assert data["summary"]["structural"] == 1 and len(data["parameters"]) == 4


def test_the_package_does_not_shadow_torch_diff():
    """`gradscope.diff` is torch.diff: a subpackage of that name would replace it once imported."""
    import gradscope.compare  # noqa: F401

    assert torch.diff(torch.tensor([1.0, 4.0])).tolist() == [3.0]


OPS = ("tanh", "sigmoid", "sin", "cos", "neg")


def _chain(ops):
    torch.manual_seed(0)
    model = Block(tuple(ops))
    x = torch.randn(2, 3)
    return record_backward(lambda: model(x).sum(), {"model": model})


@settings(max_examples=25, deadline=None)
@given(ops=st.lists(st.sampled_from(OPS), min_size=1, max_size=12), data=st.data())
def test_one_inserted_op_anywhere_is_the_one_structural_difference(ops, data):
    position = data.draw(st.integers(0, len(ops)))
    inserted = data.draw(st.sampled_from(OPS))
    longer = [*ops[:position], inserted, *ops[position:]]
    report = compare_traces(_chain(ops), _chain(longer))
    assert [(d.what, d.b.op) for d in report.structural] == [("only in B", inserted)]
    reverse = compare_traces(_chain(longer), _chain(ops))
    assert [(d.what, d.a.op) for d in reverse.structural] == [("only in A", inserted)]
    assert compare_traces(_chain(ops), _chain(ops)).equal


@pytest.mark.parametrize(("ops", "position", "inserted"), [
    (["tanh", "sin", "sin", "sin"], 2, "tanh"),  # a longest-match alignment (difflib's) pairs the wrong tanh
    (["sin", "cos", "sin", "cos"], 4, "sin"),
    (["neg"], 0, "neg"),
])
def test_one_inserted_op_is_one_difference(ops, position, inserted):
    longer = [*ops[:position], inserted, *ops[position:]]
    report = compare_traces(_chain(ops), _chain(longer))
    assert [(d.what, d.b.op) for d in report.structural] == [("only in B", inserted)]
