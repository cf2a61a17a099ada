"""The VJPs of squeeze and unsqueeze (every form, in place too) are PyTorch's: differentiated again they record
unsqueeze_to's UnsqueezeBackward0 nodes (one per squeezed dim of size 1, none for a dim that was not 1) and
squeeze's SqueezeBackward1, with torch's saved dims. squeeze, unsqueeze and transpose keep a negative dim as given
(shown as uint64), as PyTorch's nodes do."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

FORMS = {
    "unsqueeze": lambda x: x.unsqueeze(1),
    "unsqueeze-negative": lambda x: x.unsqueeze(-1),
    "squeeze": lambda x: x.squeeze(),
    "squeeze-dim": lambda x: x.squeeze(1),
    "squeeze-not-one": lambda x: x.squeeze(0),
    "squeeze-negative": lambda x: x.squeeze(-1),
    "squeeze-dims": lambda x: x.squeeze((3, 0, 1)),
    "squeeze_": lambda x: x.clone().squeeze_(),
    "squeeze_-dim": lambda x: x.clone().squeeze_(1),
    "unsqueeze_": lambda x: x.clone().unsqueeze_(2),
    "squeeze_-dims": lambda x: x.clone().squeeze_((1, 3)),
    "transpose-negative": lambda x: x.transpose(-1, 0),
    "transpose-both-negative": lambda x: x.transpose(-2, -4),
}


def _graph(fn) -> list:
    names = []
    while fn is not None:
        names.append((fn.name(), sorted((k, getattr(fn, k)) for k in dir(fn) if k.startswith("_saved_"))))
        fn = fn.next_functions[0][0] if fn.next_functions else None
    return names


@pytest.mark.parametrize("form", list(FORMS))
def test_second_order_graph_and_values_match_torch(form):
    a = np.random.default_rng(0).normal(size=(2, 1, 3, 1))
    results = []
    for lib in (gradscope, torch):
        x = lib.tensor(a, requires_grad=True)
        y = FORMS[form](x)
        g = lib.tensor(np.arange(float(y.numel())).reshape(tuple(y.shape)), requires_grad=True)
        (gx,) = lib.autograd.grad(y, x, g, create_graph=True)
        (gg,) = lib.autograd.grad((gx * gx).sum(), g)
        results.append((_graph(gx.grad_fn), gx.detach().numpy(), gg.numpy()))
    assert results[0][0] == results[1][0]
    for ours, theirs in zip(results[0][1:], results[1][1:], strict=True):
        np.testing.assert_array_equal(ours, theirs)
