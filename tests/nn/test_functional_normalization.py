"""Normalisation beyond what the op samples check: PyTorch's errors, running statistics updated in
place (without a version bump, as PyTorch's kernel), float32 kept float32, second order against torch."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope
from gradscope.nn import functional as F

SETUP = "F = torch.nn.functional\nx = torch.ones(2, 4, 7, 6)\n"

ERRORS = {
    "layer_norm shape": ("F.layer_norm(x, (5,))",
                         "RuntimeError: Given normalized_shape=[5], expected input with shape [*, 5], but got input of "
                         "size[2, 4, 7, 6]"),
    "layer_norm two dims": ("F.layer_norm(x, (5, 6))",
                            "RuntimeError: Given normalized_shape=[5, 6], expected input with shape [*, 5, 6], but got "
                            "input of size[2, 4, 7, 6]"),
    "layer_norm weight": ("F.layer_norm(x, (6,), torch.ones(5))",
                          "RuntimeError: Expected weight to be of same shape as normalized_shape, but got weight of "
                          "shape [5] and normalized_shape = [6]"),
    "layer_norm bias": ("F.layer_norm(x, (6,), None, torch.ones(5))",
                        "RuntimeError: Expected bias to be of same shape as normalized_shape, but got bias of shape "
                        "[5] and normalized_shape = [6]"),
    "layer_norm int shape": ("F.layer_norm(x, 6)",
                             "TypeError: layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, "
                             "not int"),
    "layer_norm empty shape": ("F.layer_norm(x, ())",
                               "RuntimeError: Expected normalized_shape to be at least 1-dimensional, i.e., containing "
                               "at least one element, but got normalized_shape = []"),
    "rms_norm shape": ("F.rms_norm(x, (5, 6))",
                       "RuntimeError: Given normalized_shape=[5, 6], expected input with shape [*5, 6], but got input "
                       "of size[2, 4, 7, 6]"),
    "running_mean size": ("F.batch_norm(x, torch.zeros(3), torch.ones(4), training=True)",
                          "RuntimeError: running_mean should contain 4 elements not 3"),
    "bias size": ("F.batch_norm(x, None, None, None, torch.ones(3), training=True)",
                  "RuntimeError: bias should contain 4 elements not 3"),
    "one value per channel": ("F.batch_norm(torch.ones(1, 4), None, None, training=True)",
                              "ValueError: Expected more than 1 value per channel when training, got input size "
                              "torch.Size([1, 4])"),
    "eval without stats": ("F.batch_norm(x, None, None, training=False)",
                           "RuntimeError: running_mean must be defined in evaluation mode"),
    "momentum None": ("F.batch_norm(x, None, None, momentum=None, training=True)",
                      "TypeError: batch_norm(): argument 'momentum' (position 7) must be float, not NoneType"),
    "eps zero": ("F.batch_norm(x, None, None, training=True, eps=0)",
                 "ValueError: batch_norm eps must be positive during training, but got 0"),
    "groups": ("F.group_norm(x, 3)",
               "RuntimeError: Expected number of channels in input to be divisible by num_groups, but got input of "
               "shape [2, 4, 7, 6] and num_groups=3"),
    "group_norm 1-D": ("F.group_norm(torch.ones(4), 2)",
                       "RuntimeError: Expected at least 2 dimensions for input tensor but received 1"),
    "group_norm weight": ("F.group_norm(x, 2, torch.ones(3))",
                          "RuntimeError: Expected weight to be a vector of size equal to the number of channels in "
                          "input, but got weight of shape [3] and input of shape [2, 4, 7, 6]"),
    "group_norm one value": ("F.group_norm(torch.ones(1, 2, 1), 2)",
                             "ValueError: Expected more than 1 value per channel when training, got input size "
                             "[1, 2, 1]"),
    "instance_norm one element": ("F.instance_norm(torch.ones(2, 4, 1))",
                                  "ValueError: Expected more than 1 spatial element when training, got input size "
                                  "torch.Size([2, 4, 1])"),
    "instance_norm without stats": ("F.instance_norm(x, use_input_stats=False)",
                                    "RuntimeError: Expected running_mean and running_var to be defined when "
                                    "use_input_stats is false"),
    # the kernels take floating inputs only; gradscope normalised integers and complex numbers
    "batch_norm long": ("F.batch_norm(x.long(), None, None, training=True)",
                        "NotImplementedError: \"batch_norm\" not implemented for 'Long'"),
    "batch_norm complex running": ("F.batch_norm(x.cfloat(), torch.zeros(4, dtype=torch.cfloat), torch.ones(4, "
                                   "dtype=torch.cfloat), training=True)",
                                   "NotImplementedError: \"batch_norm\" not implemented for 'ComplexFloat'"),
    "batch_norm complex eval": ("F.batch_norm(x.cdouble(), torch.zeros(4), torch.ones(4))",
                                "NotImplementedError: \"batch_norm\" not implemented for 'ComplexDouble'"),
    "instance_norm complex": ("F.instance_norm(x.cfloat())",
                              "NotImplementedError: \"batch_norm\" not implemented for 'ComplexFloat'"),
    "layer_norm long": ("F.layer_norm(x.long(), (6,))",
                        "NotImplementedError: \"LayerNormKernelImpl\" not implemented for 'Long'"),
    "layer_norm complex": ("F.layer_norm(x.cfloat(), (6,))",
                           "NotImplementedError: \"LayerNormKernelImpl\" not implemented for 'ComplexFloat'"),
    "group_norm int": ("F.group_norm(x.int(), 2)",
                       "NotImplementedError: \"GroupNormKernelImpl\" not implemented for 'Int'"),
    "group_norm bool": ("F.group_norm(x.bool(), 2)",
                        "NotImplementedError: \"GroupNormKernelImpl\" not implemented for 'Bool'"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_error_matches_torch(case, oracle):
    snippet, error = ERRORS[case]
    oracle.check(SETUP + snippet, error=error)


def test_running_statistics_are_updated_in_place_without_a_version_bump(oracle):
    oracle.check("""
        x = torch.arange(24.).view(3, 2, 4) ** 1.5
        mean, var = torch.zeros(2), torch.ones(2)
        before = (mean._version, var._version)
        y = torch.nn.functional.batch_norm(x, mean, var, training=True, momentum=0.25)
        print(mean, var, (mean._version, var._version) == before)
        torch.nn.functional.batch_norm(x, mean, var, training=False)
        print(mean, var)
    """, stdout="tensor([ 8.7508, 13.5518]) tensor([241.7820, 355.4521]) True\n"
                "tensor([ 8.7508, 13.5518]) tensor([241.7820, 355.4521])\n")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_running_statistics_match_torch(dtype):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((5, 3, 4)) * 2 + 1
    results = []
    for lib in (gradscope, torch):
        kind = getattr(lib, dtype)
        mean, var = lib.zeros(3, dtype=kind), lib.ones(3, dtype=kind)
        instance_mean, instance_var = lib.zeros(3, dtype=kind), lib.ones(3, dtype=kind)
        for step in range(3):
            batch = lib.tensor(x + step, dtype=kind)
            lib.nn.functional.batch_norm(batch, mean, var, training=True, momentum=0.3)
            lib.nn.functional.instance_norm(batch, instance_mean, instance_var, momentum=0.3)
        results.append([t.numpy() for t in (mean, var, instance_mean, instance_var)])
    for ours, theirs in zip(*results, strict=True):
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=1e-5 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("call", [
    lambda x, w: F.layer_norm(x, (5,), w[:5], w[:5]),
    lambda x, w: F.batch_norm(x, gradscope.zeros(3), gradscope.ones(3), w[:3], w[:3], training=True),
    lambda x, w: F.batch_norm(x, gradscope.zeros(3), gradscope.ones(3), w[:3], w[:3], training=False),
    lambda x, w: F.group_norm(x, 3, w[:3], w[:3]),
    lambda x, w: F.instance_norm(x, weight=w[:3], bias=w[:3]),
    lambda x, w: F.rms_norm(x, (4, 5), w.view(4, 5)),
    lambda x, w: F.normalize(x),
])
def test_float32_stays_float32(call):
    x = gradscope.randn(2, 3, 4, 5, requires_grad=True)
    w = gradscope.randn(20, requires_grad=True)
    out = call(x, w)
    grads = gradscope.autograd.grad(out.sum(), [x, w], allow_unused=True)
    assert out.dtype == gradscope.float32
    assert all(g is None or g.dtype == gradscope.float32 for g in grads)


@pytest.mark.parametrize("name, call", [
    ("layer_norm", lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (3, 4), w.view(3, 4), b.view(3, 4))),
    ("batch_norm", lambda lib, x, w, b: lib.nn.functional.batch_norm(x, None, None, w[:3], b[:3], training=True)),
    ("group_norm", lambda lib, x, w, b: lib.nn.functional.group_norm(x, 3, w[:3], b[:3])),
    ("instance_norm", lambda lib, x, w, b: lib.nn.functional.instance_norm(x, weight=w[:3], bias=b[:3])),
])
def test_second_order_matches_torch(name, call):
    """The statistics move with the input: second derivatives must include that (as torch's do)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(name))
    arrays = [rng.standard_normal((2, 3, 4)), rng.standard_normal(12), rng.standard_normal(12)]
    results = []
    for lib in (gradscope, torch):
        leaves = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = call(lib, *leaves)
        grads = lib.autograd.grad((out ** 3).sum(), leaves, create_graph=True)
        second = lib.autograd.grad(sum((g * g).sum() for g in grads), leaves)
        results.append([g.detach().numpy() for g in grads + second])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-10)
