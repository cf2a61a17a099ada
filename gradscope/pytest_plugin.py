"""gradscope's pytest plugin (loaded through the `pytest11` entry point): the `grad_recorder` fixture
and the gradient assertion helpers.

    from gradscope.pytest_plugin import assert_all_params_receive_grad, assert_grads_finite

    def test_every_layer_learns(grad_recorder):
        trace = grad_recorder(lambda: loss_fn(model(x), y))
        assert_grads_finite(trace)
        assert_all_params_receive_grad(trace)

A failing helper raises an AssertionError naming the parameter or node, its module scope, the line
that used it and the measured value, so pytest's report says what broke and where.

Golden gradients, as snapshot-testing plugins keep snapshots: `assert_grads_match_baseline(loss_fn,
"baselines/model.gstrace")` fails naming the first divergence from the baseline file; run pytest
with `--gradscope-update-baselines` to (re)write the baselines instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gradscope._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:  # what __getattr__ below hands out, for readers and type checkers
    from gradscope.checks.assertions import (
        GradientAssertionError,
        GradRecorder,
        assert_all_params_receive_grad,
        assert_grad_norm,
        assert_gradcheck,
        assert_grads_finite,
        record_backward,
    )
    from gradscope.trace.model import Trace

# pytest loads this module (the pytest11 entry point) in every run of every project where gradscope is installed:
# the debugger's layers load when a test first uses a helper or the fixture, not at pytest's start
__getattr__, __dir__ = _lazy_exports(__name__, globals(), names={
    "gradscope.checks.assertions": ("GradRecorder", "GradientAssertionError", "assert_all_params_receive_grad",
                                    "assert_grad_norm", "assert_gradcheck", "assert_grads_finite",
                                    "record_backward"),
})

__all__ = [
    "GradRecorder", "GradientAssertionError", "assert_all_params_receive_grad", "assert_grad_norm",
    "assert_gradcheck", "assert_grads_finite", "assert_grads_match_baseline", "grad_recorder", "record_backward",
]

UPDATE_OPTION = "--gradscope-update-baselines"
_update_baselines = False  # set from the pytest option for the session (pytest_configure)


def pytest_addoption(parser) -> None:
    parser.getgroup("gradscope").addoption(
        UPDATE_OPTION, action="store_true", default=False,
        help="write the gradient baselines of assert_grads_match_baseline instead of comparing with them")


def pytest_configure(config) -> None:
    global _update_baselines
    _update_baselines = bool(config.getoption(UPDATE_OPTION, default=False))


def pytest_unconfigure(config) -> None:
    global _update_baselines
    _update_baselines = False


def assert_grads_match_baseline(source: Trace | Callable, path: str | Path, *, rtol: float | None = None,
                                atol: float | None = None, names: Mapping | None = None) -> None:
    """The parameters' values and gradients of `source` (a Trace, or a function returning the scalar
    loss, recorded on the spot) match the baseline file at `path`, within `rtol`/`atol` (default: the
    lower precision's tolerance). A relative `path` is relative to the calling test's file. Under
    `pytest --gradscope-update-baselines` the baseline is (re)written and the assertion passes.

    >>> assert_grads_match_baseline(lambda: loss_fn(model(x), y), "baselines/model.gstrace", rtol=1e-5)
    """
    __tracebackhide__ = True
    # the layers this needs load on its first call (see __getattr__ above): pytest's start stays light
    from gradscope.checks.assertions import GradientAssertionError, record_backward
    from gradscope.compare import Tolerance, baseline_trace, compare_traces  # lazy, as the line above
    from gradscope.trace.model import Trace  # lazy, as above
    from gradscope.trace.output import write_output  # lazy, as above
    from gradscope.trace.tracefile import load_trace, write_trace  # lazy, as above

    caller = sys._getframe(1)
    path = Path(path)
    if not path.is_absolute() and caller.f_globals.get("__file__"):
        path = Path(caller.f_globals["__file__"]).resolve().parent / path
    if not isinstance(source, Trace):
        source = record_backward(source, names if names is not None else {**caller.f_globals, **caller.f_locals})
    current = baseline_trace([(source, index) for index in range(len(source.passes))])
    if _update_baselines:
        path.parent.mkdir(parents=True, exist_ok=True)  # baselines/ beside the test, on first use
        write_output(path, "trace", lambda stream: write_trace(current, stream))  # never over a non-trace file
        return
    if not path.exists():
        raise GradientAssertionError(f"baseline {path} does not exist: run pytest with {UPDATE_OPTION} to write it")
    report = compare_traces(load_trace(path), current, Tolerance(rtol, atol), a_label=str(path), b_label="this run")
    if not report.equal:
        tolerance = report.tolerance.describe()
        lines = [f"gradients differ from baseline {path} (A: the baseline, B: this run; {tolerance}):",
                 f"  {report.summary()}"]
        lines += [f"  {p.name}: {p.status}" + (f" ({p.note})" if p.note else "")
                  + ("" if p.grad_rel_error is None else f", gradient relative error {p.grad_rel_error:.3g}")
                  for p in report.parameters if p.status != "equal"]
        raise GradientAssertionError("\n".join(lines))


@pytest.fixture
def grad_recorder() -> GradRecorder:
    """Records backward passes: `grad_recorder(loss_fn)` returns the Trace of `loss_fn().backward()`;
    `with grad_recorder: ...` records every backward in the block (`grad_recorder.trace` after)."""
    from gradscope.checks.assertions import GradRecorder  # loaded when a test asks for it (see __getattr__ above)

    return GradRecorder()
