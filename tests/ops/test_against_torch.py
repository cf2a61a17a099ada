"""Every sample against PyTorch: values, dtypes, grad_fn names and gradients; and type promotion.

Skipped without torch; the promotion table also holds the expected dtypes by hand, so it checks
gradscope without torch too.
"""

from __future__ import annotations

import numpy as np
import pytest
from finite_differences import Lib, as_array, cotangents, differentiable_outputs, evaluate, vjp
from known_bugs import FIRST_ORDER, with_xfails
from samples import SAMPLES

import gradscope

GRADSCOPE = Lib(gradscope, gradscope.nn.functional)

# grad_fn names still different from torch's, each pinned (ours, torch's, why) so a fix is noticed
NAME_DEVIATIONS: dict[str, tuple[str, str, str]] = {
    "scaled_dot_product_attention_flash_shapes[1x2x2x2,1x2x3x2,1x2x3x2]": (
        "UnsafeViewBackward0", "ScaledDotProductFlashAttentionForCpuBackward0",
        "attention is the math path composed; PyTorch's CPU dispatch takes a fused flash kernel for 4-D inputs "
        "with equal head sizes"),
}


@pytest.fixture(scope="module")
def torch_lib():
    torch = pytest.importorskip("torch")
    return Lib(torch, torch.nn.functional)


def _outputs(result) -> list:
    return list(result) if isinstance(result, tuple) else [result]


def _run(lib: Lib, sample, arrays: list[np.ndarray], dtype_name: str) -> list:
    inputs = [lib.tensor(a).to(getattr(lib, dtype_name)).requires_grad_() for a in arrays]
    return _outputs(sample.fn(lib, *inputs))


@pytest.mark.parametrize("sample", with_xfails(SAMPLES, FIRST_ORDER), ids=str)
def test_values_names_and_gradients_match_torch(sample, torch_lib):
    arrays = sample.inputs()
    ours, theirs = _run(GRADSCOPE, sample, arrays, "float64"), _run(torch_lib, sample, arrays, "float64")
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs, strict=True):
        assert str(mine.dtype) == str(reference.dtype)
        assert tuple(mine.shape) == tuple(reference.shape)
        np.testing.assert_allclose(as_array(mine), as_array(reference), rtol=1e-12, atol=1e-12)
        assert mine.requires_grad == reference.requires_grad
        names = (mine.grad_fn and mine.grad_fn.name(), reference.grad_fn and reference.grad_fn.name())
        if sample.name in NAME_DEVIATIONS:
            assert names == NAME_DEVIATIONS[sample.name][:2]
        else:
            assert names[0] == names[1]

    u = cotangents(sample, evaluate(GRADSCOPE, sample, arrays))
    for mine, reference in zip(vjp(GRADSCOPE, sample, arrays, u), vjp(torch_lib, sample, arrays, u), strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_float32_dtypes_match_torch(sample, torch_lib):
    arrays = sample.inputs()
    ours, theirs = _run(GRADSCOPE, sample, arrays, "float32"), _run(torch_lib, sample, arrays, "float32")
    assert [str(out.dtype) for out in ours] == [str(out.dtype) for out in theirs]
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(as_array(mine), as_array(reference), rtol=1e-5, atol=1e-5)
    inputs_ours = [gradscope.tensor(a, dtype=gradscope.float32, requires_grad=True) for a in arrays]
    outputs = differentiable_outputs(sample.fn(GRADSCOPE, *inputs_ours))
    grads = gradscope.autograd.grad(outputs, inputs_ours, [gradscope.ones_like(out) for out in outputs],
                                    allow_unused=True)
    assert all(g is None or g.dtype == gradscope.float32 for g in grads)
