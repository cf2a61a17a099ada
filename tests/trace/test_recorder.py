"""The Recorder from Python: nodes, saved tensors, every gradient, passes, anomalies, value limits."""

import inspect
import threading
from dataclasses import fields

import numpy as np
import pytest

import gradscope as torch
from gradscope import nn
from gradscope._stats import compute_stats
from gradscope.autograd import fused_products, observers
from gradscope.trace import recorder as recorder_module
from gradscope.trace.model import NodeRecord, Trace
from gradscope.trace.recorder import Recorder
from tests.nn.test_modules_module import change_model, changeable_model


def next_line() -> int:
    """The line number after the caller's current line (where the op under test is written)."""
    return inspect.currentframe().f_back.f_lineno + 1


def only(trace: Trace, name: str):
    """The single node called `name`."""
    found = [node for node in trace.nodes.values() if node.name == name]
    assert len(found) == 1, f"{name}: {len(found)} nodes"
    return found[0]


def anomaly_set(trace: Trace) -> set[tuple[str, str, str]]:
    return {(a.phase, a.role, trace.nodes[a.node].name) for a in trace.anomalies}


def test_public_import_path():
    from gradscope.trace import Recorder as Public

    assert Public is Recorder


def test_leaf_and_non_leaf_gradients_without_retain_grad():
    values = np.array([0.5, 1.0, 2.0], dtype=np.float32)
    with Recorder() as rec:
        x = torch.tensor(values, requires_grad=True)
        y = x * x
        out = y.sin().sum()
        out.backward()
        y_node, out_node = rec.node_id(y.grad_fn), rec.node_id(out.grad_fn)
    trace = rec.finish({"x": x})
    x_node = only(trace, "AccumulateGrad").id
    (record,) = trace.passes
    assert record.roots == [out_node]
    # d out / d y = cos(y), the gradient flowing into y's node
    np.testing.assert_allclose(record.grad_outputs[y_node][0].values, np.cos(values**2), rtol=1e-6)
    # the two gradients MulBackward0 sends to x (x * x: one per factor)
    for grad in record.grad_inputs[y_node]:
        np.testing.assert_allclose(grad.values, np.cos(values**2) * values, rtol=1e-6)
    np.testing.assert_allclose(record.leaf_grads[x_node].values, 2 * values * np.cos(values**2), rtol=1e-6)
    assert record.order == [out_node, only(trace, "SinBackward0").id, y_node, x_node]
    with pytest.warns(UserWarning, match="not a leaf"):
        assert y.grad is None  # the recorder didn't need retain_grad


