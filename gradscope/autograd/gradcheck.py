"""gradcheck and gradgradcheck: PyTorch's API, algorithms and messages, plus gradscope's answers to
"which element, and which op".

Slow mode compares full Jacobians (central differences per input element against one backward
per output element, done twice to check reentrancy); fast mode compares vᵀJu for random unit u, v
and recomputes slow mode on failure. On failure gradscope also reports the worst element and
re-checks every node of the function's graph in isolation, naming the first node whose VJP is
wrong (a custom Function by its class name) with its scope and the user's source line.

gradscope also tells a wrong gradient from finite-difference noise: a mismatch is a failure only when
it exceeds an estimate of the noise (two step sizes compared, plus the rounding of the outputs and of
the perturbed inputs); otherwise the verdict is "inconclusive" (gradcheck still returns False or
raises, as PyTorch would). A non-finite analytical gradient is a failure, reported with the backward
node that made it; a non-finite numerical one (the function is not finite within eps) is inconclusive.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gradscope._format import format_number
from gradscope.autograd import engine, errors
from gradscope.autograd.localize import NodeCulprit, first_nonfinite_node, first_wrong_node
from gradscope.autograd.tensor import Tensor
from gradscope.autograd.writes import before_write

FAILED_NONDET_MSG = """\n
NOTE: If your op relies on non-deterministic operations i.e., it is listed here:
https://pytorch.org/docs/stable/generated/torch.use_deterministic_algorithms.html
this failure might be expected.

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck.
If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `nondet_tol=<tol>` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_nondet_tol=<tol>`.
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_nondet_tol=<tol>`
"""

FAST_FAIL_SLOW_OK_MSG = """
Fast gradcheck failed but element-wise differences are small. This means that the
test might've passed in slow_mode!

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck:

