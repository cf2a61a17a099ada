"""Lazy modules against PyTorch: reprs before and after the first call, the shapes they infer, the
class they become, their outputs and gradients once given PyTorch's state, and state-dict loading."""

from __future__ import annotations

import math

import numpy as np
import pytest
from module_oracle import require_torch, run_both

import gradscope
import gradscope.nn as gnn


@pytest.fixture(autouse=True)
def _seed():
    gradscope.manual_seed(0)


def _randn(*shape):
    return lambda torch: (torch.randn(*shape, dtype=torch.float64, requires_grad=True),)


LAZY = {
    "linear": (lambda nn: nn.LazyLinear(3), (2, 5)),
    "linear no bias 3-D": (lambda nn: nn.LazyLinear(2, bias=False), (2, 3, 4)),
    "conv1d": (lambda nn: nn.LazyConv1d(4, 3, padding=1), (2, 3, 6)),
    "conv2d unbatched": (lambda nn: nn.LazyConv2d(2, 2, stride=2), (3, 4, 4)),
    "conv2d groups": (lambda nn: nn.LazyConv2d(4, 3, groups=2, padding_mode="reflect", padding=1), (1, 2, 4, 4)),
    "conv3d": (lambda nn: nn.LazyConv3d(2, 2), (1, 3, 3, 3, 3)),
    "conv_transpose1d": (lambda nn: nn.LazyConvTranspose1d(2, 3, stride=2), (2, 3, 4)),
    "conv_transpose2d": (lambda nn: nn.LazyConvTranspose2d(4, 2, groups=2, output_padding=1, stride=2),
                         (1, 2, 3, 3)),
    "conv_transpose3d": (lambda nn: nn.LazyConvTranspose3d(2, 2, bias=False), (1, 2, 2, 2, 2)),
    "batchnorm1d": (lambda nn: nn.LazyBatchNorm1d(), (4, 3)),
    "batchnorm2d": (lambda nn: nn.LazyBatchNorm2d(momentum=None), (2, 3, 2, 2)),
    "batchnorm3d untracked": (lambda nn: nn.LazyBatchNorm3d(track_running_stats=False), (2, 2, 2, 2, 2)),
    "instancenorm1d": (lambda nn: nn.LazyInstanceNorm1d(), (2, 3, 4)),
    "instancenorm2d plain": (lambda nn: nn.LazyInstanceNorm2d(affine=False, track_running_stats=False),
                             (2, 3, 3, 3)),
    "instancenorm3d": (lambda nn: nn.LazyInstanceNorm3d(bias=False), (1, 2, 2, 3, 2)),
}


@pytest.mark.parametrize("case", LAZY)
def test_lazy_module_materialises_like_torch(case):
    torch = require_torch()
    make, shape = LAZY[case]
    theirs, ours = make(torch.nn), make(gnn)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert all(repr(value) == repr(theirs.state_dict()[key]) for key, value in ours.state_dict().items())
    torch_input = torch.randn(*shape)
    their_out, our_out = theirs(torch_input), ours(gradscope.tensor(torch_input.numpy()))
    assert type(ours).__name__ == type(theirs).__name__
    assert repr(ours) == repr(theirs)
    assert tuple(our_out.shape) == tuple(their_out.shape)
    assert [(n, tuple(p.shape), type(p).__name__) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape), type(p).__name__) for n, p in theirs.named_parameters()]
    assert [(n, tuple(b.shape)) for n, b in ours.named_buffers()] == \
        [(n, tuple(b.shape)) for n, b in theirs.named_buffers()]
    theirs, ours = theirs.double(), ours.double()
    ours.load_state_dict({k: gradscope.tensor(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()})
    run_both(ours, theirs, _randn(*shape), calls=2)


def test_materialised_parameters_get_the_default_init():
    layer = gnn.LazyLinear(64)
    layer(gradscope.ones(2, 16))
    bound = 1 / math.sqrt(16)
    for param in (layer.weight, layer.bias):
        values = param.detach().numpy()
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.8 * bound  # spread over the interval, not zeros
    norm = gnn.LazyBatchNorm1d()
    norm(gradscope.randn(4, 3))
    np.testing.assert_array_equal(norm.weight.detach().numpy(), np.ones(3))
    assert norm.num_batches_tracked.item() == 1


def test_an_optimiser_built_before_the_first_call_trains_the_materialised_parameters():
    layer = gnn.LazyLinear(2)
    optimizer = gradscope.optim.SGD(layer.parameters(), lr=0.5)
    layer(gradscope.ones(3, 4)).sum().backward()
    before = layer.weight.detach().numpy().copy()
    optimizer.step()
    np.testing.assert_allclose(layer.weight.detach().numpy(), before - 0.5 * 3.0)


def test_dtype_conversion_before_the_first_call_keeps_the_placeholders_lazy():
    norm = gnn.LazyBatchNorm2d().double()
    assert isinstance(norm.weight, gnn.UninitializedParameter)
    assert isinstance(norm.running_mean, gnn.UninitializedBuffer)
    norm(gradscope.randn(2, 3, 2, 2, dtype=gradscope.float64))
    assert norm.weight.dtype == norm.running_mean.dtype == gradscope.float64
    assert type(norm) is gnn.BatchNorm2d


def test_loading_a_state_dict_materialises_from_the_loaded_shapes():
    torch = require_torch()
    theirs = torch.nn.Linear(4, 3)
    ours = gnn.LazyLinear(3)
    ours.load_state_dict({k: gradscope.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    assert type(ours) is gnn.LazyLinear and tuple(ours.weight.shape) == (3, 4)
    x = torch.randn(2, 4)
    np.testing.assert_allclose(ours(gradscope.tensor(x.numpy())).detach().numpy(), theirs(x).detach().numpy(),
                               rtol=1e-6)
    assert repr(ours) == "Linear(in_features=4, out_features=3, bias=True)"


def test_placeholders_refuse_their_shape_as_torch(oracle):
    oracle.check("""
        layer = torch.nn.LazyLinear(3)
        print(layer.weight, torch.nn.UninitializedBuffer())
        layer.weight.shape
    """, stdout="<UninitializedParameter> <UninitializedBuffer>\n",
        error="RuntimeError: Can't access the shape of an uninitialized parameter or buffer. This error usually "
              "happens in `load_state_dict` when trying to load an uninitialized parameter into an initialized one. "
              "Call `forward` to initialize the parameters before accessing their attributes.")


def test_conv_input_of_the_wrong_rank_is_refused_as_torch(oracle):
    oracle.check("torch.nn.LazyConv2d(2, 3)(torch.ones(2, 3))",
                 error="RuntimeError: Expected 3D (unbatched) or 4D (batched) input to LazyConv2d, but got input of "
                       "size: torch.Size([2, 3])")
