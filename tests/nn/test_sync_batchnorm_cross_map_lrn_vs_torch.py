"""nn.SyncBatchNorm (without a process group: PyTorch's batch norm over 2-D or larger input), its
convert_sync_batchnorm; nn.CrossMapLRN2d (Lua Torch's LRN, a Function whose node is CrossMapLRN2dBackward);
optim.SparseAdam's checks and its refusal of dense gradients. Against torch."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _error(call) -> str:
    try:
        call()
    except (RuntimeError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return "no error"


@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 2), (2, 3, 2, 2), (2, 3, 1, 2, 2)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_sync_batchnorm_is_a_batch_norm_without_a_process_group(shape, momentum):
    a = np.random.default_rng(0).normal(size=shape)
    results = []
    for lib in (gradscope, torch):
        m = lib.nn.SyncBatchNorm(3, momentum=momentum, dtype=lib.float64)
        x = lib.tensor(a, requires_grad=True)
        for _ in range(2):
            y = m(x)
        (y * y).sum().backward()
        m.eval()
        z = m(x)
        results.append([y.detach().numpy(), z.detach().numpy(), x.grad.numpy(), m.weight.grad.numpy(),
                        m.running_mean.numpy(), m.running_var.numpy(), y.grad_fn.name(), repr(m),
                        sorted(m.state_dict()), int(m.num_batches_tracked)])
    for ours, theirs in zip(*results, strict=True):
        if isinstance(ours, np.ndarray):
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
        else:
            assert ours == theirs


def test_sync_batchnorm_errors_and_conversion():
    for call in (lambda lib: lib.nn.SyncBatchNorm(3)(lib.ones(3)), lambda lib: lib.nn.SyncBatchNorm(0)(lib.ones(2, 0))):
        assert _error(lambda call=call: call(gradscope)) == _error(lambda call=call: call(torch))
    reprs = []
    for lib in (gradscope, torch):
        model = lib.nn.Sequential(lib.nn.Conv2d(1, 2, 1), lib.nn.BatchNorm2d(2),
                                  lib.nn.Sequential(lib.nn.BatchNorm1d(2)))
        model[1].eval()
        converted = lib.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        assert converted[1].weight is model[1].weight and not converted[1].training
        reprs.append(repr(converted))
    assert reprs[0] == reprs[1]


@pytest.mark.parametrize("size", [2, 3, 4, 5])
@pytest.mark.parametrize("channels", [1, 3, 6])
def test_cross_map_lrn2d_matches_torch(size, channels):
    rng = np.random.default_rng(size * 10 + channels)
    a, g = rng.normal(size=(2, channels, 3, 2)), rng.normal(size=(2, channels, 3, 2))
    results = []
    for lib in (gradscope, torch):
        x = lib.tensor(a, requires_grad=True)
        m = lib.nn.CrossMapLRN2d(size, 0.3, 0.6, 1.5)
        y = m(x)
        y.backward(lib.tensor(g))
        results.append((y.detach().numpy(), x.grad.numpy(), y.grad_fn.name(), repr(m)))
    (y0, g0, *rest0), (y1, g1, *rest1) = results
    np.testing.assert_allclose(y0, y1, rtol=1e-13)
    np.testing.assert_allclose(g0, g1, rtol=1e-12, atol=1e-14)
    assert rest0 == rest1


def test_cross_map_lrn2d_errors_match_torch():
    for call in (lambda lib: lib.nn.CrossMapLRN2d(3)(lib.ones(2, 3, 3)),
                 lambda lib: lib.nn.CrossMapLRN2d(1)(lib.ones(1, 3, 2, 2, requires_grad=True)).sum().backward()):
        assert _error(lambda call=call: call(gradscope)) == _error(lambda call=call: call(torch))


def test_sparse_adam_checks_and_refuses_dense_gradients():
    for kwargs in ({"lr": 0.0}, {"eps": 0.0}, {"betas": (1.0, 0.9)}, {"betas": (0.9, -0.1)}):
        ours = _error(lambda kwargs=kwargs: gradscope.optim.SparseAdam([gradscope.ones(2, requires_grad=True)],
                                                                       **kwargs))
        assert ours == _error(lambda kwargs=kwargs: torch.optim.SparseAdam([torch.ones(2, requires_grad=True)],
                                                                            **kwargs))
    for lib in (gradscope, torch):
        w = lib.ones(2, requires_grad=True)
        (w * 2).sum().backward()
        with pytest.raises(RuntimeError, match=r"^SparseAdam does not support dense gradients, please consider Adam "
                                               r"instead"):
            lib.optim.SparseAdam([w]).step()
