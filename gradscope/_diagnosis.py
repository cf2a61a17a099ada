"""Why a value went non-finite: the rules shared by anomaly mode and the recorder (`gradscope inspect`).

A *culprit* turns finite inputs into non-finite outputs; a *propagator* only passes non-finite
values on. The reasons name the common traps: log or sqrt of 0 or of negatives, division by 0,
exp overflow, an infinite derivative where a saved value is 0.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gradscope._quiet import loud, quiet
from gradscope._stats import TensorStats, compute_stats


def describe(stats: TensorStats) -> str:
    """'2 nan, 1 +inf' (or 'finite')."""
    parts = [f"{count} {label}" for count, label in ((stats.nan, "nan"), (stats.posinf, "+inf"), (stats.neginf, "-inf"))
             if count]
    return ", ".join(parts) or "finite"


def all_finite(stats: Iterable[TensorStats | None]) -> bool:
    return all(s is None or s.finite for s in stats)


def role(incoming: Iterable[TensorStats | None], outgoing: Iterable[TensorStats | None]) -> str | None:
    """'culprit' when finite values went in and non-finite came out, 'propagator' when non-finite
    values went in and came out, None when the outputs are finite."""
    if all_finite(outgoing):
        return None
    return "culprit" if all_finite(incoming) else "propagator"


def why_forward(op: str, inputs: list[TensorStats | None]) -> str:
    """A plain reason for the common ways an op's forward makes a non-finite value from finite inputs."""
    first = inputs[0] if inputs else None
    if first is not None and first.numel:
        if op in ("log", "log2", "log10", "log1p") and first.min <= (-1 if op == "log1p" else 0):
            return f"{op} of a value <= {-1 if op == 'log1p' else 0} (input min {first.min:g})"
        if op in ("sqrt", "rsqrt") and first.min < 0:
            return f"{op} of a negative value (input min {first.min:g})"
        if op == "exp":
            return f"exp overflowed (input max {first.max:g})"
        divisor = inputs[1] if op == "div" and len(inputs) > 1 else first if op in ("reciprocal", "rsqrt") else None
        if divisor is not None and divisor.zero_fraction > 0:
            return f"division by zero ({divisor.zero_fraction:.0%} of the divisor is 0)"
        if op.startswith("pow"):
            return f"pow of an input in [{first.min:g}, {first.max:g}]"
    return "finite inputs, non-finite output"


# ops whose derivative is infinite where this saved value is 0 (log x at x = 0, x / y at y = 0 …)
INFINITE_DERIVATIVE_AT_ZERO = {
    "log": "self", "sqrt": "result", "rsqrt": "result", "div": "other", "reciprocal": "result",
    "pow": "self", "pow_tensor": "self", "linalg_vector_norm": "result",
}


def why_backward(op: str, saved: dict[str, TensorStats]) -> str:
    """A plain reason for a node that returned a non-finite gradient from a finite one: a saved value
    that already was non-finite (the forward pass made it), else a zero where the op's derivative is
    infinite."""
    for name, stats in saved.items():
        if not stats.finite:
            return f"its saved {name} is already non-finite ({describe(stats)}): look at the forward pass"
    name = INFINITE_DERIVATIVE_AT_ZERO.get(op)
    stats = saved.get(name) if name else None
    if stats is not None and stats.zero_fraction > 0:
        return f"its saved {name} holds zeros ({stats.zero_fraction:.0%}), where the derivative is infinite"
    return "finite incoming gradient, non-finite outgoing gradient"


def _arrays(values):
    """The arrays among an op's inputs or outputs: tensors, numbers, lists of tensors (cat, stack)."""
    for value in values:
        data = getattr(value, "_data", None)
        if data is not None:
            yield data
        elif isinstance(value, (list, tuple)):
            yield from _arrays(value)
        elif isinstance(value, (int, float, complex, np.ndarray, np.generic)):
            yield np.asarray(value)


def _finite(array: np.ndarray) -> bool:
    if array.dtype.kind not in "fc":
        return True
    # NOTE: a finite sum means no nan and no inf, in one pass without a temporary; a sum that
    # overflows from finite values is the rare case that needs the exact test
    return bool(np.isfinite(array.sum()) or np.isfinite(array).all())


def forward_origin(op: str, inputs, outputs) -> str | None:
    """Why an op that ran forward is a culprit ('log produced 1 -inf: log of a value <= 0 (input min 0)'),
    or None when its outputs are finite or a non-finite value already came in (it only passed it on).
    `inputs` and `outputs` are the op's tensors, numbers, or lists of tensors. Costs one sum per
    floating output when the outputs are finite."""
    token = quiet()
    try:
        outputs = list(_arrays(outputs))
        if all(_finite(array) for array in outputs):
            return None
        inputs = list(_arrays(inputs))
        if not all(_finite(array) for array in inputs):
            return None
        bad = next(compute_stats(array) for array in outputs if not _finite(array))
        return f"{op} produced {describe(bad)}: {why_forward(op, [compute_stats(a) for a in inputs])}"
    finally:
        loud(token)
