"""Cost of anomaly mode on the MLP workload: forward + backward of sample_models/mlp.py's network
(4 → 16 → tanh → 1, a batch of 32, MSE loss), unchecked against under anomaly detection.

gradscope's modes: PyTorch's default (NaN check, stacks on every node) and the extensions
(check_inf + check_forward). When PyTorch is installed its own anomaly-mode ratio for the same
workload is printed too. Target for gradscope's default mode: at most 1.5x the unchecked run.
`--stack-depth` runs each step under that many extra Python frames, as inside a training framework:
both libraries record the whole stack of every node.

    python bench/anomaly.py [--steps 50] [--repeats 15] [--stack-depth 0]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
import warnings

import numpy as np

import gradscope


def build(lib, seed: int = 0):
    """The MLP of sample_models/mlp.py and its data, in `lib` (gradscope or torch), float32."""
    rng = np.random.default_rng(seed)
    model = lib.nn.Sequential(lib.nn.Linear(4, 16), lib.nn.Tanh(), lib.nn.Linear(16, 1))
    with lib.no_grad():
        for parameter in model.parameters():
            parameter.copy_(lib.tensor(rng.uniform(-0.5, 0.5, tuple(parameter.shape)).astype(np.float32)))
    x = lib.tensor(rng.standard_normal((32, 4)).astype(np.float32))
    y = (x[:, :1] * 2 - x[:, 1:2]).sin()
    return model, x, y


def step(lib, model, x, y) -> None:
    model.zero_grad()
    lib.nn.functional.mse_loss(model(x), y).backward()


def nested(depth: int, function, *args) -> None:
    """Call `function(*args)` under `depth` extra frames."""
    if depth == 0:
        function(*args)
    else:
        nested(depth - 1, function, *args)


def time_block(lib, model, x, y, mode, steps: int, depth: int) -> float:
    """Seconds per step over one block of `steps` steps under `mode`."""
    with mode():
        start = time.perf_counter()
        for _ in range(steps):
            nested(depth, step, lib, model, x, y)
        return (time.perf_counter() - start) / steps


def measure(configs, steps: int, repeats: int, depth: int) -> list[list[float]]:
    """Seconds per step of every (lib, mode) config, one block each in turn per repeat: interleaved, so
    a busy machine slows every config alike and the ratios of one round stay comparable."""
    workloads = [(lib, mode, *build(lib)) for lib, mode in configs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lib, mode, model, x, y in workloads:  # warm up
            time_block(lib, model, x, y, mode, 1, depth)
        rounds = [[time_block(lib, model, x, y, mode, steps, depth) for lib, mode, model, x, y in workloads]
                  for _ in range(repeats)]
    return [list(column) for column in zip(*rounds, strict=True)]


def same_gradients(torch) -> None:
    """Both libraries run the same workload: equal weights give equal gradients."""
    grads = []
    for lib in (gradscope, torch):
        model, x, y = build(lib)
        step(lib, model, x, y)
        grads.append([p.grad.numpy() for p in model.parameters()])
    for ours, theirs in zip(*grads, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--stack-depth", type=int, default=0)
    args = parser.parse_args()
    anomaly = gradscope.autograd.set_detect_anomaly
    configs = {("gradscope", "unchecked"): (gradscope, contextlib.nullcontext),
               ("gradscope", "detect_anomaly()"): (gradscope, lambda: anomaly(True)),
               ("gradscope", "+ check_inf, check_forward"):
                   (gradscope, lambda: anomaly(True, check_inf=True, check_forward=True))}
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        same_gradients(torch)
        torch.set_num_threads(1)
        configs[("pytorch", "unchecked")] = (torch, contextlib.nullcontext)
        configs[("pytorch", "detect_anomaly()")] = (torch, lambda: torch.autograd.set_detect_anomaly(True))
    times = dict(zip(configs, measure(list(configs.values()), args.steps, args.repeats, args.stack_depth),
                     strict=True))
    print(f"MLP 4-16-1, batch 32, forward + backward; median of {args.repeats} interleaved blocks of {args.steps} "
          f"steps, {args.stack_depth} extra stack frames; ratio: median of the per-round ratios to unchecked")
    for (library, mode), seconds in times.items():
        ratios = [t / base for t, base in zip(seconds, times[(library, "unchecked")], strict=True)]
        print(f"  {library:<10} {mode:<28} {statistics.median(seconds) * 1e6:8.1f} µs/step  "
              f"{statistics.median(ratios):5.2f}x")


if __name__ == "__main__":
    main()
