"""Observers on the fast paths (autograd/fused.py, fused_products.py, apply's light recorders): in `Modes.plain` an
observer listening in a context (a Recorder) no longer sends ops down `dispatch._record`. What it is told, and the
nodes it is told about, are what the general paths give: apply's light recorders (forced by a watcher) and
`_record` with SavedTensor entries (forced by a process-wide observer); the graph is PyTorch's."""

from __future__ import annotations

import contextlib
import sys
import warnings

import numpy as np
import pytest

import gradscope as gs
import gradscope.nn.functional as F
from gradscope.autograd import dispatch, engine, observers
from gradscope.trace import Recorder
from gradscope.trace.tracefile import to_manifest


class _Log:
    """Every event, with the objects in it named by the order they were first met (the same program run on
    another path meets the same objects in the same order), and what a node holds when it is announced."""

    def __init__(self) -> None:
        self.events: list = []
        self._labels: dict[int, int] = {}
        self._kept: list = []  # the objects named, alive, so that no id is reused

    def _label(self, value) -> int:
        key = id(value)
        if key not in self._labels:
            self._labels[key] = len(self._kept)
            self._kept.append(value)
        return self._labels[key]

    def _tensor(self, value):
        if not isinstance(value, gs.Tensor):
            return ("value", repr(value))
        label = self._label(value)
        self._labels.setdefault(id(value._data), label)  # a saved output is its bare array
        return ("tensor", label, tuple(value.shape), str(value.dtype), value.requires_grad,
                value._version_counter[0], None if value.grad_fn is None else self._node(value.grad_fn))

    def _node(self, node):
        return (self._label(node), node.name())

    def _array(self, array):
        return None if array is None else (self._label(array), array.shape, str(array.dtype))

    def node_created(self, node, inputs, outputs):
        self.events.append((
            "node_created", self._node(node), node.scope, node.module_call is observers.node_call(),
            [None if child is None else (self._node(child), nr) for child, nr in node.next_functions],
            [self._tensor(x) for x in inputs], [self._tensor(o) for o in outputs],
            getattr(node, "_attrs", None), getattr(node, "_input_meta", None)))

    def tensor_saved(self, node, name, saved):
        value = saved._tensor if saved._tensor is not None else saved._array
        self.events.append(("tensor_saved", self._node(node), name, self._label(value), saved._version,
                            saved._is_output, saved._output_nr, saved._requires_grad, saved._creator is None))

    def op_computed(self, op, inputs, outputs):
        self.events.append(("op_computed", op.name, [self._tensor(x) for x in inputs],
                            [self._tensor(o) for o in outputs]))

    def root_module_called(self, module):
        self.events.append(("root_module_called", self._label(module)))

    def backward_begin(self, roots, grads):
        self.events.append(("backward_begin", [self._node(n) for n in roots], [self._array(g) for g in grads]))

    def backward_node_start(self, node, grads):
        self.events.append(("backward_node_start", self._node(node), [self._array(g) for g in grads]))

    def backward_node_end(self, node, grads):
        self.events.append(("backward_node_end", self._node(node), [self._array(g) for g in grads]))

    def grad_accumulated(self, tensor, grad):
        self.events.append(("grad_accumulated", self._tensor(tensor), self._tensor(grad)))

    def backward_node_failed(self, node, error):
        self.events.append(("backward_node_failed", self._node(node), str(error)))

    def backward_end(self):
        self.events.append(("backward_end",))


class _Watcher:  # listening sends every op down apply (its light recorders in Modes.plain)
    pass


def _program(lib):
    """Every fast path, with and without a node, inside and outside a module call, then a backward."""
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2, bias=False))
    x = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], requires_grad=True)
    w = lib.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]], requires_grad=True)
    b = lib.tensor([0.1, -0.2], requires_grad=True)
    frozen = lib.tensor([[2.0, 3.0, 4.0], [1.0, 1.0, 1.0]])
    h = model(x)
    a = x.sin() * 2.0 + lib.tanh(x) - (1 - x) ** 2 + x / 3 + frozen * x
    a = a.exp().sqrt().clamp(0.1) * (frozen.exp() + 1.0).log()  # ops off the graph: no node
    linear = lib.nn.functional.linear
    c = linear(a, w, b) + linear(x, w) + x @ w.t() + frozen @ w.t() + frozen.t().t() @ w.t()
    d = a.reshape(3, 2).unsqueeze(0).squeeze(0).t().max(dim=0).values  # views, a two-output op
    loss = (h.sum() + c.mean() * d.sum()) ** 2
    loss.backward()
    return loss, x, w, b, model


