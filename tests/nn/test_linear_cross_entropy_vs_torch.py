"""F.linear_cross_entropy and nn.LinearCrossEntropyLoss (PyTorch 2.13) against torch: values, gradients and
graph over drawn shapes (unbatched, K-dimensional out_features, bias, class weights, probabilities as target,
label smoothing, ignore_index, every reduction), with and without `options` (PyTorch's chunked op: one node of
its name, or a warning and the reference), and the errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradscope

torch = pytest.importorskip("torch")


def _names(fn, depth: int = 4) -> list:
    names, frontier = [], [fn]
    for _ in range(depth):
        names.append([None if f is None else f.name() for f in frontier])
        frontier = [n for f in frontier if f is not None for n, _ in f.next_functions]
        if not frontier:
            break
    return names


@st.composite
def _cases(draw):
    batched = draw(st.booleans())
    out_features = draw(st.sampled_from([(), (), (2,)])) if batched else ()
    return dict(batch=draw(st.integers(1, 4)) if batched else None, in_features=draw(st.integers(1, 4)),
                classes=draw(st.integers(2, 5)), out_features=out_features, bias=draw(st.booleans()),
                class_weights=draw(st.booleans()), probabilities=draw(st.booleans()),
                reduction=draw(st.sampled_from(["mean", "sum", "none"])),
                smoothing=draw(st.sampled_from([0.0, 0.0, 0.2])), ignore=draw(st.booleans()),
                options=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


def _run(lib, case):
    rng = np.random.default_rng(case["seed"])
    batch = () if case["batch"] is None else (case["batch"],)
    classes, out_features = case["classes"], case["out_features"]
    x = lib.tensor(rng.normal(size=batch + (case["in_features"],)), requires_grad=True)
    w = lib.tensor(rng.normal(size=(classes, *out_features, case["in_features"])), requires_grad=True)
    b = lib.tensor(rng.normal(size=(classes, *out_features)), requires_grad=True) if case["bias"] else None
    if case["probabilities"]:
        target = lib.tensor(rng.dirichlet(np.ones(classes), size=batch + out_features).transpose(
            *(range(len(batch))), -1, *range(len(batch), len(batch) + len(out_features))))
    else:
        labels = rng.integers(0, classes, size=batch + out_features)
        if case["ignore"] and labels.size > 1:
            labels.flat[0] = 1
        target = lib.tensor(labels)
    kwargs = dict(linear_bias=b, reduction=case["reduction"], label_smoothing=case["smoothing"])
    if case["class_weights"]:
        kwargs["weight"] = lib.tensor(rng.uniform(0.5, 2.0, size=classes))
    if case["ignore"] and not case["probabilities"]:
        kwargs["ignore_index"] = 1
    if case["options"]:
        kwargs["options"] = lib.nn.LinearCrossEntropyOptions()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss = lib.nn.functional.linear_cross_entropy(x, w, target, **kwargs)
    wanted = [t for t in (x, w, b) if t is not None]
    grads = lib.autograd.grad((loss * loss).sum(), wanted)
    return ([loss.detach().numpy()] + [g.numpy() for g in grads], _names(loss.grad_fn),
            [str(c.message) for c in caught if "linear_cross_entropy" in str(c.message)])


@settings(deadline=None, max_examples=150)
@given(case=_cases())
def test_values_gradients_and_graph_match_torch(case):
    ours, theirs = _run(gradscope, case), _run(torch, case)
    for a, b in zip(ours[0], theirs[0], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert ours[1] == theirs[1]
    assert ours[2] == [text.replace("torch.int64", "torch.int64") for text in theirs[2]]


def test_the_module_matches_torch():
    results = []
    for lib in (gradscope, torch):
        lib.manual_seed(0)
        m = lib.nn.LinearCrossEntropyLoss(3, 4, out_features=(2,), bias=True, dtype=lib.float64,
                                          label_smoothing=0.1)
        x = lib.tensor(np.linspace(-1, 1, 6).reshape(2, 3))
        loss = m(x, lib.tensor([[0, 3], [2, 1]]))
        loss.backward()
        results.append((float(loss), m.linear.weight.grad.numpy(), repr(m), sorted(m.state_dict())))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10)
    assert results[0][2:] == results[1][2:]


def _error(call) -> str:
    try:
        call()
    except (RuntimeError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return "no error"


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(2, 2, 3), lib.ones(4, 3), lib.tensor([0, 1])),
    lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(2, 3), lib.ones(3), lib.tensor([0, 1])),
    lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(2, 3), lib.ones(4, 2), lib.tensor([0, 1])),
    lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(2, 3), lib.ones(4, 3), lib.tensor([0, 1]),
                                                       linear_bias=lib.ones(3)),
    lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(3), lib.ones(4, 2, 3), lib.tensor([0, 1])),
    lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(2, 3), lib.ones(4, 3), lib.ones(2, 4),
                                                       ignore_index=0),
    lambda lib: lib.nn.LinearCrossEntropyLoss(3, 4, weight=lib.ones(3)),
    lambda lib: lib.nn.LinearCrossEntropyLoss(3, 4, label_smoothing=1.5),
])
def test_errors_match_torch(call):
    assert _error(lambda: call(gradscope)) == _error(lambda: call(torch))

