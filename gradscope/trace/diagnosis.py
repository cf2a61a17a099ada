"""Anomalies in a recording: the culprit op versus the ops that only pass non-finite values on
(the rules themselves are gradscope._diagnosis, shared with anomaly mode).

`ForwardOrigins` finds where a non-finite value is born in the forward pass, in the autograd graph
or outside it (an op on tensors that don't require grad has no node): an observer's
`op_computed(op, inputs, outputs)` hands it every primitive the engine runs. The recorder uses it,
and so can any observer that only needs the first bad op (a cheap watch over a training run).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import numpy as np

import gradscope
from gradscope._diagnosis import describe, forward_origin, role, why_backward, why_forward
from gradscope._stats import TensorStats
from gradscope.autograd import observers
from gradscope.autograd.engine import current_pass
from gradscope.trace.model import Anomaly, Masked, NodeRecord, PassRecord, SourceLocation, Trace

_PACKAGE_DIR = os.path.dirname(os.path.abspath(gradscope.__file__)) + os.sep


def _stats(records):
    return [None if r is None else r.stats for r in records]


def _all_finite(records) -> bool:
    return all(r is None or r.finite for r in records)


def classify_forward(node: NodeRecord) -> Anomaly | None:
    """An anomaly when the node's forward output is non-finite."""
    if _all_finite(node.outputs):  # the common case, decided without statistics
        return None
    outputs = _stats(node.outputs)
    verdict = role(_stats(node.inputs), outputs)
    if verdict is None:
        return None
    bad = describe(next(s for s in outputs if s is not None and not s.finite))
    if verdict == "propagator":
        message = f"{node.op} passed on non-finite values ({bad})"
    else:
        message = f"{node.op} produced {bad}: {why_forward(node.op, _stats(node.inputs))}"
    return Anomaly("forward", verdict, node.id, None, message, node.op, node.source, node.scope)


# ops that write a value the caller gave them (`masked_fill(mask, -inf)`, `where(causal, x, -inf)`, F.pad with
# value=-inf before a max): infinities they make are a mask unless something downstream shows otherwise
MASKING_OPS = frozenset({"masked_fill", "where", "fill", "constant_pad_nd", "index_fill", "scatter_value"})


def forgivable(role: str, op: str | None, nan: bool, mask_values: bool = False) -> bool:
    """Infinities that may be a mask: made by an op that writes the caller's value (MASKING_OPS), handed on
    by one that was given them, or `mask_values`: nothing but 0 and -inf (the log of a 0/1 mask, as
    PyTorch's word_language_model example builds its causal mask); never a NaN, nor any other infinity
    arithmetic made from finite values (log(0) of data, x / 0, exp overflow)."""
    return not nan and (role == "propagator" or op in MASKING_OPS or mask_values)


def mask_array(array) -> bool:
    """A floating array of 0 and -inf, both present (a mask that hides something and shows something)."""
    if array.dtype.kind not in "fc":
        return False
    zero, hidden = array == 0, array == -np.inf
    return bool((zero | hidden).all() and zero.any() and hidden.any())


def only_mask_values(stats: TensorStats) -> bool:
    """0 and -inf, both present, and nothing else."""
    zeros = round(stats.zero_fraction * stats.numel)
    return stats.nan == 0 and stats.posinf == 0 and stats.neginf > 0 and zeros > 0 and \
        stats.neginf + zeros == stats.numel


def absorbed(trace: Trace, pass_index: int | None, role: str, op: str | None, nan: bool,
             mask_values: bool = False) -> bool:
    """Whether a forward anomaly was a mask, not an accident: `forgivable`, and the pass it fed kept its
    infinities out of its loss and its gradients (`masked_fill(mask, -inf)` or a causal `where` before a
    softmax, which turns them into zeros), or no pass ran after it (an eval loop or generation under the
    same masks). A pass not run yet (a recording read mid-way) decides nothing."""
    if not forgivable(role, op, nan, mask_values):
        return False
    if pass_index is None:
        return True
    if pass_index >= len(trace.passes):
        return False
    record = trace.passes[pass_index]
    roots = (trace.nodes[root] for root in record.roots if root in trace.nodes)
    if not all(output is None or output.finite for node in roots for output in node.outputs):
        return False
    gradients = (grad for grads in record.grad_inputs.values() for grad in grads)
    return all(grad is None or grad.finite for grad in (*gradients, *record.leaf_grads.values()))


