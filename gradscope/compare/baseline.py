"""Golden gradients: a small trace holding each parameter's value and the gradient it received in each
pass, written once (`gradscope check --update-baseline`, `--gradscope-update-baselines`) and compared
with later runs (the `baseline` rule, `assert_grads_match_baseline`).

A baseline is an ordinary trace file (one AccumulateGrad leaf per parameter, one pass per step,
`meta["baseline"] == "parameters"`), so `gradscope diff golden.gstrace model.py` reads it too.

>>> save_trace(baseline_trace([(trace, 0)]), "golden.gstrace")
>>> compare_traces(load_trace("golden.gstrace"), baseline_trace([(new_trace, 0)])).equal
"""

from __future__ import annotations

from collections.abc import Sequence

from gradscope.compare.divergence import BASELINE
from gradscope.trace.model import NodeRecord, Parameter, PassRecord, Trace


def baseline_trace(passes: Sequence[tuple[Trace, int]], meta: dict | None = None) -> Trace:
    """The parameters' values (from the first trace) and their gradients in each of `passes` (a trace
    and the index of one of its backward passes, one per training step), in the order they accumulated."""
    if not passes:
        raise ValueError("a baseline needs at least one backward pass")
    first = passes[0][0]
    small = Trace(meta={key: first.meta[key] for key in ("script", "entry", "keep_values") if key in first.meta})
    small.meta.update(meta or {}, baseline=BASELINE, steps=len(passes))
    ids: dict[str, int] = {}
    for parameter in first.parameters:
        node_id = ids.setdefault(parameter.name, len(ids))
        small.nodes[node_id] = NodeRecord(node_id, "AccumulateGrad", "leaf", "leaf", outputs=[parameter.value],
                                          leaf_name=parameter.name)
        small.parameters.append(Parameter(parameter.name, node_id, parameter.value, parameter.module))
    for index, (trace, pass_index) in enumerate(passes):
        record = trace.passes[pass_index]
        of_node = {p.node: ids[p.name] for p in trace.parameters if p.node is not None and p.name in ids}
        small_pass = PassRecord(index=index)
        for node in dict.fromkeys(record.order):
            if node in of_node and node in record.leaf_grads:
                small_pass.order.append(of_node[node])
                small_pass.leaf_grads[of_node[node]] = record.leaf_grads[node]
        small.passes.append(small_pass)
    return small
