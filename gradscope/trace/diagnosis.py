"""Anomalies in a recording: the culprit op versus the ops that only pass non-finite values on
(the rules themselves are gradscope._diagnosis, shared with anomaly mode)."""

from __future__ import annotations

from gradscope._diagnosis import describe, role, why_backward, why_forward
from gradscope.trace.model import Anomaly, NodeRecord, PassRecord, Trace


def _stats(records):
    return [None if r is None else r.stats for r in records]


def classify_forward(node: NodeRecord) -> Anomaly | None:
    """An anomaly when the node's forward output is non-finite."""
    outputs = _stats(node.outputs)
    verdict = role(_stats(node.inputs), outputs)
    if verdict is None:
        return None
    bad = describe(next(s for s in outputs if s is not None and not s.finite))
    if verdict == "propagator":
        return Anomaly("forward", verdict, node.id, None, f"{node.op} passed on non-finite values ({bad})")
    return Anomaly("forward", verdict, node.id, None,
                   f"{node.op} produced {bad}: {why_forward(node.op, _stats(node.inputs))}")


def classify_backward(trace: Trace, pass_record: PassRecord, node_id: int) -> Anomaly | None:
    """An anomaly when the node's outgoing gradients are non-finite."""
    outgoing = _stats(pass_record.grad_inputs.get(node_id, []))
    verdict = role(_stats(pass_record.grad_outputs.get(node_id, [])), outgoing)
    if verdict is None:
        return None
    node = trace.nodes[node_id]
    bad = describe(next(s for s in outgoing if s is not None and not s.finite))
    if verdict == "propagator":
        return Anomaly("backward", verdict, node_id, pass_record.index,
                       f"{node.name} passed on a non-finite gradient ({bad})")
    saved = {name: record.stats for name, record in node.saved.items()}
    return Anomaly("backward", verdict, node_id, pass_record.index,
                   f"{node.name} returned {bad} from a finite gradient: {why_backward(node.op, saved)}")
