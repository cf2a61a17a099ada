"""A full training step (forward, backward, Adam step) against hand-written NumPy doing the same.

    python bench/train_step.py [--repeats 50]

MLP 784 → 256 → 256 → 10 with ReLU, cross-entropy loss, batch 64, float32, Adam (lr 1e-3). Runs on
one BLAS thread so both sides get the same arithmetic; alternates the two and reports medians in ms and the ratio to the
NumPy floor (issue 12 §3: ≤ 1.3×).
"""

from __future__ import annotations

import os

# one BLAS thread for fairness: set before NumPy loads its BLAS
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from heap import aligned  # noqa: E402

import gradscope  # noqa: E402
from gradscope import nn, optim  # noqa: E402

SIZES = (784, 256, 256, 10)
BATCH = 64


class NumpyMLP:
    """The same model, loss and Adam written by hand on float32 arrays."""

    def __init__(self, weights, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params = [aligned(array) for pair in weights for array in pair]  # see heap.aligned
        self.exp_avg = [np.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [np.zeros_like(p) for p in self.params]
        self.lr, self.betas, self.eps, self.t = lr, betas, eps, 0

    def step(self, x, labels):
        self.adam(self.gradients(x, labels))

    def gradients(self, x, labels):
        layers = list(zip(self.params[::2], self.params[1::2], strict=True))
        inputs, h = [], x
        for index, (w, b) in enumerate(layers):
            inputs.append(h)
            h = h @ w.T + b
            if index < len(layers) - 1:
                h = np.maximum(h, 0)
        shifted = h - h.max(1, keepdims=True)
        exp = np.exp(shifted)
        probs = exp / exp.sum(1, keepdims=True)
        g = probs
        g[np.arange(len(labels)), labels] -= 1
        g /= len(labels)
        grads = []
        for index in reversed(range(len(layers))):
            w, _ = layers[index]
            grads[:0] = [g.T @ inputs[index], g.sum(0)]
            if index:
                g = g @ w
                g *= inputs[index] > 0
        return grads

    def adam(self, grads):
        beta1, beta2 = self.betas
        self.t += 1
        step_size = self.lr / (1 - beta1**self.t)
        correction2 = (1 - beta2**self.t) ** 0.5
        for p, g, m, v in zip(self.params, grads, self.exp_avg, self.exp_avg_sq, strict=True):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            denom = np.sqrt(v)
            denom /= correction2
            denom += self.eps
            p -= step_size * m / denom


def gradscope_step(model, opt, x, labels):
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), labels).backward()
    opt.step()


def medians_ms(functions, repeats: int) -> list[float]:
    """Median time of each function, run in turns so that both see the same load on a shared machine."""
    for function in functions:
        for _ in range(3):
            function()
    times = [[] for _ in functions]
    for _ in range(repeats):
        for function, taken in zip(functions, times, strict=True):
            start = time.perf_counter()
            function()
            taken.append(time.perf_counter() - start)
    return [statistics.median(taken) * 1e3 for taken in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    gradscope.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x_np = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    labels_np = rng.integers(0, SIZES[-1], BATCH)
    x, labels = gradscope.tensor(x_np), gradscope.tensor(labels_np)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    by_hand = NumpyMLP([(m.weight.detach().numpy(), m.bias.detach().numpy()) for m in linears])
    floor, ours = medians_ms([lambda: by_hand.step(x_np, labels_np), lambda: gradscope_step(model, opt, x, labels)],
                             args.repeats)
    print(f"train step MLP {SIZES} batch {BATCH} float32 + Adam: numpy {floor:6.3f} ms | "
          f"gradscope {ours:6.3f} ms ({ours / floor:4.2f}x)")
    # the Adam step alone, on the gradients each side's backward left (their layouts included)
    grads = by_hand.gradients(x_np, labels_np)
    adam_floor, adam_ours = medians_ms([lambda: by_hand.adam(grads), opt.step], args.repeats)
    layouts = [param.grad.numpy().flags.c_contiguous for param in model.parameters()]
    print(f"  of which the Adam step: numpy {adam_floor:6.3f} ms | gradscope {adam_ours:6.3f} ms "
          f"({adam_ours / adam_floor:4.2f}x; gradscope's weight gradients arrive "
          f"{'C' if all(layouts) else 'not C'}-contiguous)")


if __name__ == "__main__":
    main()
