"""torch.testing.make_tensor draws what PyTorch 2.13's draws from the same seed (values, dtype, layout, and the random
stream's state after it), and refuses what PyTorch's refuses in its words; gradgradcheck's default grad_outputs come
from it, so a script's draws after a gradgradcheck are PyTorch's (found running the custom-Function double-backward
tutorial: every tensor drawn after its first gradgradcheck differed)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

CASES = {
    "float32 default": dict(shape=(3, 4), dtype="float32"),
    "float64 in [-1, 1)": dict(shape=(2, 2), dtype="float64", low=-1, high=1),
    "int64 high is exclusive": dict(shape=(4, 5), dtype="int64", low=0, high=5),
    "int64 bounds rounded up": dict(shape=(4, 5), dtype="int64", low=0.5, high=4.5),
    "int32 default": dict(shape=(3, 4), dtype="int32"),
    "uint8 default clamps to 0": dict(shape=(3, 4), dtype="uint8"),
    "uint8 low below its range": dict(shape=(3, 4), dtype="uint8", low=-3, high=3),
    "int64 exclude_zero": dict(shape=(3, 4), dtype="int64", low=0, high=3, exclude_zero=True),
    "float32 exclude_zero": dict(shape=(3, 4), dtype="float32", low=-0.0, high=0.5, exclude_zero=True),
    "float64 noncontiguous": dict(shape=(2, 3), dtype="float64", noncontiguous=True),
    "int64 noncontiguous": dict(shape=(2, 3), dtype="int64", noncontiguous=True),
    "one element noncontiguous": dict(shape=(1,), dtype="float64", noncontiguous=True),
    "bool": dict(shape=(2, 3), dtype="bool"),
    "bool low=1": dict(shape=(2, 3), dtype="bool", low=1),
    "float32 wider than its range": dict(shape=(2, 3), dtype="float32", low=-1e300, high=1e300),
    "float16": dict(shape=(2, 3), dtype="float16"),
    "complex64": dict(shape=(2, 3), dtype="complex64"),
    "0-dim": dict(shape=(), dtype="float32"),
    "requires_grad": dict(shape=(2, 3), dtype="float32", requires_grad=True),
    "low == high (float)": dict(shape=(2, 3), dtype="float32", low=2, high=2),
    "low > high": dict(shape=(2, 3), dtype="float32", low=3, high=2),
    "low == high (int)": dict(shape=(2, 3), dtype="int64", low=3, high=3),
    "outside uint8": dict(shape=(2, 3), dtype="uint8", low=300, high=400),
    "nan low": dict(shape=(2, 3), dtype="float32", low=float("nan")),
    "integer requires_grad": dict(shape=(2, 3), dtype="int64", requires_grad=True),
    "noncontiguous and memory_format": dict(shape=(2, 3), dtype="float32", noncontiguous=True,
                                            memory_format="contiguous_format"),
}


def _make(lib, case):
    options = dict(case)
    shape, dtype = options.pop("shape"), getattr(lib, options.pop("dtype"))
    if "memory_format" in options:
        options["memory_format"] = getattr(lib, options["memory_format"])
    lib.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            t = lib.testing.make_tensor(shape, dtype=dtype, device="cpu", **options)
            made = (t.detach().numpy().copy(), str(t.dtype), t.is_contiguous(), t.requires_grad, tuple(t.stride()))
        except ValueError as error:
            made = str(error)
    after = lib.rand(3).numpy()
    return made, [(w.category.__name__, str(w.message)) for w in caught], after


@pytest.mark.parametrize("name", CASES)
def test_make_tensor_draws_what_pytorch_draws(name):
    ours, theirs = _make(gradscope, CASES[name]), _make(torch, CASES[name])
    if isinstance(theirs[0], str):
        assert ours[0] == theirs[0]
    else:
        np.testing.assert_array_equal(ours[0][0], theirs[0][0])
        assert ours[0][1:] == theirs[0][1:]
    assert ours[1] == theirs[1]
    np.testing.assert_array_equal(ours[2], theirs[2])


def test_gradgradcheck_draws_its_grad_outputs_from_the_random_stream_as_pytorch():
    def run(lib):
        lib.manual_seed(0)
        x = lib.rand(3, 2, requires_grad=True, dtype=lib.float64)
        assert lib.autograd.gradgradcheck(lambda t: (t ** 3, t.sin()), x)
        assert lib.autograd.gradgradcheck(lambda t: t.exp(), x, gen_non_contig_grad_outputs=True)
        return lib.rand(4).numpy()

    np.testing.assert_array_equal(run(gradscope), run(torch))


def test_gradgradcheck_reports_a_wrong_double_backward_with_pytorch_numbers():
    """The tutorial's Sinh that keeps its intermediates on ctx: the first derivative is right, the second is not;
    the message shows the numerical and analytical Jacobians, whose numbers depend on the random grad_outputs."""
    messages = []
    for lib in (gradscope, torch):
        class Sinh(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.expx, ctx.expnegx = x.exp(), (-x).exp()
                return (ctx.expx - ctx.expnegx) / 2

            @staticmethod
            def backward(ctx, grad_out):
                return grad_out * (ctx.expx + ctx.expnegx) / 2

        lib.manual_seed(0)
        x = lib.rand(2, requires_grad=True, dtype=lib.float64)
        with pytest.raises(RuntimeError) as caught:
            lib.autograd.gradgradcheck(Sinh.apply, x)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
