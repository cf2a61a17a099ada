"""gradscope's pytest plugin (loaded through the `pytest11` entry point): the `grad_recorder` fixture
and the gradient assertion helpers.

    from gradscope.pytest_plugin import assert_all_params_receive_grad, assert_grads_finite

    def test_every_layer_learns(grad_recorder):
        trace = grad_recorder(lambda: loss_fn(model(x), y))
        assert_grads_finite(trace)
        assert_all_params_receive_grad(trace)

A failing helper raises an AssertionError naming the parameter or node, its module scope, the line
that used it and the measured value, so pytest's report says what broke and where.
"""

from __future__ import annotations

import pytest

from gradscope.checks.assertions import (
    GradientAssertionError,
    GradRecorder,
    assert_all_params_receive_grad,
    assert_grad_norm,
    assert_gradcheck,
    assert_grads_finite,
    record_backward,
)

__all__ = [
    "GradRecorder", "GradientAssertionError", "assert_all_params_receive_grad", "assert_grad_norm",
    "assert_gradcheck", "assert_grads_finite", "grad_recorder", "record_backward",
]


@pytest.fixture
def grad_recorder() -> GradRecorder:
    """Records backward passes: `grad_recorder(loss_fn)` returns the Trace of `loss_fn().backward()`;
    `with grad_recorder: ...` records every backward in the block (`grad_recorder.trace` after)."""
    return GradRecorder()
