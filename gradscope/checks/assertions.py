"""Assertion helpers for tests: the rules of `gradscope check` on a recorded backward.

Each helper takes a `Trace` or a function returning a scalar loss (recorded on the spot); parameters
are named after the caller's variables (`model.fc1.weight`) unless `names` says otherwise. A failure
raises `GradientAssertionError` (an AssertionError) naming the parameter or node, its module scope,
the user's line and the measured value.

>>> assert_grads_finite(lambda: loss_fn(model(x), y))
>>> assert_grad_norm(trace, max=1e3, params="model.encoder.*")
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence

from gradscope.autograd.gradcheck import INCONCLUSIVE
from gradscope.autograd.gradcheck import check as gradcheck_result
from gradscope.autograd.tensor import Tensor
from gradscope.checks.config import CheckConfig, NormBound
from gradscope.checks.results import CheckResult
from gradscope.checks.rules import check_connected, check_finite, check_grad_norm, unmatched_bounds
from gradscope.checks.runner import merge_steps
from gradscope.checks.steps import Step
from gradscope.trace.model import Trace
from gradscope.trace.recorder import Recorder, named_parameters

KEEP_VALUES = 1 << 16


class GradientAssertionError(AssertionError):
    """A gradient assertion failed; `results` holds the failing CheckResults (empty for gradcheck)."""

    def __init__(self, message: str, results: Sequence[CheckResult] = ()) -> None:
        super().__init__(message)
        self.results = list(results)


def _caller_names(depth: int) -> dict:
    """The variables visible where the helper was called: its globals, then its locals."""
    frame = sys._getframe(depth + 1)
    return {**frame.f_globals, **frame.f_locals}


def record_backward(fn: Callable[[], Tensor], names: Mapping | None = None, *,
                    keep_values: int = KEEP_VALUES) -> Trace:
    """Call `fn()`, run backward from the scalar it returns under a Recorder, and return the trace.

    The gradients of the parameters `names` holds are reset first (to None, as `zero_grad()` does),
    so the trace holds this call's gradients, not ones accumulated by earlier calls.

    >>> trace = record_backward(lambda: model(x).pow(2).mean())
    >>> [p.name for p in trace.parameters]
    ['model.weight', 'model.bias']
    """
    namespace = dict(names) if names is not None else _caller_names(1)
    for _, _, tensor in named_parameters(namespace):
        tensor.grad = None
    recorder = Recorder(keep_values=keep_values)
    with recorder:
        result = fn()
        if not isinstance(result, Tensor) or result.numel() != 1:
            shape = list(result.shape) if isinstance(result, Tensor) else type(result).__name__
            raise TypeError(f"the function must return a scalar tensor to differentiate, got {shape}")
        if not result.requires_grad:
            raise ValueError("the tensor the function returned has no graph: nothing in it requires grad")
        result.backward()
    return recorder.finish(namespace)


class GradRecorder:
    """Records backward passes for the `grad_recorder` fixture: call it with a loss function, or use
    it as a context manager around code that calls backward() itself.

    >>> trace = grad_recorder(lambda: model(x).sum())
    >>> with grad_recorder:
    ...     model(x).sum().backward()
    >>> grad_recorder.trace  # the last recording
    """

    def __init__(self, keep_values: int = KEEP_VALUES) -> None:
        self.keep_values = keep_values
        self.traces: list[Trace] = []
        self._recorder: Recorder | None = None

    def __call__(self, fn: Callable[[], Tensor], names: Mapping | None = None) -> Trace:
        trace = record_backward(fn, names if names is not None else _caller_names(1), keep_values=self.keep_values)
        self.traces.append(trace)
        return trace

    def __enter__(self) -> GradRecorder:
        self._recorder = Recorder(keep_values=self.keep_values)
        self._recorder.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        recorder, self._recorder = self._recorder, None
        recorder.__exit__(*exc)
        if exc[0] is None:
            self.traces.append(recorder.finish(_caller_names(1)))

    @property
    def trace(self) -> Trace:
        if not self.traces:
            raise LookupError("nothing recorded yet: call grad_recorder(loss_fn) or use `with grad_recorder:`")
        return self.traces[-1]


def _steps(source: Trace | Callable[[], Tensor], names: Mapping | None) -> list[Step]:
    trace = source if isinstance(source, Trace) else record_backward(source, names if names is not None
                                                                      else _caller_names(2))
    if not trace.passes:
        raise ValueError("the trace holds no backward pass")
    return [Step(index, trace, index) for index in range(len(trace.passes))]


def _judge(what: str, steps: list[Step], rule, config: CheckConfig) -> None:
    __tracebackhide__ = True  # pytest shows the test's line, not gradscope's
    failures = [result for result in merge_steps([rule(step, config) for step in steps]) if result.failed]
    if failures:
        lines = [f"{what}:"]
        for result in failures:
            where = f" [{result.location}]" if result.location else ""
            lines.append(f"  {result.message}{where}")
        raise GradientAssertionError("\n".join(lines), failures)


def assert_grads_finite(source: Trace | Callable[[], Tensor], *, allow: Sequence[str] = (),
                        names: Mapping | None = None) -> None:
    """No NaN/Inf in any gradient, of a parameter or flowing through the graph; `allow` globs match
    parameter names, modules, op names (`log`), node names (`LogBackward0`) or scopes to ignore."""
    __tracebackhide__ = True
    _judge("non-finite gradients", _steps(source, names), check_finite, CheckConfig(allow_nonfinite=tuple(allow)))


def assert_all_params_receive_grad(source: Trace | Callable[[], Tensor], *, names: Mapping | None = None) -> None:
    """Every parameter the caller's variables hold (or `names` holds) gets a gradient."""
    __tracebackhide__ = True
    _judge("parameters without a gradient", _steps(source, names), check_connected, CheckConfig())


