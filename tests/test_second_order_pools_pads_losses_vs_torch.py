"""Second derivatives through ops whose backward is an op of its own in PyTorch: average and adaptive average pools
(and interpolate mode='area'), reflection and replication pads, nll_loss (and nll_loss2d), prelu and rrelu.

For each: g = grad(op(x) · w, x, create_graph=True), then grad(g², (x, params, w), allow_unused=True), on both
libraries in float64. PyTorch's gradient g is a `*BackwardBackward0` node that takes x too, with a zero derivative
there: the second derivative with respect to x is zeros. gradscope's rules were reshapes, scatters or a product with
a one-hot, which left x out of the graph: None (with allow_unused), or "appears to not have been used in the graph"
without it, where a Hessian-vector product or a gradient penalty through these ops needs zeros.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _cases(T):
    F = T.nn.functional
    return {
        "avg_pool1d": (lambda x: F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), [(2, 3, 6)]),
        "avg_pool2d": (lambda x: F.avg_pool2d(x, 2), [(2, 3, 4, 4)]),
        "avg_pool2d_padded": (lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
                              [(1, 2, 5, 5)]),
        "avg_pool2d_divisor": (lambda x: F.avg_pool2d(x, 2, 1, divisor_override=3), [(2, 3, 3)]),
        "avg_pool3d": (lambda x: F.avg_pool3d(x, 2, padding=1), [(1, 2, 3, 4, 2)]),
        "adaptive_avg_pool1d": (lambda x: F.adaptive_avg_pool1d(x, 4), [(2, 3, 7)]),
        "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (3, 2)), [(2, 3, 5, 7)]),
        "adaptive_avg_pool2d_unbatched": (lambda x: F.adaptive_avg_pool2d(x, (2, 4)), [(3, 5, 7)]),
        "adaptive_avg_pool3d": (lambda x: F.adaptive_avg_pool3d(x, (2, 3, 1)), [(1, 2, 3, 5, 4)]),
        "interpolate_area1d": (lambda x: F.interpolate(x, size=4, mode="area"), [(2, 3, 7)]),
        "interpolate_area2d": (lambda x: F.interpolate(x, size=(3, 5), mode="area"), [(2, 3, 5, 7)]),
        "interpolate_area3d": (lambda x: F.interpolate(x, size=(2, 3, 2), mode="area"), [(1, 2, 3, 5, 4)]),
        "reflect_pad1d": (lambda x: F.pad(x, (2, 1), mode="reflect"), [(2, 3, 5)]),
        "reflect_pad2d": (lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"), [(2, 3, 5, 4)]),
        "reflect_pad3d": (lambda x: F.pad(x, (1, 1, 1, 0, 0, 1), mode="reflect"), [(1, 2, 3, 4, 3)]),
        "replicate_pad1d": (lambda x: F.pad(x, (2, 1), mode="replicate"), [(2, 3, 5)]),
        "replicate_pad2d": (lambda x: F.pad(x, (3, 1, 1, 2), mode="replicate"), [(3, 5, 4)]),
        "replicate_pad3d": (lambda x: F.pad(x, (1, 1, 1, 0, 0, 2), mode="replicate"), [(1, 2, 3, 4, 3)]),
        "nll_loss": (lambda x: F.nll_loss(x, T.tensor([0, 2, 1, 2])), [(4, 3)]),
        "nll_loss_sum": (lambda x: F.nll_loss(x, T.tensor([0, 2, 1, 2]), reduction="sum"), [(4, 3)]),
        "nll_loss_none": (lambda x: F.nll_loss(x, T.tensor([0, 2, 1, 2]), reduction="none"), [(4, 3)]),
        "nll_loss_weighted_ignored": (
            lambda x: F.nll_loss(x, T.tensor([0, 2, 1, 2]), T.tensor([0.5, 2.0, 1.5], dtype=T.float64),
                                 ignore_index=1), [(4, 3)]),
        "nll_loss_unbatched": (lambda x: F.nll_loss(x, T.tensor(1)), [(3,)]),
        "nll_loss2d": (lambda x: F.nll_loss(x, T.tensor([[[0, 2], [1, 2]]])), [(1, 3, 2, 2)]),
        "nll_loss2d_none_weighted": (
            lambda x: F.nll_loss(x, T.tensor([[[0, 2], [1, 2]]]), T.tensor([0.5, 2.0, 1.5], dtype=T.float64),
                                 reduction="none"), [(1, 3, 2, 2)]),
        "prelu": (lambda x, a: F.prelu(x, a), [(2, 3, 4), (3,)]),
        "prelu_shared": (lambda x, a: F.prelu(x, a), [(2, 3), (1,)]),
        "rrelu_eval": (lambda x: F.rrelu(x, 0.1, 0.3, training=False), [(2, 4)]),
    }


NAMES = sorted(_cases(torch))


def _second_order(T, name):
    fn, shapes = _cases(T)[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    inputs = [T.tensor(rng.standard_normal(shape), requires_grad=True) for shape in shapes]
    out = fn(*inputs)
    w = T.tensor(rng.standard_normal(tuple(out.shape)), requires_grad=True)
    g = T.autograd.grad((out * w).sum(), inputs[0], create_graph=True)[0]
    second = T.autograd.grad(g.pow(2).sum(), (*inputs, w), allow_unused=True)
    return type(g.grad_fn).__name__, [None if s is None else s.detach().numpy().copy() for s in second]


@pytest.mark.parametrize("name", NAMES)
def test_the_second_derivative_and_the_gradients_node_are_pytorchs(name):
    ours_node, ours = _second_order(gradscope, name)
    theirs_node, theirs = _second_order(torch, name)
    assert ours_node == theirs_node
    assert [s is None for s in ours] == [s is None for s in theirs]
    assert ours[0] is not None and not ours[0].any()  # zeros with respect to the input, not None
    for mine, reference in zip(ours, theirs, strict=True):
        if reference is not None:
            np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_the_input_takes_part_without_allow_unused(name):
    """A Hessian-vector product with respect to the input alone: PyTorch gives zeros; gradscope raised."""
    fn, shapes = _cases(gradscope)[name]
    inputs = [gradscope.randn(*shape, dtype=gradscope.float64, requires_grad=True) for shape in shapes]
    g = gradscope.autograd.grad(fn(*inputs).sum(), inputs[0], create_graph=True)[0]
    (hessian_vector,) = gradscope.autograd.grad(g.sum(), inputs[0])
    assert not hessian_vector.any()


@pytest.mark.parametrize("name", NAMES)
def test_gradgradcheck(name):
    fn, shapes = _cases(gradscope)[name]
    rng = np.random.default_rng(sum(map(ord, name)) + 1)
    inputs = [gradscope.tensor(rng.standard_normal(shape), requires_grad=True) for shape in shapes]
    if name.startswith("prelu"):  # away from the kink at 0, where finite differences straddle it
        inputs[0].data += gradscope.sign(inputs[0].data) * 0.1
    assert gradscope.autograd.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("name", ["avg_pool2d", "adaptive_avg_pool3d", "reflect_pad1d", "replicate_pad2d", "nll_loss",
                                  "nll_loss2d", "prelu", "rrelu_eval"])
def test_the_backward_nodes_save_what_pytorchs_save(name):
    def saved(T):
        fn, shapes = _cases(T)[name]
        inputs = [T.ones(*shape, dtype=T.float64, requires_grad=True) for shape in shapes]
        node = T.autograd.grad(fn(*inputs).sum(), inputs[0], create_graph=True)[0].grad_fn
        return sorted(attr for attr in dir(node) if attr.startswith("_saved_"))
    assert saved(gradscope) == saved(torch)


def _prelu_terms(T, which: str):
    """prelu's two first derivatives (input, weight) at x with zeros, differentiated along A, B or both."""
    x = T.tensor([[-1.0, 0.0, 2.0], [0.5, -3.0, 0.0]], dtype=T.float64, requires_grad=True)
    a = T.tensor([0.3, 0.5, 0.7], dtype=T.float64, requires_grad=True)
    w = T.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]], dtype=T.float64, requires_grad=True)
    grad_x, grad_a = T.autograd.grad((T.nn.functional.prelu(x, a) * w).sum(), (x, a), create_graph=True)
    along = {"input": (grad_x * 10).sum(), "weight": (grad_a * T.tensor([100.0, 200, 300], dtype=T.float64)).sum()}
    total = along["input"] + along["weight"] if which == "both" else along[which]
    return [t.detach().numpy().copy() for t in T.autograd.grad(total, (x, a, w))]