If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `fast_mode=False` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_fast_mode=False`
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_fast_mode=False`
""".strip()


PASSED, FAILED, INCONCLUSIVE = "passed", "failed", "inconclusive"
NOISE_MARGIN = 4.0  # a failure must exceed the tolerance by this many noise estimates
# NOTE: not 2: in binary floating point x + eps and x + 2·eps often round the same way (relative to the
# step), so D(eps) and D(2·eps) share their rounding error and agree while both are wrong
SECOND_STEP = math.sqrt(2)


@dataclass
class Mismatch:
    """The worst element of a failing Jacobian: where analytical and numerical disagree most."""

    output_index: int
    input_index: int
    input_element: tuple[int, ...]  # index into the input tensor
    output_element: tuple[int, ...]  # index into the output tensor
    numerical: float
    analytical: float
    noise: float | None = None  # the estimated finite-difference error of `numerical` there

    @property
    def abs_error(self) -> float:
        return abs(self.analytical - self.numerical)

    @property
    def rel_error(self) -> float:
        return self.abs_error / abs(self.numerical) if self.numerical else math.inf

    def __str__(self) -> str:
        noise = "" if self.noise is None else f", finite-difference noise {format_number(self.noise)}"
        return (f"worst element: d output {self.output_index}{list(self.output_element)} / d input "
                f"{self.input_index}{list(self.input_element)}: numerical {self.numerical:.6g}, analytical "
                f"{self.analytical:.6g} (abs error {format_number(self.abs_error)}, rel error "
                f"{format_number(self.rel_error)}{noise})")


@dataclass
class NonFinite:
    """A non-finite entry of a Jacobian. `side` "analytical": the backward made it (a failure), and
    `node` … `reason` name the first backward node that turned finite gradients non-finite, when found;
    "numerical": finite differences did (the function is not finite within eps: inconclusive)."""

    side: str
    output_index: int
    input_index: int
    input_element: tuple[int, ...]
    output_element: tuple[int, ...]
    numerical: float
    analytical: float
    count: int  # non-finite entries on that side of this Jacobian
    node: str | None = None
    op: str | None = None
    scope: str | None = None
    location: str | None = None
    reason: str | None = None
    input_name: str | None = None  # what the caller calls input `input_index` (a script's parameter name)

    def __str__(self) -> str:
        other = "numerical" if self.side == "analytical" else "analytical"
        value = self.analytical if self.side == "analytical" else self.numerical
        entries = f"{self.count} non-finite entr{'y' if self.count == 1 else 'ies'}"
        name = self.input_name or f"input {self.input_index}"
        text = (f"non-finite {self.side} gradient: d output {self.output_index}{list(self.output_element)} / d "
                f"{name}{list(self.input_element)} is {format_number(value)} ({other} "
                f"{format_number(self.numerical if self.side == 'analytical' else self.analytical)}; {entries})")
        if self.node is not None:
            where = f" at {self.location}" if self.location else ""
            scope = f" in {self.scope}" if self.scope else ""
            text += f"\nmade by {self.node} (op {self.op}){where}{scope}: {self.reason}"
        if self.side == "analytical":
            text += "\nrun `gradscope inspect` on the script to see where the non-finite values start"
        else:
            text += "\nthe function is not finite within eps of the point: finite differences can't judge it"
        return text


@dataclass
class GradcheckResult:
    """What gradcheck found; `passed` is what gradcheck returns. `verdict` tells a failure (a wrong or
    non-finite gradient) from an inconclusive check (every mismatch within finite-difference noise, or
    finite differences that are not finite), which gradcheck also reports as not passed."""

    passed: bool
    fast_mode: bool
    message: str = ""
    worst: Mismatch | None = None
    culprit: NodeCulprit | None = None
    evaluations: int = 0
    extra: dict = field(default_factory=dict)
    verdict: str = PASSED
    nonfinite: NonFinite | None = None
    suggested_eps: float | None = None  # when inconclusive: a step that finite differences can resolve

    def summary(self) -> str:
        if self.verdict == INCONCLUSIVE:
            lines = ["gradcheck inconclusive at this scale: every mismatch is within the finite-difference noise"
                     if self.nonfinite is None else "gradcheck inconclusive: finite differences are not finite"]
        else:
            lines = ["gradcheck passed" if self.passed else "gradcheck failed"]
        if self.nonfinite is not None:
            lines.append(str(self.nonfinite))
        elif self.worst is not None:
            lines.append(str(self.worst))
        if self.culprit is not None:
            lines.append(str(self.culprit))
        if self.suggested_eps is not None:
            lines.append(f"try eps near {format_number(self.suggested_eps)} (√(float64 eps) × the largest input "
                         "magnitude), or rescale the values")
        return "\n".join(lines)


class GradcheckError(RuntimeError):
    """gradcheck's failure (a RuntimeError, as in PyTorch); `.result` holds the structured findings."""

    result: GradcheckResult | None = None


