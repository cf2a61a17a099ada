"""MLP training step (forward + backward) against hand-written NumPy, and the cost of recording.

    python bench/mlp.py [--repeats 20]

Two sizes: a medium MLP (batch 64, 256 → 512 → 512 → 10) and a large BLAS-bound one (batch 512,
1024 → 2048 → 2048 → 10). Reports medians in ms and ratios against the NumPy floor (DESIGN §8:
medium ≤ 1.3×, large ≤ 1.1×, recording with full stats ≤ 2× an unrecorded run).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

import numpy as np

import gradscope
from gradscope import nn
from gradscope.trace import Recorder


def numpy_step(x, y, weights):
    """Forward and backward of tanh MLP + MSE, written by hand."""
    activations, h = [x], x
    for i, (w, b) in enumerate(weights):
        z = h @ w.T + b
        h = np.tanh(z) if i < len(weights) - 1 else z
        activations.append(h)
    g = 2 * (h - y) / h.size
    grads = []
    for i in reversed(range(len(weights))):
        w, _ = weights[i]
        if i < len(weights) - 1:
            g = g * (1 - activations[i + 1] ** 2)
        grads.append((g.T @ activations[i], g.sum(0)))
        g = g @ w
    return grads


def build(sizes, batch, rng):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b, dtype=gradscope.float64), nn.Tanh()]
    model = nn.Sequential(*layers[:-1])
    x = rng.standard_normal((batch, sizes[0]))
    y = rng.standard_normal((batch, sizes[-1]))
    return model, x, y


def gradscope_step(model, x, y):
    model.zero_grad()
    nn.functional.mse_loss(model(x), y).backward()


def recorded_step(model, x, y):
    with Recorder():
        gradscope_step(model, x, y)


def median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for label, sizes, batch in (("medium", (256, 512, 512, 10), 64), ("large", (1024, 2048, 2048, 10), 512)):
        model, x_np, y_np = build(sizes, batch, rng)
        x, y = gradscope.tensor(x_np), gradscope.tensor(y_np)
        linears = [m for m in model if isinstance(m, nn.Linear)]
        weights = [(m.weight.detach().numpy(), m.bias.detach().numpy()) for m in linears]
        floor = median_ms(functools.partial(numpy_step, x_np, y_np, weights), args.repeats)
        ours = median_ms(functools.partial(gradscope_step, model, x, y), args.repeats)
        record = median_ms(functools.partial(recorded_step, model, x, y), max(3, args.repeats // 4))
        print(f"{label:>6} MLP {sizes} batch {batch}: numpy {floor:7.2f} ms | gradscope {ours:7.2f} ms "
              f"({ours / floor:4.2f}x) | recorded {record:7.2f} ms ({record / ours:4.2f}x unrecorded)")


if __name__ == "__main__":
    main()