@contextlib.contextmanager
def _path(name: str, observer):
    """Run the block with `observer` told on the path called `name`."""
    if name == "fast":
        with observers.observing(observer):
            yield
    elif name == "apply":
        watcher = _Watcher()
        observers.add_watcher(watcher)
        try:
            with observers.observing(observer):
                yield
        finally:
            observers.remove_watcher(watcher)
    else:  # "record": a process-wide observer takes _record's SavedTensor entries
        observers.add_global(observer)
        try:
            yield
        finally:
            observers.remove_global(observer)


def test_an_observer_is_told_on_the_fast_path_what_the_general_paths_tell_it():
    logs = {}
    for name in ("fast", "apply", "record"):
        log = logs[name] = _Log()
        with _path(name, log):
            _program(gs)
    assert len(logs["fast"].events) > 100
    assert logs["fast"].events == logs["apply"].events
    assert logs["fast"].events == logs["record"].events
    kinds = {event[0] for event in logs["fast"].events}
    assert {"node_created", "tensor_saved", "op_computed", "root_module_called", "grad_accumulated"} <= kinds


class _OneEventLog(_Log):
    """A `_Log` that takes the nodes the fast paths make as `op_recorded`: logged as the events it stands for, each
    saved value as the light entry's value (the input tensor, or the output's array; no SavedTensor)."""

    def op_recorded(self, op, node, inputs, outputs):
        self.events.append(("op_recorded", op.name))
        self.node_created(node, inputs, outputs)
        for name, (is_output, index, _), entry in zip(op.saved_names, op.save_plan, node._saved):
            if type(entry) is tuple:
                value = entry[0] if entry[3] is None else entry[3]
                named = outputs[index]._data if is_output else inputs[index]
                self.events.append(("saved", self._node(node), name, self._label(value), value is named,
                                    isinstance(value, gs.Tensor)))
        assert all(output._grad_fn is node for output in outputs)  # an op with a node: its op_computed follows
        self.op_computed(op, inputs, outputs)


def test_an_observer_with_op_recorded_is_told_a_node_and_what_it_saved_in_one_event():
    """On the fast paths an observer with `op_recorded` is told each node made in that event instead of
    node_created, tensor_saved and op_computed, and reads the light saved entries itself: the values the
    SavedTensors of the general paths (here every op) hold, under the same names, in the same order, each the input
    or output `op.save_plan` names. Ops that made no node are still told as op_computed, and a two-output op's
    node (the general path's, with SavedTensor entries) as node_created and tensor_saved."""
    told = _OneEventLog()
    with _path("fast", told):
        _program(gs)
    general = _Log()
    with _path("record", general):
        _program(gs)
    kinds = [event[0] for event in told.events]
    assert kinds.count("op_recorded") > 10 and kinds.count("saved") > 10 and "tensor_saved" in kinds
    assert [("saved", *event[1:4]) if event[0] == "tensor_saved" else event[:4] if event[0] == "saved" else event
            for event in told.events if event[0] != "op_recorded"] == [
        ("saved", *event[1:4]) if event[0] == "tensor_saved" else event for event in general.events]
    # an input saved is its tensor, an output saved its array (SavedTensor._tensor is None for an output)
    told_saved = [event for event in told.events if event[0] == "saved"]
    assert all(event[4] for event in told_saved)
    assert {event[5] for event in told_saved} == {True, False}


def test_the_fast_path_serves_an_observer():
    x = gs.randn(4, 3, requires_grad=True)
    w = gs.randn(5, 3, requires_grad=True)
    b = gs.randn(5, requires_grad=True)
    log = _Log()
    calls = []
    code = dispatch.apply.__code__

    def profile(frame, event, arg):
        if event == "call" and frame.f_code is code:
            calls.append(frame.f_code)

    with observers.observing(log):
        sys.setprofile(profile)
        try:
            y = F.linear((x.sin() * 2.0 + x) ** 2, w, b) + x.exp() @ w.t()
        finally:
            sys.setprofile(None)
    assert calls == []
    assert [e[1][1] for e in log.events if e[0] == "node_created"] == [
        "SinBackward0", "MulBackward0", "AddBackward0", "PowBackward0", "TBackward0", "AddmmBackward0",
        "ExpBackward0", "TBackward0", "MmBackward0", "AddBackward0"]
    assert type(y.grad_fn._saved) is tuple and not y.grad_fn._saved  # AddBackward0 saves nothing
    assert all(type(entry) is tuple for entry in y.grad_fn.next_functions[0][0]._saved)  # light entries