@pytest.mark.parametrize("which", ["input", "weight", "both"])
def test_prelus_second_derivative_at_zero_is_pytorchs(which):
    """PyTorch's first derivative takes x = 0 on the weight's side, its second derivative on the positive side: the
    same here (PreluKernelBackwardBackward0's formulas)."""
    for mine, reference in zip(_prelu_terms(gradscope, which), _prelu_terms(torch, which), strict=True):
        np.testing.assert_array_equal(mine, reference)


def test_the_third_derivative_through_the_backward_ops():
    """The backward op's own rule is the op again (an avg pool's gradient's gradient is an avg pool)."""
    def third(T):
        x = T.tensor(np.linspace(-1, 1, 2 * 3 * 4 * 4).reshape(2, 3, 4, 4), requires_grad=True)
        w = T.tensor(np.linspace(2, -1, 2 * 3 * 2 * 2).reshape(2, 3, 2, 2), requires_grad=True)
        g = T.autograd.grad((T.nn.functional.avg_pool2d(x, 2) * w).sum(), x, create_graph=True)[0]
        (gw,) = T.autograd.grad(g.pow(3).sum(), w, create_graph=True)
        return [t.detach().numpy() for t in T.autograd.grad(gw.pow(2).sum(), (x, w))]
    for mine, reference in zip(third(gradscope), third(torch), strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-12)
