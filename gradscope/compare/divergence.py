"""`compare_traces(a, b)`: where two recordings of a model start to differ.

The runs are walked in execution order, pass by pass: first the forward pass (structure: an op in
one run only, or a different op at the same place; then each paired node's outputs), then the
backward pass in the order A ran it (the gradients each node passed on, and what each leaf
accumulated). The first entry of `DiffReport.differences` is the first divergence.

>>> report = compare_traces(load_trace("before.gstrace"), load_trace("after.gstrace"))
>>> report.equal, report.summary()
"""

from __future__ import annotations

import math

import numpy as np

from gradscope.compare.align import Pair, align, forward_order, is_named_leaf, op_key, pass_groups
from gradscope.compare.report import (
    NUMERICAL,
    STRUCTURAL,
    Difference,
    DiffReport,
    ModuleDiff,
    ParameterDiff,
    relative_error,
)
from gradscope.compare.tolerance import Tolerance, compare_records
from gradscope.trace.model import Parameter, PassRecord, TensorRecord, Trace

BASELINE = "parameters"  # meta["baseline"] of a trace that holds parameters' values and gradients only


def compare_traces(a: Trace, b: Trace, tolerance: Tolerance | None = None, *, a_label: str = "A",
                   b_label: str = "B", parameters_only: bool | None = None) -> DiffReport:
    """Compare run `b` with run `a` (the reference). When either is a baseline holding parameters
    only (or `parameters_only`), only parameters' values and gradients are compared."""
    tolerance = tolerance or Tolerance()
    if parameters_only is None:
        parameters_only = BASELINE in (a.meta.get("baseline"), b.meta.get("baseline"))
    walk = _Walk(a, b, tolerance, parameters_only)
    report = DiffReport(a_label, b_label, tolerance, parameters_only, (len(a.passes), len(b.passes)),
                        (len(a.nodes), len(b.nodes)))
    report.differences = walk.differences()
    report.parameters = compare_parameters(a, b, tolerance)
    report.modules = _modules(walk, report.differences)
    report.partners = walk.partner
    return report


class _Walk:
    """The two runs walked side by side; `partner` maps A's node ids to B's."""

    def __init__(self, a: Trace, b: Trace, tolerance: Tolerance, parameters_only: bool) -> None:
        self.a, self.b, self.tolerance = a, b, tolerance
        self.parameters_only = parameters_only
        self.partner: dict[int, int] = {}
        self.counts: dict[str, list[int]] = {}  # scope → [nodes in A, nodes in B]
        self.modules = ({p.node: p.module for p in a.parameters if p.node is not None},
                        {p.node: p.module for p in b.parameters if p.node is not None})  # a leaf's module

    def differences(self) -> list[Difference]:
        found: list[Difference] = []
        a_groups, b_groups = pass_groups(self.a), pass_groups(self.b)
        b_by_pass = dict(b_groups)
        for pass_index, a_ids in a_groups:
            if pass_index is not None and pass_index not in b_by_pass:
                found.append(Difference(STRUCTURAL, "backward", pass_index, None, f"pass {pass_index} is only in A"))
                continue
            b_ids = b_by_pass.get(pass_index, [])
            found += self._forward(pass_index, a_ids, b_ids)
            if pass_index is not None:
                found += self._backward(self.a.passes[pass_index], self.b.passes[pass_index])
        a_passes = {index for index, _ in a_groups}
        found += [Difference(STRUCTURAL, "backward", index, None, f"pass {index} is only in B")
                  for index, _ in b_groups if index is not None and index not in a_passes]
        return found

    def _chosen(self, trace: Trace, ids: list[int]) -> list[int]:
        if self.parameters_only:
            ids = [i for i in ids if trace.nodes[i].kind == "leaf"]
        return forward_order(trace, ids)

    def _forward(self, pass_index: int | None, a_ids: list[int], b_ids: list[int]) -> list[Difference]:
        a_order, b_order = self._chosen(self.a, a_ids), self._chosen(self.b, b_ids)
        found = []
        for pair in align(self.a, a_order, self.b, b_order):
            a_node = None if pair.a is None else self.a.nodes[pair.a]
            b_node = None if pair.b is None else self.b.nodes[pair.b]
            scope = self.scope(pair)
            self._count(scope, pair)
            if a_node is None or b_node is None:
                what = "only in A" if b_node is None else "only in B"
                found.append(Difference(STRUCTURAL, "forward", pass_index, scope, what, a_node, b_node))
                continue
            self.partner[pair.a] = pair.b
            if a_node.kind == "leaf" or op_key(a_node) == op_key(b_node):
                found += self._outputs(pass_index, scope, pair)
            else:
                found.append(Difference(STRUCTURAL, "forward", pass_index, scope, "different op", a_node, b_node))
        return found

    def _outputs(self, pass_index: int | None, scope: str | None, pair: Pair) -> list[Difference]:
        a_node, b_node = self.a.nodes[pair.a], self.b.nodes[pair.b]
        label = "value" if a_node.kind == "leaf" else "output {}"
        return self._tensors(a_node.outputs, b_node.outputs, label, "forward", pass_index, scope, pair)

    def _backward(self, a_pass: PassRecord, b_pass: PassRecord) -> list[Difference]:
        found = []
        b_ran = set(b_pass.order)
        for node_id in dict.fromkeys(a_pass.order):
            partner = self.partner.get(node_id)
            if partner is None or partner not in b_ran:
                continue
            a_node, b_node = self.a.nodes[node_id], self.b.nodes[partner]
            if a_node.kind != "leaf" and op_key(a_node) != op_key(b_node):
                continue  # already a structural difference
            pair, scope = Pair(node_id, partner), self.scope(Pair(node_id, partner))
            if node_id in a_pass.roots and partner in b_pass.roots:
                found += self._tensors(a_pass.grad_outputs.get(node_id, []), b_pass.grad_outputs.get(partner, []),
                                       "gradient given to backward", "backward", a_pass.index, scope, pair)
            if a_node.kind == "leaf":
                found += self._tensors([a_pass.leaf_grads.get(node_id)], [b_pass.leaf_grads.get(partner)], ".grad",
                                       "backward", a_pass.index, scope, pair)
            else:
                found += self._tensors(a_pass.grad_inputs.get(node_id, []), b_pass.grad_inputs.get(partner, []),
                                       "gradient to input {}", "backward", a_pass.index, scope, pair)
        return found

    def _tensors(self, a_records: list[TensorRecord | None], b_records: list[TensorRecord | None], label: str,
                 phase: str, pass_index: int | None, scope: str | None, pair: Pair) -> list[Difference]:
        """The first of the paired tensors that differs (one Difference per node and phase at most)."""
        for index, (left, right) in enumerate(zip(a_records, b_records)):
            if left is None or right is None:
                continue
            mismatch = compare_records(left, right, self.tolerance)
            if mismatch is not None:
                return [Difference(NUMERICAL, phase, pass_index, scope, label.format(index), self.a.nodes[pair.a],
                                   self.b.nodes[pair.b], mismatch)]
        return []

    def scope(self, pair: Pair) -> str | None:
        """The node's module scope; a leaf's is its parameter's module."""
        side = 0 if pair.a is not None else 1
        node_id = pair.a if pair.a is not None else pair.b
        node = (self.a, self.b)[side].nodes[node_id]
        return self.modules[side].get(node_id) if node.kind == "leaf" else node.scope

    def _count(self, scope: str | None, pair: Pair) -> None:
        if scope is not None:
            counts = self.counts.setdefault(scope, [0, 0])
            counts[0] += pair.a is not None
            counts[1] += pair.b is not None