def _graph(fn, seen) -> list:
    """A graph's node names, depth first along next_functions (each node once)."""
    if fn is None or fn in seen:
        return []
    seen.add(fn)
    out = [fn.name()]
    for child, nr in fn.next_functions:
        out += [nr, *_graph(child, seen)]
    return out


def test_the_recorded_graph_is_torchs():
    torch = pytest.importorskip("torch")
    with Recorder():
        loss, *_ = _program(gs)
    expected, *_ = _program(torch)
    assert _graph(loss.grad_fn, set()) == _graph(expected.grad_fn, set())


def _content(trace) -> dict:
    """A trace as its file holds it, each tensor as its values or statistics."""
    manifest, records = to_manifest(trace)
    manifest["tensors"] = [(r.values.tolist() if r.values is not None else None, r.stats.to_json()) for r in records]
    return manifest


def _recorded(name: str):
    recorder = Recorder()
    if name == "record":  # a process-wide Recorder, as `gradscope watch` runs one
        with _path(name, recorder):
            _, *named = _program(gs)
    elif name == "apply":
        with _path(name, _Log()), recorder:
            _, *named = _program(gs)
    else:
        with recorder:
            _, *named = _program(gs)
    return recorder.finish(dict(zip(("x", "w", "b", "model"), named)))


def test_a_recording_on_the_fast_path_holds_what_the_general_paths_record():
    fast, apply, record = (_content(_recorded(name)) for name in ("fast", "apply", "record"))
    assert len(fast["nodes"]) > 30 and fast["parameters"]
    assert fast == apply
    assert fast == record


class _HoldsOthers(gs.nn.Module):
    """A closed module without children (as gradscope's own) whose forward calls a module it holds unregistered
    and runs a Sequential's forward itself."""

    _closed_forward = True

    def __init__(self) -> None:
        super().__init__()
        self.held = [gs.nn.Tanh(), gs.nn.Sequential(gs.nn.Sigmoid(), gs.nn.Softplus())]

    def forward(self, input):
        return self.held[1].forward(self.held[0](input * 2))


class _Users(gs.nn.Module):  # the user's own module (not closed): its ops have their own lines
    def forward(self, input):
        return input.exp() - 1


def _layered(lib):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), _HoldsOthers(), _Users(),
                              lib.nn.Sequential(lib.nn.Linear(4, 2), lib.nn.ReLU()))
    model(lib.ones(2, 3)).sum().backward()
    return model


def test_a_recording_runs_a_sequentials_closed_children_inline_and_records_what_their_calls_give(monkeypatch):
    """Under a Recorder (observers of this context), as under anomaly mode, a Sequential in a closed call runs its
    closed children without children inline (no module call of their own, ModuleCall.inline); their nodes have
    the scopes and source lines the general paths (a process-wide observer: every child called) record."""
    monkeypatch.setattr(gs.nn._hooks, "module_hooks_registered", False)  # (else no child runs inline)
    calls = []
    code = gs.nn.Module.__call__.__code__

    def profile(frame, event, arg):
        if event == "call" and frame.f_code is code:
            calls.append(type(frame.f_locals["self"]).__name__)

    contents = {}
    for name in ("fast", "apply", "record"):
        recorder = Recorder()
        if name == "fast":
            context = recorder
        else:
            context = contextlib.ExitStack()
            context.enter_context(_path(name, recorder if name == "record" else _Log()))
            if name == "apply":
                context.enter_context(recorder)
        sys.setprofile(profile)
        try:
            with context:
                _layered(gs)
        finally:
            sys.setprofile(None)
        contents[name] = (_content(recorder.finish()), calls[:])
        calls.clear()
    (fast, fast_calls), (apply, apply_calls), (record, record_calls) = contents.values()
    assert fast == apply == record
    # the root, the calls a forward run inline makes, the user's module, a Sequential with children
    assert fast_calls == ["Sequential", "Tanh", "Sigmoid", "Softplus", "_Users", "Sequential"]
    assert apply_calls == record_calls == ["Sequential", "Linear", "Tanh", "_HoldsOthers", "Tanh", "Sigmoid",
                                           "Softplus", "_Users", "Sequential", "Linear", "ReLU"]
    scopes = {node["scope"] for node in fast["nodes"] if node["kind"] == "op"}
    assert scopes == {"Sequential.0", "Sequential.1", "Sequential.2", "Sequential.2.Tanh", "Sequential.2.0",
                      "Sequential.2.1", "Sequential.3", "Sequential.4.0", "Sequential.4.1", None}
    lines = {(node["scope"], node["source"]["line"]) for node in fast["nodes"] if node["kind"] == "op"}
    assert {line for scope, line in lines if scope != "Sequential.3"} == {_layered.__code__.co_firstlineno + 4}
    assert {line for scope, line in lines if scope == "Sequential.3"} == {_Users.forward.__code__.co_firstlineno + 1}


