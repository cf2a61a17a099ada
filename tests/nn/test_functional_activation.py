"""Activations beyond what the op samples check: PyTorch's errors and dtype rules, in-place variants
(the same tensor back, PyTorch's in-place errors and node names), and gumbel_softmax, whose noise
can't match torch's stream: its distribution and straight-through gradient instead."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope
from gradscope.nn import functional as F

SETUP = "F = torch.nn.functional\nx = torch.ones(2, 3, requires_grad=True)\nn = torch.tensor([[-4, 0, 2, 7]])\n"

ERRORS = {
    "glu odd": ("F.glu(x)", "RuntimeError: Halving dimension must be even, but dimension 1 is size 3"),
    "glu scalar": ("F.glu(torch.tensor(1.))", "RuntimeError: glu does not support scalars because halving size must "
                                              "be even"),
    "glu dim": ("F.glu(x, 2)", "IndexError: Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    "glu int": ("F.glu(n)", "NotImplementedError: \"glu_cpu\" not implemented for 'Long'"),
    "hardtanh bounds": ("F.hardtanh(x, 2, 1)", "ValueError: min_val cannot be greater than max_val"),
    "elu int": ("F.elu(n)", "NotImplementedError: \"elu_cpu\" not implemented for 'Long'"),
    "selu int": ("F.selu(n)", "NotImplementedError: \"elu_cpu\" not implemented for 'Long'"),
    "celu int": ("F.celu(n)", "NotImplementedError: \"elu_cpu\" not implemented for 'Long'"),
    "hardswish int": ("F.hardswish(n)", "NotImplementedError: \"hardswish_cpu\" not implemented for 'Long'"),
    "hardsigmoid int": ("F.hardsigmoid(n)", "NotImplementedError: \"hardsigmoid_cpu\" not implemented for 'Long'"),
    "logsigmoid int": ("F.logsigmoid(n)", "NotImplementedError: \"log_sigmoid_cpu\" not implemented for 'Long'"),
    "mish int": ("F.mish(n)", "NotImplementedError: \"mish_cpu\" not implemented for 'Long'"),
    "softplus int": ("F.softplus(n)", "NotImplementedError: \"softplus_cpu\" not implemented for 'Long'"),
    "prelu channels": ("F.prelu(x, torch.ones(2))", "RuntimeError: Mismatch of parameter numbers and input channel "
                                                    "size. Found parameter numbers = 2 and channel size = 3."),
    "prelu 1-D": ("F.prelu(torch.ones(3), torch.ones(3))", "RuntimeError: Mismatch of parameter numbers and input "
                                                           "channel size. Found parameter numbers = 3 and channel "
                                                           "size = 1."),
    "prelu 2-D weight": ("F.prelu(x, torch.ones(1, 3))", "RuntimeError: prelu: Expected `weight` to be a scalar or 1D "
                                                         "tensor, but got: ndim = 2"),
    "prelu dtypes": ("F.prelu(x, torch.ones(3, dtype=torch.float64))", "RuntimeError: prelu: Type promoting not "
                                                                       "supported. Got Float and Double"),
    "prelu 0-dim": ("F.prelu(torch.tensor(1.), torch.ones(3))", "RuntimeError: Not allow zero-dim input tensor."),
    "prelu int": ("F.prelu(n, torch.tensor([2]))", "NotImplementedError: \"prelu_cpu\" not implemented for 'Long'"),
    "in place on a leaf": ("F.elu(x, inplace=True)", "RuntimeError: a leaf Variable that requires grad is being used "
                                                     "in an in-place operation."),
    "elu_ with a negative slope": ("F.elu(x * 1, -0.5, inplace=True).sum().backward()",
                                   "RuntimeError: In-place elu backward calculation is triggered with a negative "
                                   "slope which is not supported. This is caused by calling in-place forward function "
                                   "with a negative slope, please call out-of-place version instead."),
    "leaky_relu_ with a negative slope": ("F.leaky_relu(x * 1, -0.5, inplace=True).sum().backward()",
                                         "RuntimeError: In-place leakyReLu backward calculation is triggered with a "
                                         "negative slope which is not supported. This is caused by calling in-place "
                                         "forward function with a negative slope, please call out-of-place version "
                                         "instead. File an issue at https://github.com/pytorch/pytorch if you do "
                                         "require supporting in-place leakRelu backward calculation with negative "
                                         "slope"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_error_matches_torch(case, oracle):
    snippet, error = ERRORS[case]
    oracle.check(SETUP + snippet, error=error)


def test_integer_inputs_keep_their_dtype_where_torch_does(oracle):
    oracle.check(SETUP + "print(F.relu6(n), F.hardtanh(n), F.threshold(n, 1, 5), F.softsign(n).dtype)",
                 stdout="tensor([[0, 0, 2, 6]]) tensor([[-1,  0,  1,  1]]) tensor([[5, 5, 2, 7]]) torch.float32\n")


@pytest.mark.parametrize("name, call", [
    ("relu6", lambda y: F.relu6(y, inplace=True)), ("elu", lambda y: F.elu(y, inplace=True)),
    ("selu", lambda y: F.selu(y, inplace=True)), ("celu", lambda y: F.celu(y, inplace=True)),
    ("hardtanh", lambda y: F.hardtanh(y, inplace=True)), ("hardswish", lambda y: F.hardswish(y, inplace=True)),
    ("hardsigmoid", lambda y: F.hardsigmoid(y, inplace=True)), ("mish", lambda y: F.mish(y, inplace=True)),
    ("threshold", lambda y: F.threshold(y, 0.1, 2.0, inplace=True)),
    ("leaky_relu", lambda y: F.leaky_relu(y, 0.2, inplace=True)), ("silu", lambda y: F.silu(y, inplace=True)),
])
def test_inplace_returns_the_input_with_torch_node(name, call):
    torch = pytest.importorskip("torch")
    values = np.array([-2.0, -0.5, 0.0, 0.5, 4.0])
    results = []
    for lib, function in ((gradscope, call), (torch, _torch_twin(torch, name))):
        x = lib.tensor(values, requires_grad=True)
        y = x * 1
        version = y._version
        out = function(y)
        assert out is y and y._version == version + 1
        (grad,) = lib.autograd.grad(out.sum(), x)
        results.append((out.grad_fn.name(), out.detach().numpy(), grad.numpy()))
    assert results[0][0] == results[1][0]
    for ours, theirs in zip(results[0][1:], results[1][1:], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def _torch_twin(torch, name):
    functional = torch.nn.functional
    if name == "threshold":
        return lambda y: functional.threshold(y, 0.1, 2.0, inplace=True)
    if name == "leaky_relu":
        return lambda y: functional.leaky_relu(y, 0.2, inplace=True)
    return lambda y: getattr(functional, name)(y, inplace=True)


def test_inplace_without_grad_writes_through():
    x = gradscope.tensor([-2.0, 3.0, 8.0])
    view = x[1:]
    assert F.relu6(view, inplace=True) is view
    assert x.tolist() == [-2.0, 3.0, 6.0]


@pytest.mark.parametrize("call", [F.relu6, F.elu, F.selu, lambda x: F.celu(x, 0.3), F.hardtanh, F.hardswish,
                                  F.hardsigmoid, F.mish, F.logsigmoid, F.softplus, F.softsign,
                                  lambda x: F.threshold(x, 0.1, 2.0), lambda x: F.glu(x, 0),
                                  lambda x: F.prelu(x, gradscope.tensor([0.2, 0.3, 0.1]))])
def test_float32_stays_float32(call):
    x = gradscope.randn(2, 3, requires_grad=True)
    out = call(x)
    (grad,) = gradscope.autograd.grad(out.sum(), x)
    assert out.dtype == grad.dtype == gradscope.float32


def test_gumbel_softmax_is_seeded_and_sums_to_one():
    logits = gradscope.tensor([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]], requires_grad=True)
    gradscope.manual_seed(7)
    first = F.gumbel_softmax(logits, tau=0.5)
    gradscope.manual_seed(7)
    second = F.gumbel_softmax(logits, tau=0.5)
    assert first.grad_fn.name() == "SoftmaxBackward0"
    np.testing.assert_array_equal(first.detach().numpy(), second.detach().numpy())
    np.testing.assert_allclose(first.detach().numpy().sum(-1), [1.0, 1.0], rtol=1e-6)


def test_gumbel_softmax_favours_the_largest_logit():
    gradscope.manual_seed(0)
    logits = gradscope.tensor([0.0, 2.0, -1.0]).expand(4000, 3)
    picks = np.bincount(F.gumbel_softmax(logits, hard=True).numpy().argmax(-1), minlength=3) / 4000
    expected = np.exp([0.0, 2.0, -1.0]) / np.exp([0.0, 2.0, -1.0]).sum()  # Gumbel-max picks softmax(logits)
    np.testing.assert_allclose(picks, expected, atol=0.03)


def test_gumbel_softmax_hard_is_one_hot_with_the_soft_gradient():
    logits = gradscope.tensor([[1.0, 2.0, 0.5, -1.0], [0.3, 0.1, 0.2, 0.0]], dtype=gradscope.float64,
                              requires_grad=True)
    gradscope.manual_seed(3)
    hard = F.gumbel_softmax(logits, tau=2.0, hard=True, dim=0)
    gradscope.manual_seed(3)
    soft = F.gumbel_softmax(logits, tau=2.0, dim=0)
    assert hard.grad_fn.name() == "AddBackward0"
    np.testing.assert_array_equal(hard.detach().numpy().sum(0), [1.0] * 4)
    np.testing.assert_array_equal(hard.detach().numpy().argmax(0), soft.detach().numpy().argmax(0))
    weights = gradscope.tensor(np.arange(8.0).reshape(2, 4))
    (hard_grad,) = gradscope.autograd.grad((hard * weights).sum(), logits)
    (soft_grad,) = gradscope.autograd.grad((soft * weights).sum(), logits)
    np.testing.assert_allclose(hard_grad.numpy(), soft_grad.numpy(), rtol=1e-12)


def test_gumbel_softmax_eps_is_deprecated():
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated and has no effect."):
        F.gumbel_softmax(gradscope.zeros(3), eps=1e-5)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_relu_backward_selects_bit_for_bit_as_torch(dtype):
    """threshold_backward passes g's exact bits where the unit is on and +0.0 elsewhere, even for a NaN, inf or -0.0
    gradient, and where the result itself is NaN."""
    torch = pytest.importorskip("torch")
    x = np.array([-1.0, 0.0, 2.0, np.nan, 3.0, -2.0, 1e-3, 4.0], dtype)
    g = np.array([np.nan, np.inf, -0.0, 5.0, np.nan, -np.inf, -7.0, -0.0], dtype)
    bits = f"u{np.dtype(dtype).itemsize}"
    grads = []
    for lib in (gradscope, torch):
        leaf = lib.tensor(x, requires_grad=True)
        (grad,) = lib.autograd.grad(lib.relu(leaf), leaf, lib.tensor(g))
        grads.append(grad.numpy().view(bits))
    np.testing.assert_array_equal(*grads)


@pytest.mark.parametrize("inplace", [False, True])
def test_threshold_keeps_a_nan_and_passes_its_gradient_as_torch(inplace):
    """PyTorch's threshold replaces x <= threshold: a NaN input stays NaN and its gradient passes (gradscope used
    to write `value` there and pass nothing)."""
    torch = pytest.importorskip("torch")
    x = np.array([np.nan, 1.0, -1.0, 0.5, np.inf, -np.inf], np.float32)
    results = []
    for lib in (gradscope, torch):
        leaf = lib.tensor(x, requires_grad=True)
        out = lib.nn.functional.threshold(leaf * 1, 0.5, 7.0, inplace=inplace)
        out.backward(lib.arange(1.0, 7.0))
        results.append((out.detach().numpy(), leaf.grad.numpy(), type(out.grad_fn).__name__))
    ours, theirs = results
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])
    assert ours[2] == theirs[2]


def test_log_softmax_follows_pytorchs_order_at_infinities():
    # PyTorch computes (x - max) - log(sum(exp(x - max))): a +inf logit turns its whole row nan (inf - inf), an
    # all -inf row is nan, and a -inf logit beside finite ones is -inf with the rest normalised as usual
    x = gradscope.tensor([[np.inf, 1.0], [-np.inf, -np.inf], [-np.inf, 1.0]])
    np.testing.assert_array_equal(F.log_softmax(x, 1).numpy(), [[np.nan, np.nan], [np.nan, np.nan], [-np.inf, 0.0]])


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "int64", "float16", "float32", "float64"])
def test_relu_keeps_the_dtype_and_the_bits_of_torchs(dtype):
    """relu's forward computes against a zero of the input's own dtype (a float's a 0-d array, any other a Python 0):
    an integer tensor stays integer, and NaN, -NaN, infinities and -0.0 come out as PyTorch's (`x < 0 ? 0 : x`)."""
    torch = pytest.importorskip("torch")
    values = [3, 0, 200] if dtype == "uint8" else [-3, 0, 5, 127] if dtype == "int8" else [-3, 0, 5, 2**20]
    if dtype.startswith("float"):
        values += [np.nan, -np.nan, np.inf, -np.inf, -1e-30, 1e-30, -0.0, 0.0]
    x = np.array(values, dtype)
    ours, theirs = gradscope.relu(gradscope.tensor(x)), torch.relu(torch.tensor(x))
    assert ours.dtype == getattr(gradscope, dtype) and ours.numpy().dtype == x.dtype
    bits = f"u{x.dtype.itemsize}"
    np.testing.assert_array_equal(ours.numpy().view(bits), theirs.numpy().view(bits))


RELU_FORMS = {
    "relu": lambda lib, x: lib.relu(x),
    "F.relu": lambda lib, x: lib.nn.functional.relu(x),
    "relu_": lambda lib, x: (x * 1).relu_(),
    "F.relu inplace": lambda lib, x: lib.nn.functional.relu(x * 1, inplace=True),
    "nn.ReLU": lambda lib, x: lib.nn.ReLU()(x),
    "method": lambda lib, x: x.relu(),
}


@pytest.mark.parametrize("requires_grad", [False, True], ids=["plain", "recorded"])
@pytest.mark.parametrize("layout", ["0-d", "short", "long", "strided", "transposed"])
@pytest.mark.parametrize("form", RELU_FORMS)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_relu_of_negative_zero_is_negative_zero_as_torch(dtype, form, layout, requires_grad):
    """PyTorch's relu keeps a -0.0 (and a -NaN) as it is, in every form and memory layout; NumPy's maximum gave +0.0
    for float32/float64 with the zero second."""
    torch = pytest.importorskip("torch")
    base = np.array([-0.0, 0.0, -np.nan, np.nan, -2.0, 3.0, -0.0, -1e-30] * 9, dtype)
    x = {"0-d": base[0:1].reshape(()), "short": base[:5], "long": base, "strided": base[::3],
         "transposed": base[:72].reshape(8, 9).T}[layout]
    results = []
    for lib in (gradscope, torch):
        leaf = lib.tensor(np.ascontiguousarray(x))
        if layout in ("strided", "transposed"):  # the same values through a non-contiguous view
            leaf = lib.tensor(base)[::3] if layout == "strided" else lib.tensor(base[:72]).reshape(8, 9).T
        leaf.requires_grad_(requires_grad)
        results.append(RELU_FORMS[form](lib, leaf).detach().numpy())
    bits = f"u{np.dtype(dtype).itemsize}"
    np.testing.assert_array_equal(results[0].view(bits), results[1].view(bits))
