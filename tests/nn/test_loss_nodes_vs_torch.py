"""What the debugger shows of a loss's graph is PyTorch's: for every loss in nn.functional, each node of the
graph has PyTorch's name, the same `_saved_*` and `_raw_saved_*` attributes, and each saved value equals
PyTorch's (tensors by dtype, shape and values; ints, floats, tuples and None exactly)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

RNG_SEED = 1


def _cases():
    rng = np.random.default_rng(0)
    x, t, p, tp = (rng.uniform(-1, 1, (4, 5)), rng.uniform(-1, 1, (4, 5)), rng.uniform(0.05, 0.95, (4, 5)),
                   rng.uniform(0.05, 0.95, (4, 5)))
    classes, w, w4 = rng.integers(0, 5, 4), rng.uniform(0.1, 1, 5), rng.uniform(0.1, 1, (4, 5))
    x4, classes4 = rng.uniform(-1, 1, (2, 3, 4, 5)), rng.integers(0, 3, (2, 4, 5))
    x3, classes3 = rng.uniform(-1, 1, (2, 3, 6)), rng.integers(0, 3, (2, 6))
    signs = np.sign(t)
    for red in ("mean", "sum", "none"):
        yield f"mse-{red}", lambda L, F, r=red: F.mse_loss(leaf(L, x), const(L, t), reduction=r)
        yield f"l1-{red}", lambda L, F, r=red: F.l1_loss(leaf(L, x), const(L, t), reduction=r)
        yield f"smooth_l1-{red}", lambda L, F, r=red: F.smooth_l1_loss(leaf(L, x), leaf(L, t), reduction=r, beta=0.5)
        yield f"huber-{red}", lambda L, F, r=red: F.huber_loss(leaf(L, x), leaf(L, t), reduction=r, delta=0.7)
        yield f"bce-{red}", lambda L, F, r=red: F.binary_cross_entropy(leaf(L, p), const(L, tp), reduction=r)
        yield f"bce_weight-{red}", lambda L, F, r=red: F.binary_cross_entropy(leaf(L, p), const(L, tp),
                                                                            weight=const(L, w4), reduction=r)
        yield f"bce_logits-{red}", lambda L, F, r=red: F.binary_cross_entropy_with_logits(leaf(L, x), const(L, tp),
                                                                                         reduction=r)
        yield f"bce_logits_weights-{red}", lambda L, F, r=red: F.binary_cross_entropy_with_logits(
            leaf(L, x), const(L, tp), weight=const(L, w4), pos_weight=const(L, w), reduction=r)
        yield f"nll-{red}", lambda L, F, r=red: F.nll_loss(leaf(L, x), const(L, classes), reduction=r)
        yield f"nll_weight_ignore-{red}", lambda L, F, r=red: F.nll_loss(
            leaf(L, x), const(L, classes), weight=const(L, w), ignore_index=2, reduction=r)
        yield f"nll_unbatched-{red}", lambda L, F, r=red: F.nll_loss(leaf(L, x[0]), const(L, np.array(3)), reduction=r)
        yield f"nll_4d-{red}", lambda L, F, r=red: F.nll_loss(leaf(L, x4), const(L, classes4), reduction=r)
        yield f"nll_3d-{red}", lambda L, F, r=red: F.nll_loss(leaf(L, x3), const(L, classes3), reduction=r)
        yield f"cross_entropy-{red}", lambda L, F, r=red: F.cross_entropy(leaf(L, x), const(L, classes), reduction=r)
        yield f"cross_entropy_smoothed-{red}", lambda L, F, r=red: F.cross_entropy(
            leaf(L, x), const(L, classes), reduction=r, label_smoothing=0.1)
        yield f"cross_entropy_probabilities-{red}", lambda L, F, r=red: F.cross_entropy(leaf(L, x), const(L, tp),
                                                                                       reduction=r)
        yield f"kl_div-{red}", lambda L, F, r=red: F.kl_div(leaf(L, x), const(L, tp),
                                                            reduction="batchmean" if r == "mean" else r)
        yield f"kl_div_log_target-{red}", lambda L, F, r=red: F.kl_div(leaf(L, x), leaf(L, t), reduction=r,
                                                                       log_target=True)
        yield f"poisson_nll-{red}", lambda L, F, r=red: F.poisson_nll_loss(leaf(L, x), const(L, tp), reduction=r)
        yield f"poisson_nll_full-{red}", lambda L, F, r=red: F.poisson_nll_loss(
            leaf(L, p), const(L, 3 * tp), log_input=False, full=True, reduction=r)
        yield f"gaussian_nll-{red}", lambda L, F, r=red: F.gaussian_nll_loss(leaf(L, x), const(L, t), leaf(L, p),
                                                                             reduction=r)
        yield f"soft_margin-{red}", lambda L, F, r=red: F.soft_margin_loss(leaf(L, x), const(L, signs), reduction=r)
        yield f"multilabel_soft_margin-{red}", lambda L, F, r=red: F.multilabel_soft_margin_loss(
            leaf(L, x), const(L, (t > 0).astype(float)), reduction=r)
        yield f"hinge_embedding-{red}", lambda L, F, r=red: F.hinge_embedding_loss(leaf(L, x), const(L, signs),
                                                                                   reduction=r)
        yield f"cosine_embedding-{red}", lambda L, F, r=red: F.cosine_embedding_loss(
            leaf(L, x), leaf(L, t), const(L, signs[:, 0]), reduction=r)
        yield f"margin_ranking-{red}", lambda L, F, r=red: F.margin_ranking_loss(
            leaf(L, x[0]), leaf(L, t[0]), const(L, signs[0]), reduction=r)
        yield f"triplet_margin-{red}", lambda L, F, r=red: F.triplet_margin_loss(leaf(L, x), leaf(L, t), leaf(L, p),
                                                                                 reduction=r)


def leaf(lib, array):
    return lib.tensor(array.astype(np.float32), requires_grad=True)


def const(lib, array):
    return lib.tensor(array.astype(np.float32) if array.dtype.kind == "f" else array)


CASES = dict(_cases())


def describe(value, lib):
    if isinstance(value, lib.Tensor):
        return ("Tensor", str(value.dtype).split(".")[-1], tuple(value.shape), value.detach().numpy(),
                value.requires_grad)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(describe(v, lib) for v in value))
    return (type(value).__name__, value)


def same(a, b) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True)
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6) or (math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b


def shown(node, lib) -> dict:
    """The node's `_saved_*` values and `_raw_saved_*` kinds, as a debugger reads them."""
    out = {}
    for name in dir(node):
        if name.startswith("_saved_"):
            out[name] = describe(getattr(node, name), lib)
        elif name.startswith("_raw_saved_"):
            out[name] = ("raw", type(getattr(node, name)).__name__)
    return out