def _refused_linear(path: str, bias: bool) -> list:
    """The events of F.linear calls under check_forward on `path`: one whose product overflows (refused), after one
    that runs."""
    log = _Log()
    w = gs.tensor([[3e38, 3e38]], dtype=gs.float32, requires_grad=True)
    b = gs.tensor([1.0], dtype=gs.float32, requires_grad=True) if bias else None
    with gs.autograd.detect_anomaly(check_forward=True), _path(path, log):
        F.linear(gs.tensor([[1e-3, 1e-3]], dtype=gs.float32), w, b)
        with pytest.raises(RuntimeError) as refused:
            F.linear(gs.tensor([[1.0, 1.0]], dtype=gs.float32), w, b)
    return [*log.events, ("refused", str(refused.value).splitlines()[0])]


@pytest.mark.parametrize("bias", [True, False], ids=["addmm", "mm"])
def test_a_linear_anomaly_mode_refuses_tells_observers_what_the_general_paths_tell_them(bias):
    """F.linear's fast path tells observers of its view as the general path does, before the product anomaly mode
    refuses (check_forward), and of the product only once it is made."""
    fast, apply, record = (_refused_linear(path, bias) for path in ("fast", "apply", "record"))
    assert fast == apply == record
    assert [event[1][1] for event in fast if event[0] == "node_created"] == [
        "TBackward0", "AddmmBackward0" if bias else "MmBackward0", "TBackward0"]


def _linear_of_an_inference_tensor(path: str, bias: bool) -> list:
    """The events of F.linear on an inference tensor with a weight requiring grad on `path`: it may not be saved."""
    log = _Log()
    w = gs.tensor([[1.0, 2.0]], requires_grad=True)
    b = gs.tensor([1.0], requires_grad=True) if bias else None
    with gs.inference_mode():
        x = gs.tensor([[1.0, 1.0]])
    with _path(path, log):
        with pytest.raises(RuntimeError) as refused:
            F.linear(x, w, b)
    return [*log.events, ("refused", str(refused.value))]


@pytest.mark.parametrize("bias", [True, False], ids=["addmm", "mm"])
def test_a_linear_refusing_an_inference_tensor_tells_observers_what_the_general_paths_tell_them(bias):
    """F.linear's fast path tells observers of its view before refusing to save an inference tensor, as the general
    path does."""
    fast, apply, record = (_linear_of_an_inference_tensor(path, bias) for path in ("fast", "apply", "record"))
    assert fast == apply == record
    assert [event[1][1] for event in fast if event[0] == "node_created"] == ["TBackward0"]
    assert "Inference tensors cannot be saved for backward" in fast[-1][1]


class _SavedAtEnd(_Log):
    """Also what each node still holds when its end is told (the engine frees it afterwards)."""

    def backward_node_end(self, node, grads):
        super().backward_node_end(node, grads)
        self.events.append(("held at end", type(node._saved).__name__))