def test_nodes_record_name_op_source_params_edges_and_tensors():
    with Recorder() as rec:
        x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        line = next_line()
        total = (x * 3).sum(dim=1)
        total.sum().backward()
    trace = rec.finish({"x": x})
    mul = only(trace, "MulBackward0")
    leaf = only(trace, "AccumulateGrad")
    assert (mul.op, mul.kind, leaf.op, leaf.kind) == ("mul", "op", "leaf", "leaf")
    assert leaf.leaf_name == "x" and leaf.label == "x"
    assert mul.source.file == __file__ and mul.source.line == line
    assert mul.source.function == "test_nodes_record_name_op_source_params_edges_and_tensors"
    assert mul.next == [(leaf.id, 0), (None, 0)]  # the constant 3 has no node
    np.testing.assert_array_equal(mul.inputs[0].values, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(mul.outputs[0].values, [[3, 6], [9, 12]])
    reduction = only(trace, "SumBackward1")
    assert reduction.params == {"dim": "(1,)", "keepdim": "False", "self_sym_sizes": "(2, 2)"}
    np.testing.assert_array_equal(reduction.outputs[0].values, [9, 21])
    (parameter,) = trace.parameters
    assert (parameter.name, parameter.node) == ("x", leaf.id)


def test_saved_tensors_are_recorded():
    with Recorder() as rec:
        a = torch.tensor([1.0, -2.0], requires_grad=True)
        b = torch.tensor([3.0, 5.0], requires_grad=True)
        (a * b).exp().sum().backward()
    trace = rec.finish({"a": a, "b": b})
    mul, exp = only(trace, "MulBackward0"), only(trace, "ExpBackward0")
    np.testing.assert_array_equal(mul.saved["self"].values, [1, -2])
    np.testing.assert_array_equal(mul.saved["other"].values, [3, 5])
    np.testing.assert_allclose(exp.saved["result"].values, np.exp([3.0, -10.0]), rtol=1e-6)


class Net(nn.Module):
    """A layer that joins the graph and one that never does."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.unused = nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x).tanh()


def test_module_scope_and_parameter_names():
    model = Net()
    with Recorder() as rec:
        model(torch.ones(4, 3)).sum().backward()
    trace = rec.finish({"model": model})
    assert only(trace, "AddmmBackward0").scope == "model.fc"
    assert only(trace, "TanhBackward0").scope == "model"
    assert only(trace, "SumBackward0").scope is None
    by_name = {p.name: p for p in trace.parameters}
    assert set(by_name) == {"model.fc.weight", "model.fc.bias", "model.unused.weight", "model.unused.bias"}
    assert by_name["model.fc.weight"].module == "model.fc"
    assert by_name["model.unused.weight"].node is None  # never reached the loss
    assert trace.parameter_grad(by_name["model.unused.weight"]) is None
    grad = trace.parameter_grad(by_name["model.fc.bias"])
    np.testing.assert_allclose(grad.values, model.fc.bias.grad.numpy())
    np.testing.assert_array_equal(by_name["model.fc.weight"].value.values, model.fc.weight.detach().numpy())


def test_source_lines_through_module_calls():
    """An op made inside gradscope's own modules comes from the line that called the model, in nested
    containers too; an op in a user's forward from its own line, also when a gradscope container calls it."""
    class Scaled(nn.Linear):
        def forward(self, x):
            self.line = next_line()
            return super().forward(x) * 2

    scaled = Scaled(3, 3)
    model = nn.Sequential(nn.Sequential(nn.Linear(3, 3), nn.Tanh()), scaled, nn.Sequential(nn.Linear(3, 1)))
    with Recorder() as rec:
        line = next_line()
        out = model(torch.ones(2, 3))
        out.sum().backward()
    trace = rec.finish({"model": model})
    lines = {(node.name, node.scope): node.source.line for node in trace.nodes.values() if node.kind == "op"}
    assert lines == {("TBackward0", "model.0.0"): line, ("AddmmBackward0", "model.0.0"): line,
                     ("TanhBackward0", "model.0.1"): line, ("TBackward0", "model.1"): scaled.line,
                     ("AddmmBackward0", "model.1"): scaled.line, ("MulBackward0", "model.1"): scaled.line,
                     ("TBackward0", "model.2.0"): line, ("AddmmBackward0", "model.2.0"): line,
                     ("SumBackward0", None): line + 1}


def test_a_model_no_global_holds_is_named_as_its_scopes():
    """Most training scripts build the model inside main(): its parameters are named after the model's
    class, as the nodes' scopes are, never `leaf12[...]`; unused layers are listed too."""
    def main(rec):
        model = Net()
        loss_fn = nn.MSELoss()
        with rec:
            loss_fn(model(torch.ones(4, 3)), torch.zeros(4, 2)).backward()
        return model

    rec = Recorder()
    model = main(rec)
    trace = rec.finish({"main": main})
    assert only(trace, "AddmmBackward0").scope == "Net.fc"
    by_name = {p.name: p for p in trace.parameters}
    assert set(by_name) == {"Net.fc.weight", "Net.fc.bias", "Net.unused.weight", "Net.unused.bias"}
    assert by_name["Net.fc.weight"].module == "Net.fc"
    assert by_name["Net.unused.bias"].node is None
    np.testing.assert_allclose(trace.parameter_grad(by_name["Net.fc.bias"]).values, model.fc.bias.grad.numpy())


def test_a_global_name_wins_over_the_class_name():
    model = nn.Sequential(nn.Linear(2, 2))
    with Recorder() as rec:
        model(torch.ones(1, 2)).sum().backward()
    trace = rec.finish({"model": model})
    assert {p.name for p in trace.parameters} == {"model.0.weight", "model.0.bias"}


@pytest.mark.parametrize("step", range(13))
def test_parameters_are_named_after_the_model_as_it_is_when_recorded(step):
    """A model's parameter names are kept from one recording to the next while its parameters and modules stay the
    same: every change, however made, is seen by the next recording (named as `named_parameters()` lists them)."""
    model = changeable_model(nn)
    extra = nn.Parameter(torch.ones(2, 2))
    for change in (False, True):
        if change:
            change_model(nn, model, step, extra)
        for namespace in ({"model": model}, {}):  # a global's name, or its class's for a model called from no global
            with Recorder() as rec:
                if not namespace:
                    observers.notify("root_module_called", model)
                (extra * 2).sum().backward()
            trace = rec.finish(namespace)
            prefix = "model" if namespace else "Sequential"
            expected = [(f"{prefix}.{name}", param) for name, param in model.named_parameters()]
            named = [p for p in trace.parameters if p.module is not None]
            assert [(p.name, p.module) for p in named] == [(name, name.rpartition(".")[0]) for name, _ in expected]
            for parameter, (_, param) in zip(named, expected):
                np.testing.assert_array_equal(parameter.value.values, param.detach().numpy())


def test_a_model_listing_its_own_parameters_is_named_by_its_listing():
    class Listing(nn.Sequential):
        def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
            return iter([("first", self[0].weight)]) if self.only_first else super().named_parameters()

    model = Listing(nn.Linear(2, 2))
    for only_first, expected in ((False, ["model.0.weight", "model.0.bias"]), (True, ["model.first"])):
        model.only_first = only_first
        with Recorder() as rec:
            model(torch.ones(1, 2)).sum().backward()
        assert [p.name for p in rec.finish({"model": model}).parameters if p.module is not None] == expected


def test_a_model_held_by_no_variable_listing_a_parameter_twice_names_it_once():
    """A model called during the run but held by no global is named by its own listing (Recorder.finish without a
    namespace): a tensor it lists twice is one parameter, named as first listed, whether or not the model is one root
    of several."""
    class Twice(nn.Sequential):
        def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
            return iter([("first", self[0].weight), ("again", self[0].weight), ("bias", self[0].bias)])

    for roots in (1, 2):
        models = [Twice(nn.Linear(2, 2)) for _ in range(roots)]
        with Recorder() as rec:
            for model in models:
                model(torch.ones(1, 2)).sum().backward()
        names = [p.name for p in rec.finish().parameters]
        assert names == ["Twice.first", "Twice.bias"] * roots


@pytest.mark.parametrize("kept", [1, recorder_module.SHOWN_AT_MOST])
def test_params_are_shown_as_each_nodes_own_values(monkeypatch, kept):
    """How a node's params show is made once for params alike (see recorder._params): values equal but of other
    types (2 and 2.0, NumPy scalars) or other values show as their own, and each node has a dict of its own."""
    monkeypatch.setattr(recorder_module, "SHOWN_AT_MOST", kept)
    x = torch.ones(3, requires_grad=True)
    exponents = (2, 2.0, np.float64(2.0), np.int64(2), True, 2, 2.0, np.float32(0.1), np.float64(0.1), 10.0 ** 100)
    with Recorder() as rec:
        for exponent in exponents:
            x.pow(exponent).sum().backward()
    shown = [node.params for node in rec.finish().nodes.values() if node.op == "pow"]
    assert shown == [{"exponent": text} for text in ("2", "2.0", "2.0", "2", "True", "2", "2.0", "0.10000000149011612",
                                                      "0.1", "1e+100")]
    assert len({id(params) for params in shown}) == len(shown)
    shown[0]["exponent"] = "changed"
    assert shown[5]["exponent"] == "2"  # the same params as the first node


@pytest.mark.parametrize("kept", [1, recorder_module.SHOWN_AT_MOST])
def test_params_of_whole_numbers_keyed_by_value_show_as_their_own(monkeypatch, kept):
    """Params that are ints and tuples of ints are made once per value (see recorder._params): equal values of
    other types anywhere in them (True, 2.0, a float in a shape, a tuple nested deeper) show as their own."""
    monkeypatch.setattr(recorder_module, "SHOWN_AT_MOST", kept)
    addmm = fused_products.L.addmm
    names = addmm.params + addmm.attrs
    shapes = ((64, 256), (256, 1), (256, 512), (1, 256))
    for attrs in ((1, 1, *shapes), (True, 1, *shapes), (1.0, 1, *shapes), (1, 1, (64.0, 256), *shapes[1:]),
                  (1, 1, (64, True), *shapes[1:]), (1, 1, ((64,), 256), *shapes[1:]), (1, 1, *shapes),
                  (np.int64(1), 1, *shapes), (1, 1, (np.int64(64), 256), *shapes[1:])):
        shown = recorder_module._params(addmm, attrs)
        assert shown == {name: recorder_module._render(value) for name, value in zip(names, attrs)}
        assert shown is not recorder_module._params(addmm, attrs)  # each node a dict of its own


@pytest.mark.parametrize("kept", [1, recorder_module.SHOWN_AT_MOST])
def test_params_shared_by_nodes_show_as_each_ops_and_as_they_are_now(monkeypatch, kept):
    """One params tuple shared by many nodes (a linear layer's at every call) is shown once (see recorder._params):
    under each op's own names, and a tuple holding something mutable as it is at each call."""
    monkeypatch.setattr(recorder_module, "SHOWN_AT_MOST", kept)

    class Op:
        def __init__(self, *names):
            self.params, self.attrs = names, ()

    first, second = Op("a", "b"), Op("c", "d")
    shared = (1, (2, 3))
    for _ in range(2):
        assert recorder_module._params(first, shared) == {"a": "1", "b": "(2, 3)"}
        assert recorder_module._params(second, shared) == {"c": "1", "d": "(2, 3)"}
    listed = [1]
    holding = (1, listed)
    assert recorder_module._params(first, holding) == {"a": "1", "b": "[1]"}
    listed.append(2)
    assert recorder_module._params(first, holding) == {"a": "1", "b": "[1, 2]"}
    shown = recorder_module._params(first, shared)
    shown["a"] = "changed"
    assert recorder_module._params(first, shared) == {"a": "1", "b": "(2, 3)"}  # each node a dict of its own


def test_several_passes_record_accumulated_leaf_grads():
    with Recorder() as rec:
        w = torch.tensor([1.0, 2.0], requires_grad=True)
        (w * 2).sum().backward()
        (w * w).sum().backward()
    trace = rec.finish({"w": w})
    assert [p.index for p in trace.passes] == [0, 1]
    leaf = only(trace, "AccumulateGrad").id
    np.testing.assert_array_equal(trace.passes[0].leaf_grads[leaf].values, [2, 2])
    np.testing.assert_array_equal(trace.passes[1].leaf_grads[leaf].values, [2 + 2, 2 + 4])
    (parameter,) = trace.parameters
    np.testing.assert_array_equal(trace.parameter_grad(parameter, 0).values, [2, 2])
    np.testing.assert_array_equal(trace.parameter_grad(parameter).values, [4, 6])
    assert trace.passes[0].roots != trace.passes[1].roots


def test_recorded_values_are_copies():
    with Recorder() as rec:
        w = torch.tensor([1.0, 2.0], requires_grad=True)
        (w * 3).sum().backward()
    with torch.no_grad():
        w.grad.zero_()  # what td_lambda-style scripts do after backward
        w.mul_(0)
    trace = rec.finish({"w": w})
    leaf = only(trace, "AccumulateGrad")
    np.testing.assert_array_equal(trace.passes[0].leaf_grads[leaf.id].values, [3, 3])
    np.testing.assert_array_equal(leaf.outputs[0].values, [1, 2])


def test_max_passes_and_nothing_after_the_block():
    with Recorder(max_passes=1) as rec:
        w = torch.tensor([1.0], requires_grad=True)
        (w * 2).sum().backward()
        (w * 5).sum().backward()
    (w * 7).sum().backward()
    trace = rec.finish({"w": w})
    assert len(trace.passes) == 1
    assert sorted(n.name for n in trace.nodes.values()) == [
        "AccumulateGrad", "MulBackward0", "MulBackward0", "SumBackward0", "SumBackward0"]
    np.testing.assert_array_equal(trace.passes[0].leaf_grads[only(trace, "AccumulateGrad").id].values, [2])


def test_graph_built_before_recording_is_registered_by_backward():
    w = torch.tensor([1.0, 3.0], requires_grad=True)
    out = (w * w).sum()
    with Recorder() as rec:
        out.backward()
    trace = rec.finish({"w": w})
    assert {n.name for n in trace.nodes.values()} == {"SumBackward0", "MulBackward0", "AccumulateGrad"}
    np.testing.assert_array_equal(trace.passes[0].leaf_grads[only(trace, "AccumulateGrad").id].values, [2, 6])


def test_keep_values_threshold():
    with Recorder(keep_values=4) as rec:
        small = torch.arange(4.0).requires_grad_()
        large = torch.arange(5.0).requires_grad_()
        (small.sum() + (large * large).sum()).backward()
    trace = rec.finish({"small": small, "large": large})
    grads = {trace.nodes[k].leaf_name: v for k, v in trace.passes[0].leaf_grads.items()}
    assert grads["small"].has_values
    np.testing.assert_array_equal(grads["small"].values, [1, 1, 1, 1])
    assert not grads["large"].has_values and grads["large"].values is None
    stats = grads["large"].stats
    assert stats.shape == (5,) and grads["large"].shape == (5,)
    assert stats.norm == pytest.approx(np.linalg.norm(2 * np.arange(5.0)))
    assert (stats.min, stats.max) == (0.0, 8.0)



def test_statistics_describe_values_as_they_were_recorded():
    """Statistics above the keep limit are computed when first read, from a copy taken when recorded:
    a later in-place change (an optimizer step) doesn't reach them."""
    w = torch.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    with Recorder(keep_values=4) as rec:
        (w.t() * 2).sum().backward()
    trace = rec.finish({"w": w})
    with torch.no_grad():
        w.mul_(-1)
        w.grad.zero_()
    (parameter,) = trace.parameters
    assert parameter.value.stats == compute_stats(np.arange(12.0).reshape(3, 4))
    assert trace.parameter_grad(parameter).stats == compute_stats(np.full((3, 4), 2.0))


def test_a_transpose_shares_its_arrays_statistics():
    """w.t() covers w's memory: recorded as a view of w's record, it has w's statistics under its shape."""
    values = np.random.default_rng(0).standard_normal((3, 5))
    w = torch.tensor(values, requires_grad=True)
    with Recorder(keep_values=4) as rec:
        (w.t() * 2).sum().backward()
    trace = rec.finish({"w": w})
    transpose = only(trace, "TBackward0")
    assert transpose.outputs[0]._source is transpose.inputs[0]
    assert transpose.outputs[0].shape == (5, 3)
    assert transpose.outputs[0].stats == compute_stats(values.T)
    assert transpose.inputs[0].stats == compute_stats(values)


def test_a_leaf_gradient_is_a_view_of_the_record_of_its_memory():
    """`.grad`, taken as it came (no copy), is the array the pass recorded as MulBackward0's gradient, unwritten
    since (still held): recorded as a view of that record, one set of statistics."""
    w = torch.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    with Recorder(keep_values=4) as rec:
        (w * 2).sum().backward()
    trace = rec.finish({"w": w})
    (parameter,) = trace.parameters
    grad = trace.parameter_grad(parameter)
    (mul_grad, _) = trace.passes[0].grad_inputs[only(trace, "MulBackward0").id]
    assert grad is not mul_grad and grad._source is mul_grad
    assert grad.shape == (3, 4) and grad.stats == compute_stats(np.full((3, 4), 2.0))


def test_arrays_in_memory_numpy_does_not_own_are_recorded_as_they_were():
    """An array over a bytearray (`frombuffer`: its base is no ndarray) and a view of it can't be held: they
    are copied when recorded, so a later write through the caller's array doesn't reach their statistics."""
    values = np.frombuffer(bytearray(np.arange(24.0).tobytes()), dtype=np.float64)
    with Recorder(keep_values=4) as rec:
        x = torch.from_numpy(values).requires_grad_()
        y = x[::2]
        y.sum().backward()
    trace = rec.finish({"x": x})
    values[:] = -1
    (parameter,) = trace.parameters
    assert parameter.value.stats == compute_stats(np.arange(24.0))
    assert only(trace, "SliceBackward0").outputs[0].stats == compute_stats(np.arange(0.0, 24.0, 2))


def test_a_node_record_made_by_name_is_the_dataclass_s_own():
    """`NodeRecord.named`, the recorder's per-node constructor, makes what `NodeRecord(...)` makes: every field
    set, each record with containers of its own."""
    first = NodeRecord.named(3, "MulBackward0", "mul", "op", "model.fc1")
    assert first == NodeRecord(3, "MulBackward0", "mul", "op", scope="model.fc1")
    assert all(hasattr(first, field.name) for field in fields(NodeRecord))  # no slot left unset
    assert repr(first) == repr(NodeRecord(3, "MulBackward0", "mul", "op", scope="model.fc1"))
    second = NodeRecord.named(4, "AccumulateGrad", "leaf", "leaf")
    assert second == NodeRecord(4, "AccumulateGrad", "leaf", "leaf")
    for name in ("params", "next", "inputs", "outputs", "saved", "hooks"):
        assert getattr(first, name) is not getattr(second, name)


def test_node_records_a_fast_path_made_have_every_field_and_containers_of_their_own():
    """The recorder makes the records of the nodes the fast paths tell it of (`op_recorded`) itself: each as
    `NodeRecord(...)` would be, every field set, containers of its own."""
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    with Recorder() as rec:
        model(torch.ones(2, 3)).pow(2).sum().backward()
    records = list(rec.finish().nodes.values())
    assert {record.op for record in records} >= {"t", "addmm", "tanh", "pow", "sum", "leaf"}
    for record in records:
        assert all(hasattr(record, field.name) for field in fields(NodeRecord))  # no slot left unset
        assert record == NodeRecord(**{field.name: getattr(record, field.name) for field in fields(NodeRecord)})
    for name in ("params", "next", "inputs", "outputs", "saved", "hooks"):
        assert len({id(getattr(record, name)) for record in records}) == len(records)


def test_snapshots_past_the_budget_are_summarised_while_recording():
    """Copies waiting for their statistics hold at most the recorder's budget; past it they are summarised."""
    layer = nn.Linear(64, 64, dtype=torch.float64)
    budget = 3 * 64 * 64 * 8  # three of the 64 × 64 arrays recorded
    with Recorder(keep_values=100, snapshot_bytes=budget) as rec:
        out = layer(torch.ones(64, 64, dtype=torch.float64))
        waiting = [r.pending_bytes for r in rec._snapshots]
        out.sum().backward()
    assert waiting == [64 * 64 * 8] * 3  # the input, the weight, the output (the weight's transpose is a view)
    trace = rec.finish({"layer": layer})
    records = [r for node in trace.nodes.values() for r in (*node.inputs, *node.outputs) if r is not None]
    assert not any(r.pending_bytes for r in records)  # the pass's gradients went past the budget
    weight = next(p for p in trace.parameters if p.name == "layer.weight")
    assert weight.value.stats == compute_stats(layer.weight.detach().numpy())


def test_a_long_recording_keeps_entries_only_for_arrays_alive(monkeypatch):
    """A training loop recorded in one block: the recorder's bookkeeping of the arrays it met drops those gone
    (here the arrays whose values it copied), so it grows with what is alive, not with the steps."""
    monkeypatch.setattr(recorder_module, "PRUNE_AT", 64, raising=False)
    layer = nn.Linear(4, 4, dtype=torch.float64)
    sizes = []
    with Recorder() as rec:
        for _ in range(300):
            layer.zero_grad()
            torch.tanh(layer(torch.ones(2, 4, dtype=torch.float64))).sum().backward()
            sizes.append(len(rec._arrays))
    trace = rec.finish({"layer": layer})
    assert len(trace.passes) == 300 and max(sizes) <= 65  # ~5 new arrays a step: 1,500 entries unpruned
    weight = next(p for p in trace.parameters if p.name == "layer.weight")
    assert weight.value.stats == compute_stats(layer.weight.detach().numpy())
    assert trace.parameter_grad(weight).stats == compute_stats(layer.weight.grad.numpy())


# --------------------------------------------------------------------------------------- anomalies
def test_anomalies_are_found_when_first_read():
    """A recording checks for non-finite values when its anomalies are first read, not while it records, and
    the checks see the values as they were recorded (held arrays are copied before a write)."""
    w = torch.tensor(np.array([np.inf, 1.0, 2.0, 3.0, 4.0, 5.0]), requires_grad=True)
    with Recorder(keep_values=4) as rec:
        (w * 2).sum().backward()
    trace = rec.finish({"w": w})
    records = [r for node in trace.nodes.values() for r in (*node.inputs, *node.outputs) if r is not None]
    records += [r for grads in trace.passes[0].grad_inputs.values() for r in grads if r is not None]
    assert all(r._finite is None and r._stats is None for r in records)  # nothing read yet
    with torch.no_grad():
        w.zero_()
    assert [(a.phase, a.role, trace.nodes[a.node].name, a.pass_index) for a in trace.anomalies] == [
        ("forward", "propagator", "MulBackward0", 0), ("forward", "propagator", "SumBackward0", 0)]


def test_anomalies_read_while_recording_stay_in_order():
    """Anomalies read in the middle of a recording are the first of the list read at its end, in the order
    they happened: forward ones, one outside the graph, backward ones."""
    with Recorder() as rec:
        x = torch.tensor([0.0, 1.0], requires_grad=True)
        x.log().sum().backward()
        first = list(rec.trace.anomalies)
        torch.zeros(2).log()  # no node: found by the op itself
        (x / x).sum().backward()
    trace = rec.finish({"x": x})
    assert trace.anomalies[:len(first)] == first
    assert [(a.phase, a.role, a.op, a.pass_index) for a in trace.anomalies] == [
        ("forward", "culprit", "log", 0), ("forward", "propagator", "sum", 0), ("backward", "culprit", "log", 0),
        ("forward", "culprit", "log", 1), ("forward", "culprit", "div", 1), ("forward", "propagator", "sum", 1),
        ("backward", "culprit", "div", 1)]


@pytest.mark.parametrize("max_passes", [None, 1, 0])
def test_a_pass_run_from_a_hook_is_judged_between_the_nodes_before_it_and_its_own(max_passes):
    """A pass's backward checks are queued as one item when it stops being recorded: a pass a hook runs takes its
    place (the rest of the outer one is not recorded), so the anomalies of the outer nodes that ran before the
    hook come first, then the inner pass's; a pass past `max_passes` adds none."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    z = torch.tensor([0.0, 2.0], requires_grad=True)
    w = torch.tensor([0.0, 1.0])
    with Recorder(max_passes=max_passes) as rec:
        inner = z.sqrt().sum()  # its backward divides by sqrt(0)
        b = x * 2.0
        b.register_hook(lambda grad: inner.backward())
        (b / w).sum().backward()
    trace = rec.finish({"x": x, "z": z})
    expected = {None: [("forward", "culprit", "div", 0), ("forward", "propagator", "sum", 0),
                       ("backward", "culprit", "div", 0), ("backward", "culprit", "sqrt", 1)],
                1: [("forward", "culprit", "div", 0), ("forward", "propagator", "sum", 0),
                    ("backward", "culprit", "div", 0)],
                0: [("forward", "culprit", "div", None)]}[max_passes]
    assert [(a.phase, a.role, a.op, a.pass_index) for a in trace.anomalies] == expected


def _log(x):
    return x.log().sum()


def _sqrt(x):
    return x.sqrt().sum()


def _zero_over_zero(x):
    return (x / x).sum()


def _exp_overflow(x):
    return (x * 100).exp().sum()


def _where_masks_log(x):
    # the forward hides log(0) = -inf, but backward still multiplies the masked 0 by 1/0 = inf
    return torch.where(x > 0, x.log(), torch.zeros_like(x)).sum()


ANOMALY_CASES = {
    "log": (_log, {("forward", "culprit", "LogBackward0"), ("forward", "propagator", "SumBackward0"),
                   ("backward", "culprit", "LogBackward0")}, [np.inf, 1.0, 0.5]),
    "sqrt": (_sqrt, {("backward", "culprit", "SqrtBackward0")}, [np.inf, 0.5, 0.5 / np.sqrt(2)]),
    "0/0": (_zero_over_zero, {("forward", "culprit", "DivBackward0"), ("forward", "propagator", "SumBackward0"),
                              ("backward", "culprit", "DivBackward0")}, [np.nan, 0.0, 0.0]),
    "exp": (_exp_overflow, {("forward", "culprit", "ExpBackward0"), ("forward", "propagator", "SumBackward0"),
                            ("backward", "culprit", "ExpBackward0"), ("backward", "propagator", "MulBackward0")},
            [100.0, np.inf, np.inf]),
    "where": (_where_masks_log, {("forward", "culprit", "LogBackward0"), ("backward", "culprit", "LogBackward0")},
              [np.nan, 1.0, 0.5]),
}


@pytest.mark.parametrize("case", ANOMALY_CASES)
def test_culprits_and_propagators(case):
    function, expected, grad = ANOMALY_CASES[case]
    with Recorder() as rec:
        x = torch.tensor([0.0, 1.0, 2.0], requires_grad=True)
        function(x).backward()
    trace = rec.finish({"x": x})
    np.testing.assert_allclose(x.grad.numpy(), grad, rtol=1e-6)  # hand-computed, the ground truth
    assert anomaly_set(trace) == expected
    for anomaly in trace.anomalies:
        node = trace.nodes[anomaly.node]
        assert node.source.file == __file__
        assert anomaly.pass_index == 0  # backward: the pass it ran in; forward: the pass it fed
        assert (anomaly.op, anomaly.source, anomaly.scope) == (node.op, node.source, node.scope)
        assert node.name in anomaly.message or node.op in anomaly.message


@pytest.mark.parametrize(("case", "reason"), [("log", "log of a value <= 0"), ("0/0", "division by zero"),
                                              ("exp", "exp overflowed")])
def test_forward_culprit_explains_why(case, reason):
    function = ANOMALY_CASES[case][0]
    with Recorder() as rec:
        function(torch.tensor([0.0, 1.0, 2.0], requires_grad=True)).backward()
    (culprit,) = [a for a in rec.trace.anomalies if a.phase == "forward" and a.role == "culprit"]
    assert reason in culprit.message


def test_backward_culprit_in_a_custom_function():
    class Spiky(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad / (x - x)  # wrong: 1/0 from a perfectly finite gradient

    with Recorder() as rec:
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        (Spiky.apply(x * 2) + 1).sum().backward()
    trace = rec.finish({"x": x})
    assert not [a for a in trace.anomalies if a.phase == "forward"]
    assert anomaly_set(trace) == {("backward", "culprit", "SpikyBackward"),
                                  ("backward", "propagator", "MulBackward0")}
    spiky = only(trace, "SpikyBackward")
    assert (spiky.kind, spiky.op) == ("function", "Spiky")
    (culprit,) = trace.culprits()
    assert culprit.node == spiky.id
    assert "SpikyBackward returned 2 +inf" in culprit.message


def test_hooks_are_recorded_by_node_and_survive_a_trace_file(tmp_path):
    from gradscope.trace import load_trace, save_trace

    x = torch.ones(3, requires_grad=True)

    def scale(grad):
        return grad * 2

    def log_grads(grad_inputs, grad_outputs):
        return None

    with Recorder() as rec:
        y = x * 3
        y.register_hook(scale)
        y.retain_grad()
        y.grad_fn.register_hook(log_grads)
        x.register_post_accumulate_grad_hook(lambda t: None)
        y.sum().backward()
    trace = rec.finish({"x": x})
    mul = next(n for n in trace.nodes.values() if n.name == "MulBackward0")
    leaf = next(n for n in trace.nodes.values() if n.leaf_name == "x")
    expected = [f"tensor hook {scale.__qualname__} on output 0", "retain_grad on output 0",
                f"post-hook {log_grads.__qualname__}"]
    assert mul.hooks == expected
    assert leaf.hooks == [
        "post-accumulate hook test_hooks_are_recorded_by_node_and_survive_a_trace_file.<locals>.<lambda>"]
    assert x.grad.tolist() == [6.0, 6.0, 6.0]  # the hook really ran: recording changes nothing
    save_trace(trace, tmp_path / "hooks.gstrace")
    again = load_trace(tmp_path / "hooks.gstrace")
    assert again.nodes[mul.id].hooks == expected


ALREADY_ACTIVE = "this Recorder is already recording"


def test_entering_an_active_recorder_again_in_the_same_thread_is_refused():
    rec = Recorder()
    with rec:
        with pytest.raises(RuntimeError, match=ALREADY_ACTIVE):
            with rec:
                pass
        x = torch.ones(2, requires_grad=True)
        (x * 2).sum().backward()
    assert observers.active.get() == ()
    assert [node.name for node in rec.trace.nodes.values()].count("MulBackward0") == 1  # recorded once, not twice
    with rec:  # one block after another is fine
        (x * 3).sum().backward()
    assert observers.active.get() == ()
    assert len(rec.trace.passes) == 2


def test_entering_an_active_recorder_from_another_thread_is_refused():
    rec = Recorder()
    errors = []

    def enter_elsewhere():
        try:
            with rec:
                pass
        except RuntimeError as error:
            errors.append(error)

    with rec:
        thread = threading.Thread(target=enter_elsewhere)
        thread.start()
        thread.join()
    assert len(errors) == 1 and ALREADY_ACTIVE in str(errors[0])
    assert observers.active.get() == ()


def test_threads_entering_one_recorder_at_once_let_exactly_one_in():
    rec, count = Recorder(), 8
    entered, refused = [], []
    all_tried, may_exit = threading.Barrier(count), threading.Event()

    def enter():
        try:
            rec.__enter__()
        except RuntimeError as error:
            refused.append(str(error))
            all_tried.wait()
            return
        entered.append(threading.get_ident())
        all_tried.wait()
        may_exit.wait()
        rec.__exit__(None, None, None)

    threads = [threading.Thread(target=enter) for _ in range(count)]
    for thread in threads:
        thread.start()
    may_exit.set()
    for thread in threads:
        thread.join()
    assert len(entered) == 1 and len(refused) == count - 1
    assert all(ALREADY_ACTIVE in message for message in refused)
    with rec:  # and free again once the winner left
        pass


def test_a_recorders_trace_is_the_dataclass_s_own_empty_one():
    """The recorder makes its Trace without the dataclass __init__ (recorder._new_trace): the same fields, in the
    same order, each a container of its own (fails when Trace gains a field _new_trace doesn't set)."""
    from gradscope.trace.model import Trace

    made, expected = recorder_module._new_trace({"keep_values": 1}), Trace(meta={"keep_values": 1})
    assert made == expected and list(vars(made)) == list(vars(expected))
    assert not any(value is other for value, other in zip(vars(made).values(), vars(Recorder().trace).values())
                   if value is not None)
