"""Every sample's gradient against central differences in float64, to first and second order,
and a completeness check: every primitive in the op table is reached by some sample."""

from __future__ import annotations

import numpy as np
import pytest
from finite_differences import (
    Lib,
    cotangents,
    differentiable_outputs,
    evaluate,
    numeric_directional,
    numeric_vjp,
    rng_for,
    second_order,
    vjp,
)
from known_bugs import FIRST_ORDER, SECOND_ORDER, with_xfails
from samples import SAMPLES

import gradscope
from gradscope.autograd.observers import observing
from gradscope.ops import REGISTRY

GRADSCOPE = Lib(gradscope, gradscope.nn.functional)
RTOL = 1e-5


def _assert_close(actual: list, expected: list, atol: float, what: str) -> None:
    assert len(actual) == len(expected)
    for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
        np.testing.assert_allclose(a, e, rtol=RTOL, atol=atol, err_msg=f"{what}, input {i}")


@pytest.mark.parametrize("sample", with_xfails(SAMPLES, FIRST_ORDER), ids=str)
def test_vjp_matches_finite_differences(sample):
    arrays = sample.inputs()
    u = cotangents(sample, evaluate(GRADSCOPE, sample, arrays))
    analytic = vjp(GRADSCOPE, sample, arrays, u)

    def function(xs):
        return evaluate(GRADSCOPE, sample, xs)

    _assert_close(analytic, numeric_vjp(function, arrays, u, sample.eps), sample.atol, "u^T J")
    # and along a random direction v: <u, J v> = <J^T u, v>
    rng = rng_for(sample, "v")
    direction = [rng.standard_normal(a.shape) for a in arrays]
    along = numeric_directional(function, arrays, direction, sample.eps)
    expected = sum(np.vdot(g, v) for g, v in zip(analytic, direction, strict=True))
    measured = sum(np.vdot(a, b) for a, b in zip(u, along, strict=True))
    assert measured == pytest.approx(expected, rel=RTOL, abs=sample.atol)


@pytest.mark.parametrize("sample", [sample for sample in SAMPLES if len(sample.shapes) > 1], ids=str)
def test_each_input_alone_gets_the_same_gradient(sample):
    """With one input requiring grad, a node saves only what that input's rule needs: it must be enough."""
    arrays = sample.inputs()
    u = cotangents(sample, evaluate(GRADSCOPE, sample, arrays))
    expected = vjp(GRADSCOPE, sample, arrays, u)
    for i in range(len(arrays)):
        inputs = [gradscope.tensor(a, requires_grad=j == i) for j, a in enumerate(arrays)]
        outputs = differentiable_outputs(sample.fn(GRADSCOPE, *inputs))
        (grad,) = gradscope.autograd.grad(outputs, inputs[i], [gradscope.tensor(c) for c in u])
        np.testing.assert_allclose(grad.numpy(), expected[i], rtol=1e-12, atol=1e-12, err_msg=f"input {i}")


@pytest.mark.parametrize("sample", with_xfails(SAMPLES, SECOND_ORDER), ids=str)
def test_second_order_matches_finite_differences(sample):
    """The create_graph=True gradient has the first-order value, and its own gradient (with respect
    to the inputs and to the incoming gradient) matches central differences of the first-order VJP."""
    arrays = sample.inputs()
    u = cotangents(sample, evaluate(GRADSCOPE, sample, arrays))
    weights = cotangents(sample, arrays, "w")
    first, second = second_order(GRADSCOPE, sample, arrays, u, weights)
    _assert_close(first, vjp(GRADSCOPE, sample, arrays, u), 1e-12, "create_graph=True gradient")

    def first_order(xs):
        return vjp(GRADSCOPE, sample, xs[:len(arrays)], xs[len(arrays):])

    numeric = numeric_vjp(first_order, arrays + u, weights, sample.eps)
    _assert_close(second, numeric, sample.atol, "second order")


class _OpsSeen:
    """Engine observer: the primitives whose nodes get created."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def node_created(self, node, inputs, outputs) -> None:
        op = getattr(node, "op", None)
        if op is not None:
            self.names.add(op.name)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_every_primitive_has_a_sample():
    """Forward, then backward(create_graph=True), of every sample reaches every primitive; the internal
    ones come from their public entry points (x[i] = v, x.copy_, backward(create_graph=True) …)."""
    seen = _OpsSeen()
    with observing(seen):
        for sample in SAMPLES:
            arrays = sample.inputs()
            inputs = [gradscope.tensor(a, requires_grad=True) for a in arrays]
            outputs = differentiable_outputs(sample.fn(GRADSCOPE, *inputs))
            # an incoming gradient that requires grad, so linear ops' backward records its nodes too
            u = [gradscope.ones_like(out).requires_grad_() for out in outputs]
            gradscope.autograd.backward(outputs, u, create_graph=sample.name not in SECOND_ORDER)
    missing = sorted(set(REGISTRY) - seen.names)
    assert not missing, f"primitives without a sample: {missing}"