def assert_grad_norm(source: Trace | Callable[[], Tensor], *, max: float | None = None, min: float | None = None,
                     params: str = "*", names: Mapping | None = None) -> None:
    """The gradient norm of every parameter whose name matches the glob `params` is within [min, max].

    >>> assert_grad_norm(trace, max=1e3, min=1e-8, params="model.encoder.*")
    """
    __tracebackhide__ = True
    bounds = tuple(NormBound(params, op, value) for op, value in (("<=", max), (">=", min)) if value is not None)
    if not bounds:
        raise TypeError("assert_grad_norm needs max=, min= or both")
    config = CheckConfig(grad_norm=bounds)
    steps = _steps(source, names)
    unmatched_bounds(steps[0].trace, config)
    _judge("gradient norms out of bounds", steps, check_grad_norm, config)


def assert_gradcheck(func: Callable, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                     fast_mode: bool = True, nondet_tol: float = 0.0) -> None:
    """`gradscope.autograd.gradcheck(func, inputs)` as an assertion (fast mode unless told otherwise):
    a failure names the worst element and the first node whose backward is wrong, with its scope and line;
    an inconclusive check (every mismatch within finite-difference noise) fails too, saying so.

    >>> assert_gradcheck(my_function, (x.double().requires_grad_(),))
    """
    __tracebackhide__ = True
    result = gradcheck_result(func, inputs, eps=eps, atol=atol, rtol=rtol, nondet_tol=nondet_tol,
                              fast_mode=fast_mode)
    if not result.passed:
        owner = getattr(func, "__self__", None)  # Function.apply is bound to the user's Function class
        name = f"{owner.__name__}.{func.__name__}" if isinstance(owner, type) else \
            getattr(func, "__qualname__", type(func).__name__)
        details = result.summary().splitlines()[1:] or result.message.strip().splitlines()[:1]
        outcome = "was inconclusive at this scale" if result.verdict == INCONCLUSIVE else "failed"
        raise GradientAssertionError(f"gradcheck of {name} {outcome} ({'fast' if fast_mode else 'slow'} mode, "
                                     f"atol {atol:g}, rtol {rtol:g}):\n  " + "\n  ".join(details))
