"""What `compare_traces` found: the differences in execution order, per parameter, per module."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gradscope.compare.tolerance import Mismatch, Tolerance, json_number
from gradscope.trace.model import NodeRecord

STRUCTURAL, NUMERICAL = "structural", "numerical"


def describe_node(node: NodeRecord) -> str:
    """'tanh (TanhBackward0) at model.py:20', 'model.fc1.weight'."""
    if node.kind == "leaf":
        return node.label
    where = f" at {node.source}" if node.source else ""
    return f"{node.op} ({node.name}){where}"


def node_json(node: NodeRecord | None) -> dict | None:
    if node is None:
        return None
    source = node.source
    return {"id": node.id, "name": node.name, "op": node.op, "scope": node.scope, "leaf_name": node.leaf_name,
            "file": source.file if source else None, "line": source.line if source else None}


@dataclass
class Difference:
    """One place where the runs differ.

    `kind` is "structural" (an op in one run only, `what` = "only in A"/"only in B", or a different
    op at the same place, "different op") or "numerical" (`what` names the tensor: "output 0",
    "value", "gradient to input 1", ".grad", "gradient given to backward"). `phase` is "forward" or
    "backward"; `pass_index` the backward pass the node belongs to (None: a node no pass ran).
    """

    kind: str
    phase: str
    pass_index: int | None
    scope: str | None
    what: str
    a: NodeRecord | None = None
    b: NodeRecord | None = None
    mismatch: Mismatch | None = None

    @property
    def where(self) -> str:
        """'pass 0, forward, in model.fc1'"""
        parts = [f"pass {self.pass_index}" if self.pass_index is not None else "outside any backward pass",
                 self.phase]
        if self.scope:
            parts.append(f"in {self.scope}")
        return ", ".join(parts)

    @property
    def node(self) -> str:
        """The node(s), as people read them."""
        if self.what == "different op":
            return f"A: {describe_node(self.a)}; B: {describe_node(self.b)}"
        if self.a is None and self.b is None:
            return ""
        if self.a is None or self.b is None:
            return describe_node(self.a or self.b)
        text = describe_node(self.a)
        if self.b.source and self.a.source and str(self.b.source) != str(self.a.source):
            text += f" (B at {self.b.source})"
        return text

    def describe(self) -> str:
        if self.kind == STRUCTURAL:
            if self.what == "different op":
                return f"{self.where}: a different op at the same place: {self.node}"
            if self.a is None and self.b is None:
                return f"{self.where}: {self.what}"
            return f"{self.where}: {self.node} is {self.what}"
        return f"{self.where}: {self.what} of {self.node} differs: {self.mismatch.describe()}"

    def to_json(self) -> dict:
        return {"kind": self.kind, "phase": self.phase, "pass": self.pass_index, "scope": self.scope,
                "what": self.what, "a": node_json(self.a), "b": node_json(self.b),
                "mismatch": None if self.mismatch is None else self.mismatch.to_json(), "message": self.describe()}


@dataclass
class ParameterDiff:
    """One parameter, matched by name: its gradient (after the last pass) and value in each run."""

    name: str
    module: str | None
    status: str  # "equal", "differs", "only in A", "only in B"
    grad_norm_a: float | None = None
    grad_norm_b: float | None = None
    grad_rel_error: float | None = None  # ‖grad A − grad B‖ / ‖grad A‖ (from the norms when values weren't kept)
    grad: Mismatch | None = None
    value: Mismatch | None = None
    compared: str | None = None  # "values" or "statistics"
    note: str = ""  # "no gradient in B" …

    def to_json(self) -> dict:
        return {"name": self.name, "module": self.module, "status": self.status,
                "grad_norm_a": json_number(self.grad_norm_a), "grad_norm_b": json_number(self.grad_norm_b),
                "grad_rel_error": json_number(self.grad_rel_error), "compared": self.compared, "note": self.note,
                "grad_mismatch": None if self.grad is None else self.grad.to_json(),
                "value_mismatch": None if self.value is None else self.value.to_json()}


@dataclass
class ModuleDiff:
    """One module scope: how many nodes each run made in it, and its first difference."""

    scope: str
    nodes_a: int
    nodes_b: int
    first: Difference | None = None

    def to_json(self) -> dict:
        return {"scope": self.scope, "nodes_a": self.nodes_a, "nodes_b": self.nodes_b,
                "first": None if self.first is None else self.first.to_json()}


@dataclass
class DiffReport:
    """Everything `compare_traces(a, b)` found; `differences` in execution order."""

    a_label: str
    b_label: str
    tolerance: Tolerance
    parameters_only: bool = False
    passes: tuple[int, int] = (0, 0)
    nodes: tuple[int, int] = (0, 0)
    differences: list[Difference] = field(default_factory=list)
    parameters: list[ParameterDiff] = field(default_factory=list)
    modules: list[ModuleDiff] = field(default_factory=list)
    partners: dict[int, int] = field(default_factory=dict)  # node of A → its counterpart in B

    @property
    def first(self) -> Difference | None:
        return self.differences[0] if self.differences else None

    @property
    def equal(self) -> bool:
        return not self.differences and all(p.status == "equal" for p in self.parameters)

    @property
    def structural(self) -> list[Difference]:
        return [d for d in self.differences if d.kind == STRUCTURAL]

    @property
    def numerical(self) -> list[Difference]:
        return [d for d in self.differences if d.kind == NUMERICAL]

    def summary(self) -> str:
        """One line: 'equal within tolerance' or the first divergence."""
        if self.equal:
            return "equal within tolerance"
        if self.first is not None:
            return "first divergence: " + self.first.describe()
        differing = next(p for p in self.parameters if p.status != "equal")
        return f"parameter {differing.name}: {differing.status}"

    def to_json(self) -> dict:
        tolerance = self.tolerance
        return {
            "a": self.a_label, "b": self.b_label, "equal": self.equal,
            "tolerance": {"rtol": tolerance.rtol, "atol": tolerance.atol, "described": tolerance.describe()},
            "parameters_only": self.parameters_only, "passes": {"a": self.passes[0], "b": self.passes[1]},
            "nodes": {"a": self.nodes[0], "b": self.nodes[1]},
            "first": None if self.first is None else self.first.to_json(),
            "summary": {"structural": len(self.structural), "numerical": len(self.numerical),
                        "parameters_differing": sum(p.status != "equal" for p in self.parameters)},
            "differences": [d.to_json() for d in self.differences],
            "parameters": [p.to_json() for p in self.parameters],
            "modules": [m.to_json() for m in self.modules],
        }


def relative_error(difference_norm: float, reference_norm: float) -> float:
    if difference_norm == 0:
        return 0.0
    return difference_norm / reference_norm if reference_norm else math.inf
