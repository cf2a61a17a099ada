"""How close two recorded tensors must be to count as equal, and how far apart they are.

Each comparison uses the tolerance of the lower precision of the two tensors' dtypes unless the user
gave one (PyTorch's `torch.testing.assert_close` defaults): a float64 run compared with a float32 run
of the same model is held to float32's tolerance, not to float64's, which it could never meet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gradscope._quiet import loud, quiet
from gradscope._stats import TensorStats
from gradscope.trace.model import TensorRecord

# rtol, atol by dtype, as torch.testing.assert_close; integers and booleans must match exactly
DEFAULT_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
                      "float64": (1e-7, 1e-7)}
_PRECISION = ("float16", "bfloat16", "float32", "float64")  # lowest first
STATISTICS = ("norm", "mean", "min", "max")  # compared when the values were not kept


@dataclass(frozen=True)
class Tolerance:
    """`rtol` and `atol` given by the user (None: the lower precision's default, per comparison)."""

    rtol: float | None = None
    atol: float | None = None

    def for_dtypes(self, a: str, b: str) -> tuple[float, float]:
        """(rtol, atol) for comparing a tensor of dtype `a` with one of dtype `b`."""
        floats = [dtype for dtype in (a, b) if dtype in DEFAULT_TOLERANCES]
        if floats:
            rtol, atol = DEFAULT_TOLERANCES[min(floats, key=_PRECISION.index)]
        else:
            rtol, atol = 0.0, 0.0
        return (rtol if self.rtol is None else self.rtol), (atol if self.atol is None else self.atol)

    def describe(self) -> str:
        if self.rtol is None and self.atol is None:
            return "default tolerances: the lower precision's"
        rtol = "default" if self.rtol is None else f"{self.rtol:g}"
        atol = "default" if self.atol is None else f"{self.atol:g}"
        return f"rtol {rtol}, atol {atol}"


@dataclass(frozen=True)
class Mismatch:
    """How two tensors differ beyond tolerance.

    `compared` says what was available: "values" (the worst element is `where`, holding `a_value` and
    `b_value`), "statistics" (the values of one side were not kept: `detail` names the figure that
    differs most) or "shape".
    """

    compared: str
    max_abs: float
    max_rel: float
    rtol: float
    atol: float
    detail: str = ""
    where: tuple[int, ...] | None = None
    a_value: float | None = None
    b_value: float | None = None

    def describe(self) -> str:
        if self.compared == "shape":
            return self.detail
        text = f"max abs error {_number(self.max_abs)}"
        if self.where is not None:
            text += f" at {list(self.where)} (A {_number(self.a_value)}, B {_number(self.b_value)})"
        text += f", max rel error {_number(self.max_rel)}"
        if self.compared == "statistics":
            text += f"; statistics only, the values were not kept ({self.detail})"
        return text + f"; rtol {self.rtol:g}, atol {self.atol:g}"

    def to_json(self) -> dict:
        return {"compared": self.compared, "max_abs": json_number(self.max_abs), "max_rel": json_number(self.max_rel),
                "where": None if self.where is None else list(self.where), "a": json_number(self.a_value),
                "b": json_number(self.b_value), "rtol": self.rtol, "atol": self.atol, "detail": self.detail}


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def json_number(value: float | None):
    """JSON has no nan/inf: write them as strings, as trace files do."""
    if value is None or math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def compare_records(a: TensorRecord, b: TensorRecord, tolerance: Tolerance) -> Mismatch | None:
    """None when `a` and `b` are equal within tolerance (NaNs and infinities in the same places count as
    equal); else how they differ. Values are compared when both were kept, statistics otherwise."""
    both_kept = a.has_values and b.has_values
    if both_kept:  # NOTE: the statistics of kept values are computed on demand: don't ask for them
        rtol, atol = tolerance.for_dtypes(a.values.dtype.name, b.values.dtype.name)
    else:
        rtol, atol = tolerance.for_dtypes(a.stats.dtype, b.stats.dtype)
    if a.shape != b.shape:
        return Mismatch("shape", math.inf, math.inf, rtol, atol, f"shape {list(a.shape)} in A, {list(b.shape)} in B")
    if both_kept:
        return _compare_values(a.values, b.values, rtol, atol)
    return _compare_stats(a.stats, b.stats, rtol, atol)


def _compare_values(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> Mismatch | None:
    if np.array_equal(a, b):  # the common case of runs that agree, at a fraction of the cost
        return None
    token = quiet()
    try:
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        both_nan = np.isnan(a) & np.isnan(b)
        same_inf = np.isinf(a) & (a == b)
        error = np.where(both_nan | same_inf, 0.0, np.abs(a - b))
        error = np.where(np.isnan(error), np.inf, error)  # a nan on one side only is as far off as can be
        allowed = atol + rtol * np.abs(a)
        bad = error > np.where(np.isfinite(allowed), allowed, 0.0)
        if not bad.any():
            return None
        relative = np.where(error == 0, 0.0, error / np.abs(a))
        relative = np.where(np.isnan(relative), np.inf, relative)  # inf error on an inf value
        worst = np.unravel_index(int(np.argmax(np.where(bad, error, -1.0))), a.shape) if a.ndim else ()
        return Mismatch("values", float(error.max()), float(relative.max()), rtol, atol,
                        where=tuple(int(i) for i in worst), a_value=float(a[worst]), b_value=float(b[worst]))
    finally:
        loud(token)


def _compare_stats(a: TensorStats, b: TensorStats, rtol: float, atol: float) -> Mismatch | None:
    counts = [(label, getattr(a, label), getattr(b, label)) for label in ("nan", "posinf", "neginf")
              if getattr(a, label) != getattr(b, label)]
    if counts:
        label, left, right = counts[0]
        return Mismatch("statistics", math.inf, math.inf, rtol, atol, f"{left} {label} in A, {right} in B")
    worst = None
    for label in STATISTICS:
        left, right = getattr(a, label), getattr(b, label)
        if math.isnan(left) and math.isnan(right):
            continue
        error = abs(left - right)
        error = math.inf if math.isnan(error) else error
        relative = error / abs(left) if left else (0.0 if error == 0 else math.inf)
        if error > atol + rtol * abs(left) and (worst is None or error > worst[1]):
            worst = (label, error, relative, left, right)
    if worst is None:
        return None
    label, error, relative, left, right = worst
    return Mismatch("statistics", error, relative, rtol, atol, f"{label} {left:.6g} in A, {right:.6g} in B")
