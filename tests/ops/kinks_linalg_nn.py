"""Gradients at the kinks of activations, losses and distances, where the derivative is a choice:
PyTorch's choice, stated by hand, and at the edges of their domains (bce at 0 and 1, the norms of zero
vectors, saturated exponentials). test_kinks.py runs the table (`LINALG_NN_KINKS` joins its own)."""

from __future__ import annotations

import math

import numpy as np

INF, NAN = math.inf, math.nan
ONE_SIXTH = float(np.float32(1 / 6))


def _targets(lib, values):
    return lib.tensor(values, dtype=lib.float64)


# name: (call on float64 leaves, input values, expected gradient of call(...).sum() for each input)
LINALG_NN_KINKS = {
    "hardtanh: 0 at both edges": (lambda lib, x: lib.F.hardtanh(x), [[-1.0, 1.0, 0.0, 2.0]], [[0.0, 0.0, 1.0, 0.0]]),
    "relu6: 0 at 0 and at 6": (lambda lib, x: lib.F.relu6(x), [[0.0, 6.0, 3.0, 7.0]], [[0.0, 0.0, 1.0, 0.0]]),
    "threshold: 0 at the threshold": (lambda lib, x: lib.F.threshold(x, 0.5, 9.0), [[0.5, 0.6, 0.4]],
                                      [[0.0, 1.0, 0.0]]),
    "threshold_ masks with the input it overwrote": (
        lambda lib, x: lib.F.threshold(x * 1, 0.5, 9.0, inplace=True), [[0.5, 0.6, 0.4]], [[0.0, 1.0, 0.0]]),
    "elu at 0 takes the exponential branch": (lambda lib, x: lib.F.elu(x, 0.5), [[0.0]], [[0.5]]),
    "elu_ at 0 from the result": (lambda lib, x: lib.F.elu(x * 1, 0.5, inplace=True), [[0.0]], [[0.5]]),
    "celu at 0 is 1": (lambda lib, x: lib.F.celu(x, 0.5), [[0.0]], [[1.0]]),
    "selu at 0 is scale·alpha": (lambda lib, x: lib.F.selu(x), [[0.0]], [[1.7580993408473766]]),
    "hardswish: 0 at -3, 1 at 3": (lambda lib, x: lib.F.hardswish(x), [[-3.0, 3.0, 0.0]], [[0.0, 1.0, 0.5]]),
    "hardsigmoid: 0 at ±3, 1/6 in single precision inside": (
        lambda lib, x: lib.F.hardsigmoid(x), [[-3.0, 3.0, 0.0]], [[0.0, 0.0, ONE_SIXTH]]),
    "prelu at 0 takes the weight's branch": (lambda lib, x, w: lib.F.prelu(x, w), [[0.0, -1.0], [0.25]],
                                             [[0.25, 0.25], [-1.0]]),
    "softplus: the identity strictly above the threshold": (
        lambda lib, x: lib.F.softplus(x, 1, 2.0), [[2.0, 2.1]], [[1 / (1 + math.exp(-2.0)), 1.0]]),
    "softplus, logsigmoid, mish saturate without nan": (
        lambda lib, x: lib.F.softplus(x) + lib.F.logsigmoid(x) + lib.F.mish(x), [[-800.0, 800.0]], [[1.0, 2.0]]),
    "glu at 0": (lambda lib, x: lib.F.glu(x), [[0.0, 0.0]], [[0.5, 0.0]]),
    "l1_loss at 0 is 0": (lambda lib, x, t: lib.F.l1_loss(x, t, reduction="sum"), [[1.0, 2.0], [1.0, 0.0]],
                          [[0.0, 1.0], [0.0, -1.0]]),
    "smooth_l1_loss: 0 at 0, ±1 at beta": (
        lambda lib, x, t: lib.F.smooth_l1_loss(x, t, reduction="sum", beta=0.5),
        [[1.5, 0.0, 0.5], [1.0, 0.0, 0.0]], [[1.0, 0.0, 1.0], [-1.0, 0.0, -1.0]]),
    "huber_loss: ±delta at delta": (lambda lib, x, t: lib.F.huber_loss(x, t, reduction="sum", delta=0.5),
                                    [[1.5, 0.0, -0.5], [1.0, 0.0, 0.0]], [[0.5, 0.0, -0.5], [-0.5, 0.0, 0.5]]),
    "margin_ranking_loss passes the gradient at the hinge": (
        lambda lib, a, b: lib.F.margin_ranking_loss(a, b, _targets(lib, [1.0, -1.0]), reduction="sum"),
        [[1.0, 1.0], [1.0, 1.0]], [[-1.0, 1.0], [1.0, -1.0]]),
    "hinge_embedding_loss at the margin": (
        lambda lib, x: lib.F.hinge_embedding_loss(x, _targets(lib, [-1.0, -1.0]), reduction="sum"),
        [[1.0, 0.5]], [[-1.0, -1.0]]),
    "binary_cross_entropy at 0 and 1": (
        lambda lib, x, t: lib.F.binary_cross_entropy(x, t, reduction="sum"), [[0.0, 1.0, 0.0], [0.0, 1.0, 1.0]],
        [[0.0, 0.0, -1 / float(np.float32(1e-12))], [INF, -INF, INF]]),
    "triplet_margin_loss at equal points": (
        lambda lib, a, p, n: lib.F.triplet_margin_loss(a, p, n, reduction="sum", eps=0.0),
        [[[0.0, 0.0]], [[0.0, 0.0]], [[1.0, 0.0]]], [[[1.0, 0.0]], [[0.0, 0.0]], [[-1.0, 0.0]]]),
    "cosine_similarity of a zero vector: the clamp is invisible to the gradient": (
        lambda lib, a, b: lib.F.cosine_similarity(a, b, 0), [[0.0, 0.0], [1.0, 0.0]], [[1e8, 0.0], [0.0, 0.0]]),
    "pairwise_distance of equal points is 0": (
        lambda lib, a, b: lib.F.pairwise_distance(a, b, eps=0.0), [[[1.0, 0.0]], [[1.0, 0.0]]],
        [[[0.0, 0.0]], [[0.0, 0.0]]]),
    "kl_div: a zero target's own gradient is nan": (
        lambda lib, x, t: lib.F.kl_div(x, t, reduction="sum"), [[0.5, 0.5], [0.0, 1.0]], [[0.0, -1.0], [NAN, 0.5]]),
}
