"""Batch, layer and group norm nodes save what PyTorch's save, as PyTorch shows it: the mean and rstd (`_saved_result1`,
`_saved_result2`; batch norm's empty in eval mode), layer norm's bias, group norm's N, C and HxW, batch norm's running
statistics as the module's own tensors (not arrays), version-checked: changed in place before the backward, the
backward refuses, as PyTorch's (gradscope used the changed values). Saved-tensor hooks pack them in PyTorch's order."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).standard_normal((4, 3, 2))
W = np.random.default_rng(1).standard_normal(3)
B = np.random.default_rng(2).standard_normal(3)


def _tensors(lib):
    x, w, b = (lib.tensor(v, requires_grad=True) for v in (X, W, B))
    mean, var = lib.full((3,), 0.5, dtype=lib.float64), lib.full((3,), 2.0, dtype=lib.float64)
    return x, w, b, mean, var


CASES = {
    "batch_norm_train": lambda F, x, w, b, m, v: F.batch_norm(x, m, v, w, b, training=True),
    "batch_norm_eval": lambda F, x, w, b, m, v: F.batch_norm(x, m, v, w, b),
    "batch_norm_no_statistics": lambda F, x, w, b, m, v: F.batch_norm(x, None, None, w, b, training=True),
    "batch_norm_plain": lambda F, x, w, b, m, v: F.batch_norm(x, m, v, training=True),
    "layer_norm": lambda F, x, w, b, m, v: F.layer_norm(x, (2,), w[:2], b[:2]),
    "layer_norm_weight_only": lambda F, x, w, b, m, v: F.layer_norm(x, (2,), w[:2]),
    "layer_norm_plain": lambda F, x, w, b, m, v: F.layer_norm(x, (3, 2)),
    "group_norm": lambda F, x, w, b, m, v: F.group_norm(x, 3, w, b),
    "group_norm_plain": lambda F, x, w, b, m, v: F.group_norm(x, 1),
}


def _saved(lib, name):
    x, w, b, mean, var = _tensors(lib)
    names = {id(x): "input", id(w): "weight", id(b): "bias", id(mean): "running_mean", id(var): "running_var"}
    packed = []

    def pack(t):
        packed.append(names.get(id(t), f"{list(t.shape)} {t.requires_grad}"))
        return t

    with lib.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        node = CASES[name](lib.nn.functional, x, w, b, mean, var).grad_fn
    node = CASES[name](lib.nn.functional, x, w, b, mean, var).grad_fn
    shown = {}
    for attribute in sorted(a for a in dir(node) if a.startswith("_saved_")):
        value = getattr(node, attribute)
        if isinstance(value, lib.Tensor):
            shown[attribute] = (names.get(id(value)), str(value.dtype), tuple(value.shape), value.requires_grad,
                                value.detach().numpy().copy())
        else:
            shown[attribute] = value if not isinstance(value, tuple) else tuple(value)
    return packed, shown


@pytest.mark.parametrize("name", sorted(CASES))
def test_norm_node_saves_what_torch_saves(name):
    packed, shown = _saved(gradscope, name)
    packed_t, shown_t = _saved(torch, name)
    assert sorted(shown) == sorted(shown_t)
    for attribute, value in shown.items():
        expected = shown_t[attribute]
        if isinstance(value, tuple) and len(value) == 5 and isinstance(value[4], np.ndarray):
            assert value[:4] == expected[:4], attribute
            np.testing.assert_allclose(value[4], expected[4], rtol=1e-12, atol=1e-14, err_msg=attribute)
        else:
            assert value == expected, attribute
    if name.startswith("batch_norm") and "running_mean" in packed_t:
        # NOTE: held tensors are packed after the node's saved ones (PyTorch packs its saved inputs by name, the
        # running statistics between input and weight)
        assert sorted(packed) == sorted(packed_t)
    else:
        assert packed == packed_t


@pytest.mark.parametrize("training", [False, True])
def test_batch_norm_refuses_a_running_statistic_changed_before_backward(training):
    def run(lib):
        module = lib.nn.BatchNorm1d(3)
        module.train(training)
        x = lib.tensor(X[..., 0].astype(np.float32), requires_grad=True)
        y = module(x)
        assert y.grad_fn._saved_running_var is module.running_var
        module.running_var.add_(1)
        with pytest.raises(RuntimeError) as error:
            y.sum().backward()
        return str(error.value)

    assert run(gradscope) == run(torch)


def test_batch_norm_two_forwards_before_backward_still_run():
    """The kernel's own update of the running statistics is no in-place change a backward checks (no version bump)."""
    def run(lib):
        module = lib.nn.BatchNorm1d(3)
        x = lib.tensor(X[..., 0].astype(np.float32), requires_grad=True)
        (module(x) * 2 + module(x)).sum().backward()
        return x.grad.numpy(), module.running_mean.numpy(), module.running_var._version

    for mine, theirs in zip(run(gradscope), run(torch), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-6)