@dataclass(slots=True)  # one per node a recording makes
class ForwardCheck:
    """`classify_forward` of a node, queued until the trace's anomalies are read (`Trace.judge_later`); its
    anomaly belongs to the pass `pass_index` (the one this forward feeds; None when no pass ran after it).
    Infinities the pass absorbed (`absorbed`) are no anomaly: a mask."""

    node: NodeRecord
    pass_index: int | None

    def __call__(self, trace: Trace) -> Anomaly | Masked | None:
        anomaly = classify_forward(self.node)
        if anomaly is None:
            return None
        anomaly.pass_index = self.pass_index
        outputs = [output.stats for output in self.node.outputs if output is not None]
        nan = any(stats.nan for stats in outputs)
        mask_values = all(only_mask_values(stats) for stats in outputs if not stats.finite)
        if absorbed(trace, self.pass_index, anomaly.role, self.node.op, nan, mask_values):
            return Masked(anomaly)
        return anomaly


@dataclass
class OutsideCheck:
    """An op outside the autograd graph that made a non-finite value (found as it ran), judged with the rest:
    a mask if the pass it fed absorbed it (`absorbed`)."""

    anomaly: Anomaly
    nan: bool
    mask_values: bool = False

    @property
    def pass_index(self) -> int | None:
        return self.anomaly.pass_index

    @pass_index.setter
    def pass_index(self, value: int | None) -> None:
        self.anomaly.pass_index = value

    def __call__(self, trace: Trace) -> Anomaly | Masked:
        anomaly = self.anomaly
        forgiven = absorbed(trace, anomaly.pass_index, anomaly.role, anomaly.op, self.nan, self.mask_values)
        return Masked(anomaly) if forgiven else anomaly


@dataclass(slots=True)  # one per pass a recording makes
class BackwardChecks:
    """`classify_backward` of every node a pass ran, in the order they ran (`PassRecord.grad_inputs` is filled in
    it): queued when the pass is over, one item for its nodes (a node's own check costs a few objects)."""

    pass_record: PassRecord

    def __call__(self, trace: Trace) -> list[Anomaly]:
        pass_record = self.pass_record
        found = []
        for node_id in pass_record.grad_inputs:
            anomaly = classify_backward(trace, pass_record, node_id)
            if anomaly is not None:
                found.append(anomaly)
        return found


def classify_backward(trace: Trace, pass_record: PassRecord, node_id: int) -> Anomaly | None:
    """An anomaly when the node's outgoing gradients are non-finite."""
    if _all_finite(pass_record.grad_inputs.get(node_id, [])):
        return None
    outgoing = _stats(pass_record.grad_inputs.get(node_id, []))
    verdict = role(_stats(pass_record.grad_outputs.get(node_id, [])), outgoing)
    if verdict is None:
        return None
    node = trace.nodes[node_id]
    bad = describe(next(s for s in outgoing if s is not None and not s.finite))
    if verdict == "propagator":
        message = f"{node.name} passed on a non-finite gradient ({bad})"
    else:
        saved = {name: record.stats for name, record in node.saved.items()}
        message = f"{node.name} returned {bad} from a finite gradient: {why_backward(node.op, saved)}"
    return Anomaly("backward", verdict, node_id, pass_record.index, message, node.op, node.source, node.scope)


# ------------------------------------------------------------------------------ forward origins
def user_frame(frame):
    """The innermost stack frame outside gradscope: the user's line that made the op."""
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    return frame


def user_source(frame) -> SourceLocation | None:
    """Where the user's code is, from `frame` outwards (None when only gradscope is on the stack)."""
    frame = user_frame(frame)
    if frame is None:
        return None
    return SourceLocation(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


@dataclass
class ForwardOrigin:
    """An op that turned finite inputs into a non-finite output."""

    op: str
    message: str  # 'log produced 1 -inf: log of a value <= 0 (input min 0)'
    source: SourceLocation | None
    scope: str | None


class ForwardOrigins:
    """Checks every op the engine runs for finite inputs turned non-finite, as an observer would call it
    from `op_computed`; each op costs one sum per floating output.

    >>> origins = ForwardOrigins()
    >>> with observers.observing(origins):
    ...     y = gradscope.log(gradscope.zeros(3))
    >>> origins.found[0].message
    'log produced 3 -inf: log of a value <= 0 (input min 0)'
    """

    def __init__(self, in_graph: bool = True) -> None:
        self.in_graph = in_graph  # False: ops that made a node are left to whoever watches nodes
        self.found: list[ForwardOrigin] = []

    def op_computed(self, op, inputs, outputs) -> None:
        origin = self.check(op, inputs, outputs)
        if origin is not None:
            self.found.append(origin)

    def check(self, op, inputs, outputs) -> ForwardOrigin | None:
        """The origin this op is, if it is one (the caller decides what to keep). Ops run by a backward
        pass (gradients computed with create_graph, hooks) are the backward's to judge."""
        if current_pass() is not None:
            return None
        if not self.in_graph and any(out._node is not None for out in outputs):
            return None
        message = forward_origin(op.name, inputs, outputs)
        if message is None:
            return None
        return ForwardOrigin(op.name, message, user_source(sys._getframe(1)), observers.current_scope())