# ------------------------------------------------------------------------------------------ helpers
def _as_tuple(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _check_inputs(inputs: tuple) -> list[int]:
    differentiable = []
    for index, value in enumerate(inputs):
        if isinstance(value, Tensor) and value.requires_grad:
            if value._data.dtype not in (np.float64, np.complex128):
                warnings.warn(
                    f"Input #{index} requires gradient and is not a double precision floating point or complex. "
                    "This check will likely fail if all the inputs are not of double precision floating point or "
                    "complex. ", UserWarning, stacklevel=4)
            if any(stride == 0 and size > 1 for stride, size in zip(value._data.strides, value._data.shape)):
                raise RuntimeError(
                    f"The {index}th input has a dimension with stride 0. gradcheck only supports inputs that are "
                    "non-overlapping to be able to compute the numerical gradients correctly. You should call "
                    ".contiguous on the input before passing it to gradcheck.")
            differentiable.append(index)
    if not differentiable:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")
    return differentiable


class _Evaluator:
    """Calls the function on the (in place perturbed) inputs and counts evaluations for progress."""

    def __init__(self, func, inputs, progress, total) -> None:
        self.func, self.inputs, self.progress, self.total, self.count = func, inputs, progress, total, 0

    def outputs(self) -> list[np.ndarray]:
        result = _as_tuple(self.func(*self.inputs))  # grad mode stays on: gradgradcheck's func needs it
        self.count += 1
        if self.progress is not None:
            self.progress(self.count, self.total)
        return [np.array(o._data, copy=True) if isinstance(o, Tensor) else None for o in result]


def _set(data: np.ndarray, index, value) -> None:
    """Perturb (or restore) an input in place, announced first: a recording may hold its memory."""
    before_write(data)
    data[index] = value


def _numerical_jacobian(evaluator: _Evaluator, inputs, index: int, eps: float) -> list[np.ndarray]:
    """Central differences per element of input `index`: one (N_in, N_out) matrix per output."""
    data = inputs[index]._data
    flat = data.reshape(-1) if data.flags.c_contiguous else None
    columns: list[list[np.ndarray]] = []
    for k in range(data.size):
        position = np.unravel_index(k, data.shape)
        original = data[position].copy()
        _set(data, position, original - eps)
        before = evaluator.outputs()
        _set(data, position, original + eps)
        after = evaluator.outputs()
        _set(data, position, original)
        columns.append([None if b is None else ((a - b) / (2 * eps)).reshape(-1) for a, b in zip(after, before)])
    del flat
    if not columns:  # an empty input: an empty Jacobian per output
        return [None if o is None else np.zeros((0, o.size), dtype=o.dtype) for o in evaluator.outputs()]
    return [np.stack([c[j] for c in columns]) if columns[0][j] is not None else None for j in range(len(columns[0]))]


def _analytical_rows(output: Tensor, inputs, differentiable, grad_output: np.ndarray) -> list[np.ndarray | None]:
    grads = engine.grad((output,), [inputs[i] for i in differentiable], (Tensor._make(grad_output),),
                        retain_graph=True, allow_unused=True)
    return [None if g is None else g._data for g in grads]


def _analytical_jacobian(output: Tensor, inputs, differentiable, nondet_tol: float) -> list[np.ndarray]:
    """One backward per output element, twice (reentrancy): (N_in, N_out) per differentiable input."""
    n_out = output._data.size
    runs = []
    for _ in range(2):
        columns = {i: np.zeros((inputs[i]._data.size, n_out), dtype=inputs[i]._data.dtype) for i in differentiable}
        for m in range(n_out):
            onehot = np.zeros(n_out, dtype=output._data.dtype)
            onehot[m] = 1
            rows = _analytical_rows(output, inputs, differentiable, onehot.reshape(output._data.shape))
            for i, row in zip(differentiable, rows):
                if row is not None:
                    if row.shape != inputs[i]._data.shape:
                        raise GradcheckError("Analytical gradient has incorrect size")
                    columns[i][:, m] = row.reshape(-1)
        runs.append(columns)
    for i in differentiable:
        if not _reentrant(runs[0][i], runs[1][i], nondet_tol):
            raise GradcheckError(NOT_REENTRANT_MSG.format(nondet_tol) + FAILED_NONDET_MSG)
    return [runs[0][i] for i in differentiable]


NOT_REENTRANT_MSG = ("Backward is not reentrant, i.e., running backward with same input and grad_output multiple "
                     "times gives different values, although analytical gradient matches numerical gradient."
                     "The tolerance for nondeterminism was {}.")


def _reentrant(first: np.ndarray, second: np.ndarray, nondet_tol: float) -> bool:
    """PyTorch's test: the largest difference is not above the tolerance. NOTE: a NaN difference is not
    above it, so a backward that gives NaN twice is judged by the Jacobian comparison, not called
    non-reentrant."""
    with np.errstate(invalid="ignore"):
        return not first.size or not np.abs(first - second).max() > nondet_tol


def _matrix_repr(matrix: np.ndarray) -> str:
    return repr(Tensor._make(np.ascontiguousarray(matrix)))


def _excess(analytical: np.ndarray, numerical: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """How far each element is beyond the tolerance (positive where allclose fails; NaN where either is NaN)."""
    with np.errstate(invalid="ignore"):
        return np.abs(analytical - numerical) - (atol + rtol * np.abs(numerical))


def _position(flat_index: int, matrix_shape, input_shape, output_shape) -> tuple[int, int, tuple, tuple]:
    row, column = (int(i) for i in np.unravel_index(flat_index, matrix_shape))
    return (row, column, tuple(int(i) for i in np.unravel_index(row, input_shape)),
            tuple(int(i) for i in np.unravel_index(column, output_shape)) if output_shape else ())


def _worst(analytical: np.ndarray, numerical: np.ndarray, score: np.ndarray, output_index: int, input_index: int,
           input_shape, output_shape, noise: np.ndarray | None = None) -> Mismatch:
    """The element with the largest score (NaN counts as the largest)."""
    score = np.where(np.isnan(score), np.inf, score)
    row, column, input_element, output_element = _position(int(np.argmax(score)), score.shape, input_shape,
                                                           output_shape)
    return Mismatch(output_index, input_index, input_element, output_element, float(numerical[row, column]),
                    float(analytical[row, column]), None if noise is None else float(noise[row, column]))


def _mismatch_message(numerical: np.ndarray, analytical: np.ndarray, output_index: int, input_index: int) -> str:
    return (f"Jacobian mismatch for output {output_index:d} with respect to input {input_index:d},\n"
            f"numerical:{_matrix_repr(numerical)}\nanalytical:{_matrix_repr(analytical)}\n")


def _differentiable_outputs(outputs) -> list[tuple[int, Tensor]]:
    return [(j, o) for j, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]


# ------------------------------------------------------------------------------------------ modes
def _check_no_differentiable_outputs(numerical: dict) -> None:
    """Outputs that don't require grad must not change with the inputs either (PyTorch's check)."""
    for per_output in numerical.values():
        for matrix in per_output:
            if matrix is not None and not np.allclose(matrix, 0, rtol=0, atol=0):
                raise GradcheckError("Numerical gradient for function expected to be zero")


class _Judge:
    """Tells a wrong gradient from finite-difference noise, for each (output, input) Jacobian that
    fails `allclose`.

    The noise of a central difference D(eps) is estimated per element as the largest of
    - |D(eps) - D(√2·eps)|: truncation error doubles with the step and round-off shrinks by √2,
      so their difference is of the size of D(eps)'s error, whichever dominates;
    - the rounding of the outputs, float64 eps · |f(x)| / eps;
    - the rounding of the perturbed input: x ± eps is stored rounded, so the step taken is not 2·eps
      (and is 0 when eps is below half an ulp of x, near 1e11 for eps = 1e-6): then D is off by
      |D| · |1 - 2·eps / step|, or unknown.
    An element fails when it is beyond the tolerance by more than NOISE_MARGIN noise estimates (a
    non-finite analytical value always fails); a Jacobian whose every mismatch is within the noise,
    or non-finite only on the numerical side, is inconclusive. The first real failure raises at
    once; otherwise `finish` raises the first inconclusive mismatch's message, as PyTorch would.
    """

    def __init__(self, inputs, outputs, evaluator: _Evaluator, eps: float, rtol: float, atol: float,
                 result: GradcheckResult) -> None:
        self.inputs, self.evaluator, self.eps, self.rtol, self.atol, self.result = (
            inputs, evaluator, eps, rtol, atol, result)
        self.base = [np.asarray(o._data) if isinstance(o, Tensor) else None for o in outputs]
        self.coarse: dict[int, list[np.ndarray]] = {}  # input index → numerical Jacobians at √2·eps
        self.message: str | None = None  # the first inconclusive mismatch's

    def mismatch(self, j: int, i: int, analytical: np.ndarray, numerical: np.ndarray, message: str) -> None:
        input_shape, output_shape = self.inputs[i]._data.shape, self.base[j].shape
        if not np.isfinite(analytical).all():
            self._nonfinite("analytical", j, i, analytical, numerical)
            self.result.verdict = FAILED
            raise GradcheckError(message)
        excess = _excess(analytical, numerical, self.rtol, self.atol)
        if not (excess > 0).any() and np.isfinite(numerical).all():  # fast mode failed, the elements agree
            self.message = self.message or message
            self.result.worst = self.result.worst or _worst(analytical, numerical, excess, j, i, input_shape,
                                                            output_shape)
            return
        noise = self.noise(j, i, numerical)
        with np.errstate(invalid="ignore"):
            real = excess - NOISE_MARGIN * noise
        if (real > 0).any():  # NaN noise (finite differences that aren't finite) never counts as real
            self.result.worst = _worst(analytical, numerical, real, j, i, input_shape, output_shape, noise)
            self.result.verdict = FAILED
            raise GradcheckError(message)
        if self.message is None:
            self.message = message
            self.result.worst = _worst(analytical, numerical, excess, j, i, input_shape, output_shape, noise)
            if not np.isfinite(numerical).all():
                self._nonfinite("numerical", j, i, analytical, numerical)

    def finish(self) -> None:
        if self.message is not None:
            self.result.verdict = INCONCLUSIVE
            largest = max(float(np.abs(x._data).max(initial=0.0)) for x in self.inputs if isinstance(x, Tensor))
            suggested = math.sqrt(np.finfo(np.float64).eps) * max(1.0, largest)
            if suggested > 4 * self.eps:
                self.result.suggested_eps = float(f"{suggested:.1g}")
            raise GradcheckError(self.message)

    def noise(self, j: int, i: int, numerical: np.ndarray) -> np.ndarray:
        """The estimated error of each element of `numerical` (N_in, N_out): see the class docstring."""
        if i not in self.coarse:
            self.evaluator.total += 2 * self.inputs[i]._data.size
            self.coarse[i] = _numerical_jacobian(self.evaluator, self.inputs, i, SECOND_STEP * self.eps)
        data = self.inputs[i]._data
        with np.errstate(all="ignore"):
            steps = (np.add(data, self.eps, dtype=data.dtype) - np.subtract(data, self.eps, dtype=data.dtype))
            steps = steps.reshape(-1, 1).astype(np.float64)
            stepping = np.where(steps == 0, np.inf, np.abs(numerical) * np.abs(1 - 2 * self.eps / steps))
            rounding = np.finfo(np.float64).eps * np.abs(self.base[j]).reshape(1, -1) / self.eps
            return np.maximum(np.maximum(np.abs(numerical - self.coarse[i][j]), rounding), stepping)

    def _nonfinite(self, side: str, j: int, i: int, analytical: np.ndarray, numerical: np.ndarray) -> None:
        bad = ~np.isfinite(analytical if side == "analytical" else numerical)
        row, column, input_element, output_element = _position(int(np.argmax(bad)), bad.shape,
                                                               self.inputs[i]._data.shape, self.base[j].shape)
        self.result.nonfinite = NonFinite(side, j, i, input_element, output_element, float(numerical[row, column]),
                                          float(analytical[row, column]), int(bad.sum()))


def _slow(func, inputs, differentiable, outputs, eps, rtol, atol, nondet_tol, evaluator, result) -> None:
    numerical = {i: _numerical_jacobian(evaluator, inputs, i, eps) for i in differentiable}
    if not _differentiable_outputs(outputs):
        _check_no_differentiable_outputs(numerical)
    judge = _Judge(inputs, outputs, evaluator, eps, rtol, atol, result)
    for j, output in _differentiable_outputs(outputs):
        analytical = _analytical_jacobian(output, inputs, differentiable, nondet_tol)
        for position, i in enumerate(differentiable):
            a, n = analytical[position], numerical[i][j]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                judge.mismatch(j, i, a, n, _mismatch_message(n, a, j, i))
    judge.finish()


def _unit_vector(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    vector = rng.random(int(np.prod(shape))).astype(dtype)
    norm = np.linalg.norm(vector)
    return (vector / norm if norm else vector).reshape(shape)


def _fast(func, inputs, differentiable, outputs, eps, rtol, atol, nondet_tol, evaluator, result) -> None:
    rng = np.random.default_rng(0)  # our own generator: the user's RNG state is left alone
    u = {i: _unit_vector(rng, inputs[i]._data.shape, np.float64) for i in differentiable}
    diff_outputs = _differentiable_outputs(outputs)
    v = {j: _unit_vector(rng, o._data.shape, np.float64) for j, o in diff_outputs}
    numerical: dict[tuple[int, int], float] = {}
    judge = _Judge(inputs, outputs, evaluator, eps, rtol, atol, result)
    if not diff_outputs:
        evaluator.total += 2 * sum(inputs[i]._data.size for i in differentiable)
        _check_no_differentiable_outputs({i: _numerical_jacobian(evaluator, inputs, i, eps) for i in differentiable})
    for i in differentiable:  # J u by one directional central difference per input
        data = inputs[i]._data
        original = data.copy()
        _set(data, ..., original - eps * u[i])
        before = evaluator.outputs()
        _set(data, ..., original + eps * u[i])
        after = evaluator.outputs()
        _set(data, ..., original)
        for j, _ in diff_outputs:
            jvp = (after[j] - before[j]) / (2 * eps)
            numerical[(i, j)] = float(np.sum(jvp.reshape(-1) * v[j].reshape(-1)))
    for j, output in diff_outputs:  # vᵀJ by one backward per output, twice for reentrancy
        runs = [_analytical_rows(output, inputs, differentiable, v[j].astype(output._data.dtype)) for _ in range(2)]
        for position, i in enumerate(differentiable):
            first, second = runs[0][position], runs[1][position]
            if first is not None and not _reentrant(first, second, nondet_tol):
                raise GradcheckError(NOT_REENTRANT_MSG.format(nondet_tol) + FAILED_NONDET_MSG)
            analytical = 0.0 if first is None else float(np.sum(first.reshape(-1) * u[i].reshape(-1)))
            n = numerical[(i, j)]
            adjusted_atol = atol * float(u[i].sum()) * float(v[j].sum())
            if not abs(analytical - n) <= adjusted_atol + rtol * abs(n):
                message = (f"Jacobian mismatch for output {j:d} with respect to input {i:d},\n"
                           f"numerical:{n!r}\nanalytical:{analytical!r}\n")
                evaluator.total += 2 * inputs[i]._data.size  # the slow-mode recompute below
                slow_n = _numerical_jacobian(evaluator, inputs, i, eps)[j]
                slow_a = _analytical_jacobian(output, inputs, differentiable, nondet_tol)[position]
                max_diff = float(np.abs(slow_n - slow_a).max()) if slow_n.size else 0.0
                message += (
                    "\nThe above quantities relating the numerical and analytical jacobians are computed \n"
                    "in fast mode. See: https://github.com/pytorch/pytorch/issues/53876 for more background \n"
                    "about fast mode. Below, we recompute numerical and analytical jacobians in slow mode:\n\n"
                    f"Numerical:\n {_matrix_repr(slow_n)}\nAnalytical:\n{_matrix_repr(slow_a)}\n\n"
                    f"The max per-element difference (slow mode) is: {max_diff}.\n")
                if np.allclose(slow_a, slow_n, rtol=rtol, atol=atol):
                    message += FAST_FAIL_SLOW_OK_MSG  # no element is wrong: the judge finds it inconclusive
                judge.mismatch(j, i, slow_a, slow_n, message)
    judge.finish()


def _check_multiplied_by_grad_output(outputs, inputs, differentiable) -> None:
    diff_outputs = [o for _, o in _differentiable_outputs(outputs)]
    if not diff_outputs:
        return
    grads = engine.grad(diff_outputs, [inputs[i] for i in differentiable],
                        [Tensor._make(np.zeros_like(o._data)) for o in diff_outputs], retain_graph=True,
                        allow_unused=True)
    for g, i in zip(grads, differentiable):
        if g is None:
            continue
        if not (g._data == 0).all():
            raise GradcheckError("backward not multiplied by grad_output")
        if g._data.dtype != inputs[i]._data.dtype:
            raise GradcheckError("grad is incorrect type")


# ------------------------------------------------------------------------------------------ public API
def gradcheck(func: Callable, inputs, *, eps: float = 1e-06, atol: float = 1e-05, rtol: float = 0.001,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False, masked: bool | None = None,
              progress: Callable[[int, int], None] | None = None, localize: bool = True) -> bool:
    """Check the analytical gradients of `func` at `inputs` against finite differences (PyTorch's gradcheck).

    gradscope extensions: `progress(done, total)` is called after each function evaluation; on failure
    the raised GradcheckError's `.result` names the worst element and (with `localize`) the first node
    of the graph whose backward is wrong.

    >>> x = gradscope.randn(3, dtype=gradscope.float64, requires_grad=True)
    >>> gradcheck(gradscope.sin, (x,))
    True
    """
    result = check(func, inputs, eps=eps, atol=atol, rtol=rtol, nondet_tol=nondet_tol, fast_mode=fast_mode,
                   check_backward_ad=check_backward_ad, progress=progress, localize=localize)
    if not result.passed:
        if raise_exception:
            error = GradcheckError(result.message)
            error.result = result
            errors.add_note(error, result.summary())
            raise error
        return False
    return True


def check(func: Callable, inputs, *, eps: float = 1e-06, atol: float = 1e-05, rtol: float = 0.001,
          nondet_tol: float = 0.0, fast_mode: bool = False, check_backward_ad: bool = True,
          progress: Callable[[int, int], None] | None = None, localize: bool = True) -> GradcheckResult:
    """gradcheck returning a GradcheckResult instead of raising (input errors still raise)."""
    inputs = _as_tuple(inputs)
    differentiable = _check_inputs(inputs)
    outputs = _as_tuple(func(*inputs))
    total = 2 * (len(differentiable) if fast_mode else sum(inputs[i]._data.size for i in differentiable))
    evaluator = _Evaluator(func, inputs, progress, total)
    result = GradcheckResult(passed=True, fast_mode=fast_mode)
    if not check_backward_ad:
        return result
    try:
        (_fast if fast_mode else _slow)(func, inputs, differentiable, outputs, eps, rtol, atol, nondet_tol,
                                        evaluator, result)
        _check_multiplied_by_grad_output(outputs, inputs, differentiable)
    except GradcheckError as error:
        result.passed = False
        result.message = str(error)
        if result.verdict == PASSED:  # a failure found outside the Jacobian comparison (reentrancy, types, …)
            result.verdict = FAILED
        if localize:
            _localize(func, inputs, differentiable, result, eps, atol, rtol)
    result.evaluations = evaluator.count
    return result


def _localize(func, inputs, differentiable, result: GradcheckResult, eps: float, atol: float, rtol: float) -> None:
    """Name the node at fault: the one whose backward made a non-finite gradient, or else, for a real
    mismatch, the first whose backward disagrees with finite differences on its own inputs. An
    inconclusive check blames no node."""
    nonfinite = result.nonfinite
    if nonfinite is not None and nonfinite.side == "analytical":
        origin = first_nonfinite_node(func, inputs, [inputs[i] for i in differentiable], nonfinite.output_index,
                                      nonfinite.output_element)
        if origin is not None:
            nonfinite.node, nonfinite.op, nonfinite.scope, nonfinite.location, nonfinite.reason = origin
    elif result.verdict == FAILED and result.worst is not None:
        result.culprit = first_wrong_node(func, inputs, eps=eps, atol=atol, rtol=rtol)


def gradgradcheck(func: Callable, inputs, grad_outputs=None, *, eps: float = 1e-06, atol: float = 1e-05,
                  rtol: float = 0.001, gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True,
                  nondet_tol: float = 0.0, check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False, masked: bool = False,
                  progress: Callable[[int, int], None] | None = None) -> bool:
    """Check second-order gradients: gradcheck of (inputs, grad_outputs) → grad(func(inputs), inputs, grad_outputs)."""
    inputs = _as_tuple(inputs)
    outputs = _as_tuple(func(*inputs))
    diff_outputs = [o for o in outputs if isinstance(o, Tensor) and o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(_requires_grad(Tensor._make(rng.uniform(-1, 1, o._data.shape).astype(o._data.dtype)))
                             for o in diff_outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n_inputs = len(inputs)
    differentiable = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_derivative(*values):
        outs = [o for o in _as_tuple(func(*values[:n_inputs])) if isinstance(o, Tensor) and o.requires_grad]
        grads = engine.grad(outs, [values[i] for i in differentiable], values[n_inputs:], create_graph=True,
                            allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol, fast_mode=fast_mode, progress=progress,
                     localize=False)


def _requires_grad(t: Tensor) -> Tensor:
    t._requires_grad = True
    return t