def _modules(walk: _Walk, differences: list[Difference]) -> list[ModuleDiff]:
    modules = {scope: ModuleDiff(scope, a_count, b_count) for scope, (a_count, b_count) in walk.counts.items()}
    for difference in differences:
        module = modules.get(difference.scope)
        if module is not None and module.first is None:
            module.first = difference
    return list(modules.values())


# ------------------------------------------------------------------------------------------ parameters
def compare_parameters(a: Trace, b: Trace, tolerance: Tolerance) -> list[ParameterDiff]:
    """Every parameter of either run, matched by name (ones no variable holds, in order): its gradient
    after the last pass and its value."""
    a_named, b_named = _named(a), _named(b)
    found = []
    for name, parameter in a_named.items():
        other = b_named.get(name)
        found.append(_parameter(name, a, parameter, b, other, tolerance) if other is not None else
                     ParameterDiff(name, parameter.module, "only in A", grad_norm_a=_norm(a.parameter_grad(parameter))))
    for name, parameter in b_named.items():
        if name not in a_named:
            found.append(ParameterDiff(name, parameter.module, "only in B",
                                       grad_norm_b=_norm(b.parameter_grad(parameter))))
    return found


def _named(trace: Trace) -> dict[str, Parameter]:
    """Parameters by name; those no variable holds by their order among such ("leaf #1" …)."""
    named: dict[str, Parameter] = {}
    unnamed = 0
    for parameter in trace.parameters:
        node = trace.nodes.get(parameter.node) if parameter.node is not None else None
        if node is not None and not is_named_leaf(node):
            unnamed += 1
            named[f"leaf #{unnamed} {list(parameter.value.shape)}"] = parameter
        else:
            named[parameter.name] = parameter
    return named


def _norm(record: TensorRecord | None) -> float | None:
    return None if record is None else record.stats.norm


def _parameter(name: str, a: Trace, left: Parameter, b: Trace, right: Parameter, tolerance: Tolerance) -> ParameterDiff:
    a_grad, b_grad = a.parameter_grad(left), b.parameter_grad(right)
    found = ParameterDiff(name, left.module or right.module, "equal", _norm(a_grad), _norm(b_grad))
    found.value = compare_records(left.value, right.value, tolerance)
    notes = []
    if a_grad is None or b_grad is None:
        if (a_grad is None) != (b_grad is None):
            notes.append(f"no gradient in {'A' if a_grad is None else 'B'}")
    else:
        found.grad = compare_records(a_grad, b_grad, tolerance)
        found.compared = "values" if a_grad.has_values and b_grad.has_values else "statistics"
        found.grad_rel_error = _grad_rel_error(a_grad, b_grad)
    if found.value is not None:
        notes.append("value differs")
    if found.grad is not None:
        notes.append("gradient differs")
    found.note = ", ".join(notes)
    if notes:
        found.status = "differs"
    return found


def _grad_rel_error(a: TensorRecord, b: TensorRecord) -> float:
    """‖a − b‖ / ‖a‖ from the values, or |‖a‖ − ‖b‖| / ‖a‖ when only statistics were kept."""
    if a.shape != b.shape:
        return math.inf
    if a.has_values and b.has_values:
        left, right = np.asarray(a.values, dtype=np.float64), np.asarray(b.values, dtype=np.float64)
        if not (np.isfinite(left).all() and np.isfinite(right).all()):
            return 0.0 if np.array_equal(left, right, equal_nan=True) else math.nan
        return relative_error(float(np.linalg.norm(left - right)), float(np.linalg.norm(left)))
    return relative_error(abs(a.stats.norm - b.stats.norm), a.stats.norm)