def _backward_events(special: bool, fail: bool = False) -> list:
    """The events of a backward on the plain path (observers told around each node's rules), or with each node
    sent through the engine's special path by a pre-hook that changes nothing."""
    x = gs.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], requires_grad=True)
    w = gs.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]], requires_grad=True)
    log = _SavedAtEnd()
    with observers.observing(log):
        h = F.linear(x.sin() * 2.0, w) + x.max(dim=1, keepdim=True).values
        loss = (h.exp() ** 2).sum()
        pending = [loss.grad_fn] if special else []
        while pending:
            node = pending.pop()
            if node is not None and node.name() != "torch::autograd::AccumulateGrad":
                node.register_prehook(lambda grads: None)
                pending += [child for child, _ in node.next_functions]
        if fail:
            with gs.no_grad():
                x.mul_(2)  # SinBackward0's saved input, changed in place: its rule raises
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                loss.backward()
        else:
            loss.backward()
    return log.events


@pytest.mark.parametrize("fail", [False, True], ids=["runs", "fails"])
def test_a_backward_tells_an_observer_on_the_plain_path_what_the_special_path_tells_it(fail):
    plain, special = _backward_events(False, fail), _backward_events(True, fail)
    assert plain == special
    kinds = [event[0] for event in plain]
    assert kinds.count("backward_node_start") >= 6
    assert ("backward_node_failed" in kinds) == fail


def _checked_backward(special: bool, nan: bool):
    """Events, error and warnings of a backward under anomaly mode with an observer, on the plain path or with
    every node sent through the engine's special path (as in `_backward_events`)."""
    x = gs.tensor([[0.5, 0.0, 2.0], [1.5, 0.25, 4.0]], requires_grad=True)
    log = _SavedAtEnd()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with gs.autograd.detect_anomaly(), observers.observing(log):
            loss = (x.sqrt() * (0.0 if nan else 2.0) + x.exp()).sum()  # 0 * inf at the sqrt of 0: nan
            pending = [loss.grad_fn] if special else []
            while pending:
                node = pending.pop()
                if node is not None and node.name() != "torch::autograd::AccumulateGrad":
                    node.register_prehook(lambda grads: None)
                    pending += [child for child, _ in node.next_functions]
            special_runs = []
            code = engine._run_special.__code__

            def profile(frame, event, arg):
                if event == "call" and frame.f_code is code and frame.f_locals["node"].name() != (
                        "torch::autograd::AccumulateGrad"):
                    special_runs.append(frame.f_locals["node"].name())

            sys.setprofile(profile)
            try:
                loss.backward()
                error = None
            except RuntimeError as raised:
                error = str(raised)
            finally:
                sys.setprofile(None)
    assert bool(special_runs) == special  # the plain path runs every node but the leaves' itself
    return log.events, error, [str(w.message) for w in caught]


@pytest.mark.parametrize("nan", [False, True], ids=["runs", "nan"])
def test_under_anomaly_mode_the_plain_path_tells_and_checks_as_the_special_path(nan):
    plain, special = _checked_backward(False, nan), _checked_backward(True, nan)
    assert plain == special
    events, error, caught = plain
    assert [event[0] for event in events].count("backward_node_start") >= 4
    if nan:
        assert error == "Function 'SqrtBackward0' returned nan values in its 0th output."
        assert any(message.startswith("Error detected in SqrtBackward0") for message in caught)
    else:
        assert error is None


@pytest.mark.parametrize("size", [3, 5000], ids=["values kept", "held"])
def test_a_recorded_gradient_summed_from_several_paths_keeps_the_values_it_had(size):
    """The engine sums a node's gradients from several paths into the buffer's array when it alone holds it; not
    while observers listen: a recording keeps what each node received and returned (held by reference, or known
    by the array's identity)."""
    x = gs.tensor(np.linspace(-1.0, 1.0, size), requires_grad=True)
    with Recorder() as recorder:
        a = x * 2.0
        (a.exp() + a.sin() + a.cos()).sum().backward()
    trace = recorder.finish()
    by_name = {node.name: node.id for node in trace.nodes.values()}
    recorded = trace.passes[0]
    summed = recorded.grad_outputs[by_name["MulBackward0"]][0]
    parts = [recorded.grad_inputs[by_name[name]][0] for name in ("ExpBackward0", "SinBackward0", "CosBackward0")]
    doubled = 2 * x.detach().numpy()
    for record, values in ((summed, np.exp(doubled) + np.cos(doubled) - np.sin(doubled)),
                           (parts[0], np.exp(doubled)), (parts[1], np.cos(doubled)), (parts[2], -np.sin(doubled))):
        assert (record.stats.norm, record.stats.mean) == pytest.approx((np.linalg.norm(values), values.mean()))
