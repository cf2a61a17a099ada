"""conv2d forward + backward against a hand-written NumPy im2col implementation and PyTorch eager.

    python bench/conv.py [--repeats 30] [--dtype float32|float64]

Batch 32, 3 → 16 channels, 32×32, 3×3 kernel, padding 1, with bias; backward computes the input,
weight and bias gradients. One BLAS thread everywhere (threadpoolctl when installed, else the
usual environment variables, set before NumPy loads), PyTorch with torch.set_num_threads(1).
Reports medians in ms and the ratios: DESIGN §9 asks for conv ≤ 1.3× the NumPy floor.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402 - the thread limits above must precede NumPy's import
import contextlib  # noqa: E402
import functools  # noqa: E402
import statistics  # noqa: E402

import numpy as np  # noqa: E402
from heap import keep_freed_memory  # noqa: E402
from numpy.lib.stride_tricks import as_strided  # noqa: E402
from run import interleaved_times  # noqa: E402

import gradscope  # noqa: E402
from gradscope.nn import functional as F  # noqa: E402

BATCH, IN_CHANNELS, OUT_CHANNELS, SIZE, KERNEL, PADDING = 32, 3, 16, 32, 3, 1


def numpy_step(x, w, b, g):
    """Forward and backward of a stride-1 conv2d written by hand: im2col as one strided copy, col2im as
    one slice-add per kernel position."""
    n, c, h, width = x.shape
    o, _, k, _ = w.shape
    padded = np.zeros((n, c, h + 2 * PADDING, width + 2 * PADDING), x.dtype)
    padded[:, :, PADDING:-PADDING, PADDING:-PADDING] = x
    s = padded.strides
    windows = as_strided(padded, (n, c, k, k, h, width), (s[0], s[1], s[2], s[3], s[2], s[3]), writeable=False)
    cols = windows.reshape(n, c * k * k, h * width)
    out = (w.reshape(o, -1) @ cols).reshape(n, o, h, width) + b[:, None, None]
    # backward
    g_flat = g.reshape(n, o, h * width)
    grad_b = g.sum((0, 2, 3))
    grad_w = np.matmul(g_flat, cols.transpose(0, 2, 1)).sum(0).reshape(w.shape)
    grad_cols = (w.reshape(o, -1).T @ g_flat).reshape(n, c, k, k, h, width)
    grad_padded = np.zeros_like(padded)
    for i in range(k):
        for j in range(k):
            grad_padded[:, :, i:i + h, j:j + width] += grad_cols[:, :, i, j]
    return out, grad_padded[:, :, PADDING:-PADDING, PADDING:-PADDING], grad_w, grad_b


def gradscope_step(x, w, b, g):
    x.grad = w.grad = b.grad = None
    out = F.conv2d(x, w, b, padding=PADDING)
    out.backward(g)
    return out


def torch_step(torch, x, w, b, g):
    x.grad = w.grad = b.grad = None
    out = torch.nn.functional.conv2d(x, w, b, padding=PADDING)
    out.backward(g)
    return out


def interleaved_medians(steps: dict, repeats: int) -> dict:
    """Median ms of each step's CPU time, the steps timed in turn within every round (load from other processes
    hits all of them alike), each after an untimed step of its own: run.py's `interleaved_times`."""
    cpu, _ = interleaved_times(steps, repeats, budget=float("inf"))
    return {name: statistics.median(values) * 1e3 for name, values in cpu.items()}


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    args = parser.parse_args()
    keep_freed_memory()  # every implementation alike: no faults on memory the previous one gave back
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((BATCH, IN_CHANNELS, SIZE, SIZE)).astype(args.dtype)
    w_np = rng.standard_normal((OUT_CHANNELS, IN_CHANNELS, KERNEL, KERNEL)).astype(args.dtype)
    b_np = rng.standard_normal(OUT_CHANNELS).astype(args.dtype)
    g_np = rng.standard_normal((BATCH, OUT_CHANNELS, SIZE, SIZE)).astype(args.dtype)
    x, w, b = (gradscope.tensor(a, requires_grad=True) for a in (x_np, w_np, b_np))
    g = gradscope.tensor(g_np)

    expected = numpy_step(x_np, w_np, b_np, g_np)
    out = gradscope_step(x, w, b, g)
    tolerance = 1e-3 if args.dtype == "float32" else 1e-10
    for ours, floor in zip((out, x.grad, w.grad, b.grad), expected, strict=True):
        np.testing.assert_allclose(ours.detach().numpy(), floor, rtol=tolerance, atol=tolerance)

    steps = {"numpy": functools.partial(numpy_step, x_np, w_np, b_np, g_np),
             "gradscope": functools.partial(gradscope_step, x, w, b, g)}
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(1)
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x_np, w_np, b_np))
        steps["torch"] = functools.partial(torch_step, torch, tx, tw, tb, torch.tensor(g_np))
    with _one_blas_thread():
        ms = interleaved_medians(steps, args.repeats)
    line = (f"conv2d {BATCH}x{IN_CHANNELS}x{SIZE}x{SIZE} -> {OUT_CHANNELS} channels, {KERNEL}x{KERNEL}, {args.dtype}, "
            f"forward + backward: numpy im2col {ms['numpy']:6.2f} ms | gradscope {ms['gradscope']:6.2f} ms "
            f"({ms['gradscope'] / ms['numpy']:4.2f}x numpy)")
    if torch is None:
        print(line + " | torch not installed")
    else:
        print(line + f" | torch {ms['torch']:6.2f} ms ({ms['gradscope'] / ms['torch']:4.2f}x torch)")

if __name__ == "__main__":
    main()