def graph(loss) -> list:
    """The nodes breadth first from loss.grad_fn, as (path, node)."""
    order, queue, seen = [], [("", loss.grad_fn)], set()
    while queue:
        path, node = queue.pop(0)
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        order.append((path, node))
        queue += [(f"{path}.{i}", child) for i, (child, _) in enumerate(node.next_functions)]
    return order


def differences(build) -> list[str]:
    theirs = graph(build(torch, torch.nn.functional))
    ours = graph(build(gradscope, gradscope.nn.functional))
    names = [(path, type(node).__name__) for path, node in theirs]
    if names != [(path, type(node).__name__) for path, node in ours]:
        return [f"graph {names} vs {[(path, type(node).__name__) for path, node in ours]}"]
    found = []
    for (path, their_node), (_, our_node) in zip(theirs, ours):
        label = f"{type(their_node).__name__}@{path or 'root'}"
        expected, got = shown(their_node, torch), shown(our_node, gradscope)
        if set(expected) != set(got):
            found.append(f"{label}: only PyTorch's {sorted(set(expected) - set(got))}, "
                         f"only ours {sorted(set(got) - set(expected))}")
        found += [f"{label}.{name}: {expected[name]!r} vs {got[name]!r}"
                  for name in sorted(set(expected) & set(got)) if not same(expected[name], got[name])]
    return found


@pytest.mark.parametrize("name", list(CASES))
def test_loss_graph_shows_what_pytorch_shows(name):
    assert differences(CASES[name]) == []
