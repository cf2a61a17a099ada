"""Per-op overhead of forward + backward: a 1,000-op elementwise chain on a 16-element float64 vector.

Compares gradscope with hand-written NumPy doing the same arithmetic (the floor) and, when
installed, PyTorch eager on the CPU. Reports the median over repeats in µs per op.

    python bench/engine.py [--ops 1000] [--size 16] [--repeats 25]
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


def measure_interleaved(functions: dict, x0, n_ops: int, repeats: int) -> dict:
    """µs per op of each function, timed in alternation so that load on a busy machine hits all alike.
    Returns {name: (median, best)}."""
    for fn in functions.values():
        fn(x0, n_ops)  # warm up
    times: dict = {name: [] for name in functions}
    for _ in range(repeats):
        for name, fn in functions.items():
            start = time.perf_counter()
            fn(x0, n_ops)
            times[name].append((time.perf_counter() - start) / n_ops * 1e6)
    return {name: (statistics.median(t), min(t)) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=25)
    args = parser.parse_args()
    x0 = np.random.default_rng(0).standard_normal(args.size)
    np.testing.assert_allclose(gradscope_chain(x0, args.ops), numpy_chain(x0, args.ops), rtol=1e-10)
    functions = {"numpy (hand-written floor)": numpy_chain, "gradscope": gradscope_chain}
    try:
        import torch  # noqa: F401
        functions["pytorch eager (CPU)"] = torch_chain
    except ImportError:
        pass
    results = measure_interleaved(functions, x0, args.ops, args.repeats)
    floor = results["numpy (hand-written floor)"][0]
    print(f"{args.ops}-op elementwise chain, {args.size} float64 elements, forward + backward, "
          f"{args.repeats} interleaved repeats")
    for name, (median, best) in results.items():
        print(f"  {name:<28} median {median:7.2f} µs/op  best {best:7.2f}  ({median / floor:4.1f}x floor)")


if __name__ == "__main__":
    main()
