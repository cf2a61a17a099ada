"""gradcheck and gradgradcheck: PyTorch's API, algorithms and messages, plus gradscope's answers to
"which element, and which op".

Slow mode compares full Jacobians (central differences per input element against one backward
per output element, done twice to check reentrancy); fast mode compares vᵀJu for random unit u, v
and recomputes slow mode on failure. On failure gradscope also reports the worst element and
re-checks every node of the function's graph in isolation, naming the first node whose VJP is
wrong (a custom Function by its class name) with its scope and the user's source line.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gradscope.autograd import engine, errors
from gradscope.autograd.localize import NodeCulprit, first_wrong_node
from gradscope.autograd.tensor import Tensor

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


@dataclass
class Mismatch:
    """The worst element of a failing Jacobian: where analytical and numerical disagree most."""

    output_index: int
    input_index: int
    input_element: tuple[int, ...]  # index into the input tensor
    output_element: tuple[int, ...]  # index into the output tensor
    numerical: float
    analytical: float

    @property
    def abs_error(self) -> float:
        return abs(self.analytical - self.numerical)

    @property
    def rel_error(self) -> float:
        return self.abs_error / abs(self.numerical) if self.numerical else math.inf

    def __str__(self) -> str:
        return (f"worst element: d output {self.output_index}{list(self.output_element)} / d input "
                f"{self.input_index}{list(self.input_element)}: numerical {self.numerical:.6g}, analytical "
                f"{self.analytical:.6g} (abs error {self.abs_error:.3g}, rel error {self.rel_error:.3g})")


@dataclass
class GradcheckResult:
    """What gradcheck found; `passed` is what gradcheck returns."""

    passed: bool
    fast_mode: bool
    message: str = ""
    worst: Mismatch | None = None
    culprit: NodeCulprit | None = None
    evaluations: int = 0
    extra: dict = field(default_factory=dict)

    def summary(self) -> str:
        lines = ["gradcheck passed" if self.passed else "gradcheck failed"]
        if self.worst is not None:
            lines.append(str(self.worst))
        if self.culprit is not None:
            lines.append(str(self.culprit))
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


def _numerical_jacobian(evaluator: _Evaluator, inputs, index: int, eps: float) -> list[np.ndarray]:
    """Central differences per element of input `index`: one (N_in, N_out) matrix per output."""
    data = inputs[index]._data
    flat = data.reshape(-1) if data.flags.c_contiguous else None
    columns: list[list[np.ndarray]] = []
    for k in range(data.size):
        position = np.unravel_index(k, data.shape)
        original = data[position].copy()
        data[position] = original - eps
        before = evaluator.outputs()
        data[position] = original + eps
        after = evaluator.outputs()
        data[position] = original
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
        if not np.allclose(runs[0][i], runs[1][i], rtol=0, atol=nondet_tol):
            raise GradcheckError(
                "Backward is not reentrant, i.e., running backward with same input and grad_output multiple times "
                "gives different values, although analytical gradient matches numerical gradient."
                f"The tolerance for nondeterminism was {nondet_tol}." + FAILED_NONDET_MSG)
    return [runs[0][i] for i in differentiable]


def _matrix_repr(matrix: np.ndarray) -> str:
    return repr(Tensor._make(np.ascontiguousarray(matrix)))


def _worst(analytical: np.ndarray, numerical: np.ndarray, rtol: float, atol: float, output_index: int,
           input_index: int, input_shape, output_shape) -> Mismatch:
    excess = np.abs(analytical - numerical) - (atol + rtol * np.abs(numerical))
    excess = np.where(np.isnan(excess), np.inf, excess)
    row, column = np.unravel_index(int(np.argmax(excess)), excess.shape)
    return Mismatch(output_index, input_index, tuple(int(i) for i in np.unravel_index(row, input_shape)),
                    tuple(int(i) for i in np.unravel_index(column, output_shape)) if output_shape else (),
                    float(numerical[row, column]), float(analytical[row, column]))


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


def _slow(func, inputs, differentiable, outputs, eps, rtol, atol, nondet_tol, evaluator, result) -> None:
    numerical = {i: _numerical_jacobian(evaluator, inputs, i, eps) for i in differentiable}
    if not _differentiable_outputs(outputs):
        _check_no_differentiable_outputs(numerical)
    for j, output in _differentiable_outputs(outputs):
        analytical = _analytical_jacobian(output, inputs, differentiable, nondet_tol)
        for position, i in enumerate(differentiable):
            a, n = analytical[position], numerical[i][j]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                result.worst = _worst(a, n, rtol, atol, j, i, inputs[i]._data.shape, output._data.shape)
                raise GradcheckError(_mismatch_message(n, a, j, i))


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
    if not diff_outputs:
        evaluator.total += 2 * sum(inputs[i]._data.size for i in differentiable)
        _check_no_differentiable_outputs({i: _numerical_jacobian(evaluator, inputs, i, eps) for i in differentiable})
    for i in differentiable:  # J u by one directional central difference per input
        data = inputs[i]._data
        original = data.copy()
        data[...] = original - eps * u[i]
        before = evaluator.outputs()
        data[...] = original + eps * u[i]
        after = evaluator.outputs()
        data[...] = original
        for j, _ in diff_outputs:
            jvp = (after[j] - before[j]) / (2 * eps)
            numerical[(i, j)] = float(np.sum(jvp.reshape(-1) * v[j].reshape(-1)))
    for j, output in diff_outputs:  # vᵀJ by one backward per output, twice for reentrancy
        runs = [_analytical_rows(output, inputs, differentiable, v[j].astype(output._data.dtype)) for _ in range(2)]
        for position, i in enumerate(differentiable):
            first, second = runs[0][position], runs[1][position]
            if first is not None and not np.allclose(first, second, rtol=0, atol=nondet_tol):
                raise GradcheckError(
                    "Backward is not reentrant, i.e., running backward with same input and grad_output multiple "
                    "times gives different values, although analytical gradient matches numerical gradient."
                    f"The tolerance for nondeterminism was {nondet_tol}." + FAILED_NONDET_MSG)
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
                    message += FAST_FAIL_SLOW_OK_MSG
                result.worst = _worst(slow_a, slow_n, rtol, atol, j, i, inputs[i]._data.shape, output._data.shape)
                raise GradcheckError(message)


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
        if localize and result.worst is not None:
            result.culprit = first_wrong_node(func, inputs, eps=eps, atol=atol, rtol=rtol)
    result.evaluations = evaluator.count
    return result


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
