"""What `watch` measures each step, and what it found wrong: one `StepRecord` per backward pass.

A step's record holds the loss, and per parameter the gradient norm, how many gradient entries are
non-finite, the update/weight ratio of the optimiser step that followed and how many entries of the
value are non-finite after it. `Finding`s are the anomalies: where a non-finite value was born (or
seen), or which opt-in rule fired.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from gradscope._quiet import loud, quiet

PHASES = ("forward", "backward", "update")


@dataclass
class ParameterStep:
    """One parameter in one step (None: not measured, e.g. no gradient or no optimiser step)."""

    grad_norm: float | None = None
    grad_nonfinite: int = 0
    update_ratio: float | None = None
    value_nonfinite: int = 0


@dataclass
class Finding:
    """An anomaly of one step. `role` is "culprit" when finite values went in and non-finite came
    out (the origin), "propagator" when non-finite values were only passed on."""

    step: int
    phase: str  # forward, backward or update
    rule: str  # nonfinite, grad-spike, loss-spike, grad-norm
    message: str
    role: str | None = None
    op: str | None = None
    node: str | None = None
    file: str | None = None
    line: int | None = None
    scope: str | None = None
    parameter: str | None = None

    def to_json(self) -> dict:
        return {"step": self.step, "phase": self.phase, "rule": self.rule, "role": self.role, "op": self.op,
                "node": self.node, "file": self.file, "line": self.line, "scope": self.scope,
                "parameter": self.parameter, "message": self.message}

    @classmethod
    def from_json(cls, data: dict) -> Finding:
        return cls(**{name: data.get(name) for name in ("step", "phase", "rule", "message", "role", "op", "node",
                                                        "file", "line", "scope", "parameter")})

    @property
    def where(self) -> str:
        """'model.py:57' (or '')."""
        return f"{self.file}:{self.line}" if self.file else ""


@dataclass
class StepRecord:
    """Everything measured in one step (= one backward pass, numbered from 0)."""

    step: int
    loss: float | None = None
    optimizer_steps: int = 0  # optimiser steps taken by the end of this step
    parameters: dict[str, ParameterStep] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def to_json(self) -> dict:
        """One line of history.jsonl; non-finite numbers as the strings "nan", "inf", "-inf"."""
        params = self.parameters.items()
        return {
            "step": self.step, "loss": json_number(self.loss), "optimizer_steps": self.optimizer_steps,
            "grad_norm": {name: json_number(p.grad_norm) for name, p in params if p.grad_norm is not None},
            "grad_nonfinite": {name: p.grad_nonfinite for name, p in params if p.grad_nonfinite},
            "update_ratio": {name: json_number(p.update_ratio) for name, p in params if p.update_ratio is not None},
            "value_nonfinite": {name: p.value_nonfinite for name, p in params if p.value_nonfinite},
            "anomalies": [finding.to_json() for finding in self.findings],
        }

    @classmethod
    def from_json(cls, data: dict) -> StepRecord:
        record = cls(int(data["step"]), read_number(data.get("loss")), int(data.get("optimizer_steps", 0)))
        norms, ratios = data.get("grad_norm", {}), data.get("update_ratio", {})
        bad_grads, bad_values = data.get("grad_nonfinite", {}), data.get("value_nonfinite", {})
        for name in dict.fromkeys([*norms, *ratios, *bad_values]):  # in the order they were written
            record.parameters[name] = ParameterStep(read_number(norms.get(name)), int(bad_grads.get(name, 0)),
                                                    read_number(ratios.get(name)), int(bad_values.get(name, 0)))
        record.findings = [Finding.from_json(item) for item in data.get("anomalies", [])]
        return record


def json_number(value: float | None):
    """JSON has no NaN or Infinity: those become strings."""
    if value is None or math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def read_number(value) -> float | None:
    if value is None:
        return None
    return float(value)


def norm(array: np.ndarray) -> float:
    """The L2 norm; inf when it overflows (no warning: overflow is what watch looks for)."""
    token = quiet()
    try:
        # NOTE: order="K" flattens in memory order: no copy of a transposed gradient (a weight's usually is)
        return float(np.linalg.norm(array.ravel(order="K")))
    finally:
        loud(token)


def norm_and_nonfinite(array: np.ndarray) -> tuple[float, int]:
    """The L2 norm (NaN or inf when such values are in it) and the count of non-finite entries."""
    if array.dtype.kind not in "fc":
        return norm(array.astype(np.float64)), 0
    measured = norm(array)
    if math.isfinite(measured):
        return measured, 0
    bad = int(array.size - np.count_nonzero(np.isfinite(array)))
    if not bad:  # NOTE: finite float32 values beyond ~1e19 overflow when squared: measure in float64
        return norm(array.astype(np.float64)), 0
    return measured, bad
