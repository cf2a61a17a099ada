"""Cost of anomaly mode on the MLP workload: forward + backward of sample_models/mlp.py's network
(4 → 16 → tanh → 1, a batch of 32, MSE loss), unchecked against under anomaly detection. The network is
small on purpose: what anomaly mode adds is per node, and here little else hides it.

gradscope's modes: PyTorch's default (NaN check, stacks on every node) and the extensions
(check_inf + check_forward). When PyTorch is installed its own anomaly-mode ratio for the same
workload is printed too. Target for gradscope's default mode (issue 15): at most 1.2x the unchecked run.
`--stack-depth` runs each step under that many extra Python frames, as inside a training framework:
both libraries record the whole stack of every node. Times are CPU time (the machine may be shared);
`--wall` times wall-clock instead.

    python bench/anomaly.py [--steps 50] [--repeats 15] [--stack-depth 0] [--wall]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
import warnings

import numpy as np

import gradscope

TARGET = 1.2  # detect_anomaly() at most this many times the unchecked step


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


def time_block(lib, model, x, y, mode, steps: int, depth: int, clock) -> float:
    """Seconds per step over one block of `steps` steps under `mode`."""
    with mode():
        start = clock()
        for _ in range(steps):
            nested(depth, step, lib, model, x, y)
        return (clock() - start) / steps


def measure(configs, steps: int, repeats: int, depth: int, clock=time.process_time) -> list[list[float]]:
    """Seconds per step of every (lib, mode) config, one block each in turn per repeat: interleaved, so
    a busy machine slows every config alike and the ratios of one round stay comparable."""
    workloads = [(lib, mode, *build(lib)) for lib, mode in configs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lib, mode, model, x, y in workloads:  # warm up
            time_block(lib, model, x, y, mode, 1, depth, clock)
        rounds = [[time_block(lib, model, x, y, mode, steps, depth, clock) for lib, mode, model, x, y in workloads]
                  for _ in range(repeats)]
    return [list(column) for column in zip(*rounds, strict=True)]


def optional_torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


def configs(torch) -> dict:
    """(library, mode) -> (lib, context manager factory)."""
    anomaly = gradscope.autograd.set_detect_anomaly
    result = {("gradscope", "unchecked"): (gradscope, contextlib.nullcontext),
              ("gradscope", "detect_anomaly()"): (gradscope, lambda: anomaly(True)),
              ("gradscope", "+ check_inf, check_forward"):
                  (gradscope, lambda: anomaly(True, check_inf=True, check_forward=True))}
    if torch is not None:
        result[("pytorch", "unchecked")] = (torch, contextlib.nullcontext)
        result[("pytorch", "detect_anomaly()")] = (torch, lambda: torch.autograd.set_detect_anomaly(True))
    return result


def timings(steps: int, repeats: int, depth: int, clock=time.process_time) -> dict:
    """(library, mode) -> seconds per step of each round."""
    torch = optional_torch()
    if torch is not None:
        same_gradients(torch)
    chosen = configs(torch)
    return dict(zip(chosen, measure(list(chosen.values()), steps, repeats, depth, clock), strict=True))


def per_round_ratio(times: dict, library: str, mode: str) -> float:
    """Median over the rounds of `mode`'s step time over the unchecked one of the same round."""
    return statistics.median(t / base for t, base in zip(times[(library, mode)], times[(library, "unchecked")],
                                                         strict=True))


def rows(quick: bool = False) -> list[dict]:
    """bench/run.py's rows: detect_anomaly()'s step against the unchecked one, at the script's own stack and
    20 frames deeper (a training framework's); CPU µs per step, medians of interleaved blocks, the ratio the
    median of the per-round ratios. quick=True: a few short blocks (a check of the harness, not a measurement)."""
    steps, repeats = (5, 2) if quick else (50, 15)
    result = []
    for depth in (0, 20):
        times = timings(steps, repeats, depth)
        value = statistics.median(times[("gradscope", "detect_anomaly()")]) * 1e6
        baseline = statistics.median(times[("gradscope", "unchecked")]) * 1e6
        ratio = per_round_ratio(times, "gradscope", "detect_anomaly()")
        extra = {"ratio_of_medians": round(value / baseline, 2),
                 "extensions_ratio": round(per_round_ratio(times, "gradscope", "+ check_inf, check_forward"), 2)}
        if ("pytorch", "unchecked") in times:
            extra["pytorch_ratio"] = round(per_round_ratio(times, "pytorch", "detect_anomaly()"), 2)
        result.append({
            "workload": "anomaly mode" if depth == 0 else f"anomaly mode, stack +{depth}", "dtype": "float32",
            "unit": "µs", "description": f"MLP 4→16→tanh→1, batch 32, MSE, fwd+bwd under detect_anomaly(), {depth} "
                                         f"extra stack frames; CPU time, median of {repeats} interleaved blocks of "
                                         f"{steps} steps",
            "value": round(value, 1), "baseline": round(baseline, 1), "baseline_name": "unchecked",
            "ratio": round(ratio, 3), "target": f"≤ {TARGET}× unchecked", "met": ratio <= TARGET, "extra": extra})
    return result


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
    parser.add_argument("--wall", action="store_true", help="time wall-clock instead of CPU time")
    args = parser.parse_args()
    times = timings(args.steps, args.repeats, args.stack_depth, time.perf_counter if args.wall else time.process_time)
    print(f"MLP 4-16-1, batch 32, forward + backward; median of {args.repeats} interleaved blocks of {args.steps} "
          f"steps ({'wall' if args.wall else 'CPU'} time), {args.stack_depth} extra stack frames; ratio: median of "
          "the per-round ratios to unchecked")
    for (library, mode), seconds in times.items():
        print(f"  {library:<10} {mode:<28} {statistics.median(seconds) * 1e6:8.1f} µs/step  "
              f"{per_round_ratio(times, library, mode):5.2f}x")


if __name__ == "__main__":
    main()
