"""What `gradscope watch` costs: a training step monitored, and monitored with the ring buffer of full
recordings, against the same step unwatched; and peak memory over a long run.

    python bench/watch.py [--rounds 15] [--block 20]     # step times (medians) and ratios
    python bench/watch.py --rss 5000 --mode ring         # peak RSS after 5,000 steps in one process

MLP 784 → 256 → 256 → 10 with ReLU, cross-entropy, batch 64, float32, Adam (as bench/train_step.py),
one BLAS thread. The modes run in turns, a block of steps each, so all see the same load (issue 14:
monitoring ≤ 1.3×, with the ring buffer ≤ 2×; memory flat between 100 and 5,000 steps). Steps are
timed in CPU time (one thread), which a machine shared with other work disturbs least.
"""

from __future__ import annotations

import os

for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import gradscope  # noqa: E402
from gradscope import nn, optim  # noqa: E402
from gradscope.watching import Watch  # noqa: E402

SIZES = (784, 256, 256, 10)
BATCH = 64
MODES = {"plain": None, "monitor": {"keep": None}, "ring": {"keep": 1}}


def setup():
    rng = np.random.default_rng(0)
    gradscope.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x = gradscope.tensor(rng.standard_normal((BATCH, SIZES[0])).astype(np.float32))
    labels = gradscope.tensor(rng.integers(0, SIZES[-1], BATCH))
    return model, opt, x, labels


def step(model, opt, x, labels) -> None:
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), labels).backward()
    opt.step()


def timed_block(mode: str, block: int, model, opt, x, labels) -> list[float]:
    """Per-step seconds of `block` steps in `mode`."""
    options = MODES[mode]
    watch = None if options is None else Watch(model, **options).start()
    times = []
    try:
        for _ in range(block):
            start = time.process_time()
            step(model, opt, x, labels)
            times.append(time.process_time() - start)
    finally:
        if watch is not None:
            watch.close()
    return times


def step_times(rounds: int, block: int) -> dict[str, float]:
    model, opt, x, labels = setup()
    for mode in MODES:
        timed_block(mode, 3, model, opt, x, labels)  # warm up
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(rounds):
        for mode in MODES:
            times[mode] += timed_block(mode, block, model, opt, x, labels)[1:]  # the first closes nothing yet
    return {mode: statistics.median(taken) * 1e3 for mode, taken in times.items()}


def peak_rss(steps: int, mode: str) -> float:
    """Peak RSS in MB of `steps` steps watched in `mode` (run in a fresh process by the caller), the
    history written to a directory as `gradscope watch` does."""
    model, opt, x, labels = setup()
    options = MODES[mode]
    with tempfile.TemporaryDirectory() as out:
        watch = None if options is None else Watch(model, out=out, **options).start()
        for _ in range(steps):
            step(model, opt, x, labels)
        if watch is not None:
            watch.close()
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--block", type=int, default=20)
    parser.add_argument("--rss", type=int, metavar="STEPS", help="only measure peak RSS after STEPS steps")
    parser.add_argument("--mode", choices=list(MODES), default="ring")
    parser.add_argument("--memory", action="store_true", help="also run the RSS measurements (100 and 5,000 steps)")
    args = parser.parse_args()
    if args.rss is not None:
        print(f"{peak_rss(args.rss, args.mode):.1f}")
        return
    medians = step_times(args.rounds, args.block)
    plain = medians["plain"]
    print(f"train step MLP {SIZES} batch {BATCH} float32 + Adam, median of {args.rounds * (args.block - 1)} steps:")
    for mode, taken in medians.items():
        print(f"  {mode:8s} {taken:7.3f} ms  ({taken / plain:4.2f}x)")
    if args.memory:
        for mode in ("monitor", "ring"):
            sizes = [subprocess.run([sys.executable, __file__, "--rss", str(n), "--mode", mode], capture_output=True,
                                    text=True, check=True).stdout.strip() for n in (100, 5000)]
            print(f"  peak RSS {mode:8s}: {sizes[0]} MB after 100 steps, {sizes[1]} MB after 5,000")


if __name__ == "__main__":
    main()
