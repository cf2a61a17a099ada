"""A synthetic trace of any size, shaped like a deep residual MLP, for the 50,000-node tests and bench/tui.py.

Each block is `h = relu(h @ W.T + b)` inside module `model.blocks.{i}.fc` (Addmm, T and two leaves) with a
residual `AddBackward0` every block; the last block's ReLU output is the culprit of a NaN. Tensor records
are shared between nodes, so building 50,000 nodes takes well under a second. Further passes (`passes`)
repeat the first with finite gradients, so that the browser's pass switching can be measured.
`with_propagators` adds thousands of anomalies, as a NaN that flows through every op of every pass leaves.
"""

from __future__ import annotations

import numpy as np

from gradscope.trace.model import Anomaly, NodeRecord, Parameter, PassRecord, SourceLocation, TensorRecord, Trace

NODES_PER_BLOCK = 6


def synthetic_trace(nodes: int = 50_000, passes: int = 1) -> Trace:
    """A trace of `passes` backward passes through about `nodes` nodes (a multiple of NODES_PER_BLOCK, plus the
    loss); the first pass has the NaN."""
    rng = np.random.default_rng(0)
    value = TensorRecord(values=rng.standard_normal((4, 4)).astype(np.float32))
    grad = TensorRecord(values=rng.standard_normal((4, 4)).astype(np.float32) * 1e-2)
    weight = TensorRecord(values=rng.standard_normal((4, 4)).astype(np.float32))
    bad = TensorRecord(values=np.full((4, 4), np.nan, dtype=np.float32))
    trace = Trace(meta={"script": "synthetic.py", "entry": "loss"})
    record = PassRecord(index=0)
    source = SourceLocation("synthetic.py", 1, "forward")
    previous = None  # the output node of the block below

    def add(name, op, scope, children, leaf_name=None):
        node_id = len(trace.nodes)
        kind = "leaf" if op == "leaf" else "op"
        trace.nodes[node_id] = NodeRecord(node_id, name, op, kind, scope=scope,
                                          source=None if kind == "leaf" else source,
                                          next=[(child, 0) for child in children], inputs=[value], outputs=[value],
                                          leaf_name=leaf_name)
        if kind == "leaf":
            record.leaf_grads[node_id] = grad
        else:
            record.grad_outputs[node_id] = [grad]
            record.grad_inputs[node_id] = [grad for _ in children]
        return node_id

    for block in range(nodes // NODES_PER_BLOCK):
        scope = f"model.blocks.{block}"
        weight_leaf = add("AccumulateGrad", "leaf", None, [], f"{scope}.fc.weight")
        bias_leaf = add("AccumulateGrad", "leaf", None, [], f"{scope}.fc.bias")
        transpose = add("TBackward0", "t", f"{scope}.fc", [weight_leaf])
        addmm = add("AddmmBackward0", "addmm", f"{scope}.fc", [bias_leaf, previous, transpose])
        relu = add("ReluBackward0", "relu", scope, [addmm])
        previous = add("AddBackward0", "add", scope, [relu, previous])
        for leaf, name in ((weight_leaf, "fc.weight"), (bias_leaf, "fc.bias")):
            trace.parameters.append(Parameter(f"{scope}.{name}", leaf, weight, f"{scope}.fc"))
    record.grad_outputs[previous] = [bad]
    trace.anomalies.append(Anomaly("backward", "culprit", previous, 0, "AddBackward0 returned 16 nan"))
    loss = add("MeanBackward0", "mean", None, [previous])
    record.roots = [loss]
    record.order = list(reversed(trace.nodes))
    trace.passes.append(record)
    for index in range(1, passes):
        finite = {node: [grad] * len(grads) for node, grads in record.grad_outputs.items()}
        trace.passes.append(PassRecord(index, list(record.roots), list(record.order), finite,
                                       dict(record.grad_inputs), dict(record.leaf_grads)))
    return trace


def with_propagators(trace: Trace, count: int) -> Trace:
    """`trace` with `count` more anomalies: each op node of each pass passed a NaN on, forward and backward (as
    anomaly mode names them), until there are `count`."""
    made = 0
    for record in trace.passes:
        for node_id in record.order:
            node = trace.nodes[node_id]
            if node.kind == "leaf":
                continue
            for phase, message in (("forward", f"{node.op} passed on non-finite values (16 nan)"),
                                   ("backward", f"{node.name} passed on a non-finite gradient (16 nan)")):
                if made == count:
                    return trace
                trace.anomalies.append(Anomaly(phase, "propagator", node_id, record.index, message, node.op,
                                               node.source, node.scope))
                made += 1
    return trace
