"""Which node of a graph has the wrong backward: each node's VJP re-checked in isolation.

The function is run once under an observer that records every node with the inputs it was given.
Each node is then re-run alone on float64 copies of those inputs, and its vᵀJu from backward is
compared with a central difference along u. The first node (in forward order) that disagrees is
the culprit — a custom autograd.Function with a buggy backward, typically.

A non-finite gradient is traced differently: the backward runs again under anomaly mode, which
stops at the first node that turned finite gradients into NaN or inf.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from gradscope.autograd import engine, observers
from gradscope.autograd.anomaly import set_detect_anomaly
from gradscope.autograd.dispatch import apply
from gradscope.autograd.grad_mode import enable_grad, no_grad
from gradscope.autograd.node import OpNode
from gradscope.autograd.stacks import capture_stack, user_location
from gradscope.autograd.tensor import Tensor
from gradscope.autograd.writes import before_write


@dataclass
class NodeCulprit:
    """The first node of the graph whose VJP disagrees with finite differences on its own inputs."""

    name: str  # ScaledSoftplusBackward, MulBackward0
    op: str  # the forward op or the custom Function's class name
    scope: str | None
    location: str | None  # file.py:LINE where the user's code created it
    numerical: float
    analytical: float

    def __str__(self) -> str:
        where = f" at {self.location}" if self.location else ""
        scope = f" in {self.scope}" if self.scope else ""
        return (f"culprit: {self.name} (op {self.op}){where}{scope}: its backward gives vᵀJu = {self.analytical:.6g}"
                f", finite differences {self.numerical:.6g}")


class _Capture:
    def __init__(self) -> None:
        self.nodes: list[tuple] = []

    def node_created(self, node, inputs, outputs) -> None:
        self.nodes.append((node, tuple(inputs), user_location(capture_stack())))


def _copies(values, edges):
    """float64 copies of the tensor inputs; those with a graph edge require grad. Repeats stay shared."""
    made: dict[int, Tensor] = {}
    result = []
    edge = iter(edges)  # one per tensor argument (a custom Function's other arguments have none)
    for value in values:
        if isinstance(value, Tensor):
            fn, _ = next(edge)
            if id(value) not in made:
                data = value._data.astype(np.float64) if value._data.dtype.kind == "f" else value._data.copy()
                copy = Tensor._make(np.array(data, copy=True))
                copy._requires_grad = fn is not None and data.dtype.kind == "f"
                made[id(value)] = copy
            result.append(made[id(value)])
        else:
            result.append(value)
    return result


def _rerun(node, values):
    """Run the node's forward alone on new inputs; None when gradscope can't replay this kind of node."""
    if isinstance(node, OpNode):
        op = node.op
        params = node._attrs[: len(op.params)]
        return apply(op, values, params)
    fn = getattr(node, "_fn", None)
    if fn is not None:
        return fn.apply(*values)
    return None


def _node_agrees(node, values, edges, eps: float, atol: float, rtol: float, rng) -> tuple[bool, float, float]:
    inputs = _copies(values, edges)
    with enable_grad():
        outputs = _rerun(node, inputs)
    if outputs is None:
        return True, 0.0, 0.0
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    diff_out = [o for o in outputs if isinstance(o, Tensor) and o.requires_grad and o._data.dtype == np.float64]
    diff_in = [x for x in dict.fromkeys(i for i in inputs if isinstance(i, Tensor) and i.requires_grad)]
    if not diff_out or not diff_in:
        return True, 0.0, 0.0
    u = [rng.random(x._data.shape) for x in diff_in]
    u = [d / (np.linalg.norm(d) or 1) for d in u]
    v = [rng.random(o._data.shape) for o in diff_out]
    v = [d / (np.linalg.norm(d) or 1) for d in v]
    grads = engine.grad(diff_out, diff_in, [Tensor._make(d) for d in v], allow_unused=True)
    analytical = sum(float(np.sum(g._data * d)) for g, d in zip(grads, u) if g is not None)
    originals = [x._data.copy() for x in diff_in]
    # NOTE: the step grows with the inputs' magnitude, or float64 rounding at |x| ~ 1e8 swamps eps = 1e-6
    step = eps * max(1.0, max(float(np.abs(o).max(initial=0.0)) for o in originals))

    def evaluate(sign: float) -> list[np.ndarray]:
        for x, original, d in zip(diff_in, originals, u):
            before_write(x._data)  # a recording may hold the input's memory
            x._data[...] = original + sign * step * d
        with no_grad():
            outs = _rerun(node, inputs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        return [o._data.copy() for o in outs if isinstance(o, Tensor) and o._data.dtype == np.float64]

    after, before = evaluate(1.0), evaluate(-1.0)
    for x, original in zip(diff_in, originals):
        before_write(x._data)
        x._data[...] = original
    numerical = sum(float(np.sum((a - b) / (2 * step) * d)) for a, b, d in zip(after, before, v))
    tolerance = atol * sum(float(d.sum()) for d in u) * sum(float(d.sum()) for d in v) + rtol * abs(numerical)
    return abs(analytical - numerical) <= tolerance, numerical, analytical


def first_wrong_node(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3):
    """Run `func(*inputs)` and return a NodeCulprit for the first node whose backward is wrong, or None."""
    capture = _Capture()
    with observers.observing(capture), enable_grad():
        func(*inputs)
    rng = np.random.default_rng(1)
    for node, values, location in capture.nodes:
        try:
            ok, numerical, analytical = _node_agrees(node, values, node._next, eps, atol, rtol, rng)
        except Exception:  # noqa: BLE001 - a node that can't be replayed alone is simply not judged
            continue
        if not ok:
            fn = getattr(node, "_fn", None)
            op = node.op.name if isinstance(node, OpNode) else fn.__name__ if fn is not None else node.name()
            return NodeCulprit(node.name(), op, node.scope, location, numerical, analytical)
    return None


def first_nonfinite_node(func, inputs, wrt, output_index: int, output_element: tuple[int, ...]):
    """Run `func(*inputs)` and the backward of one element of output `output_index` with respect to
    `wrt` under anomaly mode (NaN and inf): (name, op, scope, location, reason) of the first backward
    node that turned finite gradients non-finite, or None if none did."""
    with warnings.catch_warnings(), set_detect_anomaly(True, check_nan=True, check_inf=True), enable_grad():
        warnings.simplefilter("ignore")  # anomaly mode's "Error detected in …" warnings: the report says it
        outputs = func(*inputs)
        output = (outputs if isinstance(outputs, (tuple, list)) else (outputs,))[output_index]
        one_hot = np.zeros_like(output._data)
        one_hot[output_element] = 1
        try:
            engine.grad((output,), list(wrt), (Tensor._make(one_hot),), allow_unused=True)
        except RuntimeError as error:
            report = getattr(error, "report", None)
            if report is None:
                raise
            return report.node_name, report.op, report.scope, report.location, report.reason
    return None
