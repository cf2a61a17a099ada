"""Where a NaN or Inf starts: the culprit op (finite in, non-finite out) versus the ops that only
pass it on. Shared by the recorder, `gradscope inspect` and anomaly mode."""

from __future__ import annotations

from gradscope.trace.model import Anomaly, NodeRecord, PassRecord, Trace, TensorRecord


def _nonfinite(records) -> bool:
    return any(r is not None and not r.stats.finite for r in records)


def describe(record: TensorRecord) -> str:
    s = record.stats
    parts = [f"{count} {label}" for count, label in ((s.nan, "nan"), (s.posinf, "+inf"), (s.neginf, "-inf")) if count]
    return ", ".join(parts) or "finite"


def _why_forward(node: NodeRecord) -> str:
    """A plain reason for the common ways an op makes a non-finite value from finite inputs."""
    first = node.inputs[0] if node.inputs else None
    stats = first.stats if first is not None else None
    op = node.op
    if stats is not None:
        if op in ("log", "log1p") and (stats.min <= (0 if op == "log" else -1)):
            return f"{op} of a value <= {0 if op == 'log' else -1} (input min {stats.min:g})"
        if op in ("sqrt", "rsqrt") and stats.min < 0:
            return f"{op} of a negative value (input min {stats.min:g})"
        if op == "exp":
            return f"exp overflowed (input max {stats.max:g})"
        if op in ("div", "reciprocal", "rsqrt"):
            divisor = node.inputs[1] if op == "div" and len(node.inputs) > 1 else first
            if divisor is not None and divisor.stats.zero_fraction > 0:
                return f"division by zero ({divisor.stats.zero_fraction:.0%} of the divisor is 0)"
        if op in ("pow", "pow_tensor"):
            return f"pow of input in [{stats.min:g}, {stats.max:g}]"
    return "finite inputs, non-finite output"


def classify_forward(node: NodeRecord, first: bool) -> Anomaly | None:
    """An anomaly when the node's forward output is non-finite."""
    if not _nonfinite(node.outputs):
        return None
    out = next(r for r in node.outputs if r is not None and not r.stats.finite)
    if _nonfinite(node.inputs):
        return Anomaly("forward", "propagator", node.id, None,
                       f"{node.op} passed on non-finite values ({describe(out)})")
    return Anomaly("forward", "culprit", node.id, None,
                   f"{node.op} produced {describe(out)}: {_why_forward(node)}")


def _why_backward(node: NodeRecord) -> str:
    saved = node.saved
    for name in ("self", "other", "result"):
        record = saved.get(name)
        if record is not None and record.stats.zero_fraction > 0:
            return f"its saved {name} holds zeros ({record.stats.zero_fraction:.0%}), where the derivative is infinite"
    return "finite incoming gradient, non-finite outgoing gradient"


def classify_backward(trace: Trace, pass_record: PassRecord, node_id: int) -> Anomaly | None:
    """An anomaly when the node's outgoing gradients are non-finite."""
    produced = pass_record.grad_inputs.get(node_id, [])
    if not _nonfinite(produced):
        return None
    node = trace.nodes[node_id]
    out = next(r for r in produced if r is not None and not r.stats.finite)
    if _nonfinite(pass_record.grad_outputs.get(node_id, [])):
        return Anomaly("backward", "propagator", node_id, pass_record.index,
                       f"{node.name} passed on a non-finite gradient ({describe(out)})")
    return Anomaly("backward", "culprit", node_id, pass_record.index,
                   f"{node.name} returned {describe(out)} from a finite gradient: {_why_backward(node)}")
