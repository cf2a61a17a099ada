"""Per-op overhead of forward + backward: a 1,000-op elementwise chain on a 16-element float64 vector.

Compares gradscope with hand-written NumPy doing the same arithmetic (the floor) and, when
installed, PyTorch eager on the CPU. Reports the median over repeats in µs per op.

    python bench/engine.py [--ops 1000] [--size 16] [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import gradscope

# the chain cycles through these four ops: y = tanh(sin(x * 1.01 + 0.1)) …
PATTERN = ("mul", "add", "sin", "tanh")


def gradscope_chain(x0: np.ndarray, n_ops: int) -> np.ndarray:
    x = gradscope.tensor(x0, requires_grad=True)
    y = x
    for i in range(n_ops):
        kind = PATTERN[i % 4]
        y = y * 1.01 if kind == "mul" else y + 0.1 if kind == "add" else y.sin() if kind == "sin" else y.tanh()
    y.sum().backward()
    return x.grad.numpy()


def torch_chain(x0: np.ndarray, n_ops: int):
    import torch

    x = torch.tensor(x0, requires_grad=True)
    y = x
    for i in range(n_ops):
        kind = PATTERN[i % 4]
        y = y * 1.01 if kind == "mul" else y + 0.1 if kind == "add" else y.sin() if kind == "sin" else y.tanh()
    y.sum().backward()
    return x.grad.numpy()


def numpy_chain(x0: np.ndarray, n_ops: int) -> np.ndarray:
    """The same forward and backward, written by hand: what any engine must at least spend."""
    saved = []
    y = x0
    for i in range(n_ops):
        kind = PATTERN[i % 4]
        if kind == "mul":
            y = y * 1.01
        elif kind == "add":
            y = y + 0.1
        elif kind == "sin":
            saved.append(y)
            y = np.sin(y)
        else:
            y = np.tanh(y)
            saved.append(y)
    g = np.ones_like(y)
    for i in reversed(range(n_ops)):
        kind = PATTERN[i % 4]
        if kind == "mul":
            g = g * 1.01
        elif kind == "sin":
            g = g * np.cos(saved.pop())
        elif kind == "tanh":
            t = saved.pop()
            g = g * (1 - t * t)
    return g


def measure(fn, x0, n_ops: int, repeats: int) -> float:
    fn(x0, n_ops)  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(x0, n_ops)
        times.append(time.perf_counter() - start)
    return statistics.median(times) / n_ops * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    x0 = np.random.default_rng(0).standard_normal(args.size)
    np.testing.assert_allclose(gradscope_chain(x0, args.ops), numpy_chain(x0, args.ops), rtol=1e-10)
    rows = [("numpy (hand-written floor)", measure(numpy_chain, x0, args.ops, args.repeats)),
            ("gradscope", measure(gradscope_chain, x0, args.ops, args.repeats))]
    try:
        import torch  # noqa: F401
        rows.append(("pytorch eager (CPU)", measure(torch_chain, x0, args.ops, args.repeats)))
    except ImportError:
        pass
    floor = rows[0][1]
    print(f"{args.ops}-op elementwise chain, {args.size} float64 elements, forward + backward, "
          f"median of {args.repeats}")
    for name, us in rows:
        print(f"  {name:<28} {us:7.2f} µs/op  ({us / floor:4.1f}x floor)")


if __name__ == "__main__":
    main()
