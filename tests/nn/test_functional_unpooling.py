"""max_unpool1d/2d and nn.MaxUnpool1d/2d against torch: values, gradients, nodes, reprs, errors."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope as gs

torch = pytest.importorskip("torch")


def test_unpooling_round_trip_matches_torch():
    def run(lib):
        lib.manual_seed(0)
        x = lib.randn(2, 3, 5, 6, requires_grad=True)
        pooled, indices = lib.nn.functional.max_pool2d(x, 2, return_indices=True)
        restored = lib.nn.MaxUnpool2d(2)(pooled, indices, output_size=x.size())
        restored.backward(lib.arange(float(restored.numel())).view(restored.shape))
        y = lib.randn(3, 7, requires_grad=True)  # unbatched 1-d
        pooled1, indices1 = lib.nn.functional.max_pool1d(y, 3, stride=2, return_indices=True)
        restored1 = lib.nn.MaxUnpool1d(3, stride=2)(pooled1, indices1)
        restored1.sum().backward()
        return [restored.detach().numpy(), x.grad.numpy(), type(restored.grad_fn).__name__,
                restored1.detach().numpy(), y.grad.numpy(), type(restored1.grad_fn).__name__,
                repr(lib.nn.MaxUnpool1d(3)), repr(lib.nn.MaxUnpool2d((2, 3), stride=1, padding=1))]

    for ours, theirs in zip(run(gs), run(torch), strict=True):
        if isinstance(theirs, np.ndarray):
            np.testing.assert_array_equal(ours, theirs)
        else:
            assert ours == theirs


def test_volume_unpooling_matches_torch():
    def run(lib):
        lib.manual_seed(1)
        x = lib.randn(1, 2, 4, 4, 6, requires_grad=True)
        pooled, indices = lib.nn.functional.max_pool3d(x, 2, return_indices=True)
        restored = lib.nn.MaxUnpool3d(2)(pooled, indices)
        restored.backward(lib.arange(float(restored.numel())).view(restored.shape))
        errors = []
        for make in (lambda: lib.nn.functional.max_unpool3d(pooled, indices.float(), 2),
                     lambda: lib.nn.functional.max_unpool3d(pooled[0, 0], indices[0, 0], 2),
                     lambda: lib.nn.functional.max_unpool3d(pooled, indices.clamp(max=0) + 500, 2)):
            with pytest.raises(RuntimeError) as info:
                make()
            errors.append(str(info.value))
        return (restored.detach().numpy(), x.grad.numpy(), type(restored.grad_fn).__name__, errors,
                repr(lib.nn.MaxUnpool3d(2)))

    (values, grads, *rest), (their_values, their_grads, *their_rest) = run(gs), run(torch)
    np.testing.assert_array_equal(values, their_values)
    np.testing.assert_array_equal(grads, their_grads)
    assert rest == their_rest


SETUP = "F = torch.nn.functional\nout, idx = F.max_pool2d(torch.arange(16.).view(1, 2, 2, 4), 2, return_indices=True)\n"
ERRORS = {
    "output size out of range": ("F.max_unpool2d(out, idx, 2, output_size=(9, 9))",
                                 'ValueError: invalid output_size "(9, 9)" (dim 0 must be between 0 and 4)'),
    "output size length": ("F.max_unpool2d(out, idx, 2, output_size=(4,))",
                           "ValueError: output_size should be a sequence containing 2 or 4 elements, but it has a "
                           "length of '1'"),
    "index out of range": ("F.max_unpool2d(out, idx * 10, 2)",
                           "RuntimeError: Found an invalid max index: 70 (output volumes are of size 2x4)"),
    "rank": ("F.max_unpool2d(out[0, 0], idx[0, 0], 2)",
             "RuntimeError: Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with 2 dimensions."),
    "index dtype": ("F.max_unpool2d(out, idx.float(), 2)",
                    "RuntimeError: elements in indices should be type int64 but got: Float"),
    "index shape": ("F.max_unpool2d(out, idx[:, :1], 2)",
                    "RuntimeError: Expected shape of indices to be same as that of the input tensor ([1, 2, 1, 2]) "
                    "but got indices tensor with shape: [1, 1, 1, 2]"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_error_matches_torch(case, oracle):
    snippet, error = ERRORS[case]
    oracle.check(SETUP + snippet, error=error)
