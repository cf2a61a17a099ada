"""A CNN training step (forward, backward, Adam step) in gradscope beside PyTorch eager, one thread.

    python bench/cnn_step.py [--repeats 30] [--dtype float32|float64]

The model of PyTorch's MNIST example at a quarter of its width: conv 1→8 3×3, ReLU, conv 8→16 3×3,
ReLU, 2×2 max pool, linear 2304→10, cross-entropy; batch 32 of 1×28×28, Adam (lr 1e-3). Both
libraries start from the same weights and run in turn within every round (so load from other
processes hits both alike); reports medians in ms and gradscope's ratio to PyTorch (issue 12 asks
for the ratio; issue 15's target is ≤ 1× PyTorch).
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402 - the thread limits above must precede NumPy's import
import statistics  # noqa: E402

import numpy as np  # noqa: E402
from heap import keep_freed_memory  # noqa: E402
from run import interleaved_times  # noqa: E402

import gradscope  # noqa: E402

BATCH = 32


def build(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3)
            self.conv2 = nn.Conv2d(8, 16, 3)
            self.fc = nn.Linear(16 * 12 * 12, 10)

        def forward(self, x):
            x = lib.relu(self.conv2(lib.relu(self.conv1(x))))
            return self.fc(lib.flatten(nn.functional.max_pool2d(x, 2), 1))

    return Net()


def make_step(lib, model, images, labels):
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad()
        lib.nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
    return step


def interleaved_medians(steps: dict, repeats: int) -> dict:
    """Median ms of each step's CPU time, the steps timed in turn within every round (load from other processes
    hits all of them alike), each after an untimed step of its own: run.py's `interleaved_times`."""
    cpu, _ = interleaved_times(steps, repeats, budget=float("inf"))
    return {name: statistics.median(values) * 1e3 for name, values in cpu.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    args = parser.parse_args()
    keep_freed_memory()  # every implementation alike: no faults on memory the previous one gave back
    try:
        import torch
    except ImportError:
        raise SystemExit("PyTorch is not installed: nothing to compare with") from None
    torch.set_num_threads(1)
    torch.manual_seed(0)
    theirs = build(torch).to(getattr(torch, args.dtype))
    ours = build(gradscope).to(getattr(gradscope, args.dtype))
    ours.load_state_dict({k: gradscope.tensor(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    images = rng.standard_normal((BATCH, 1, 28, 28)).astype(args.dtype)
    labels = rng.integers(0, 10, BATCH)
    medians = interleaved_medians({
        "gradscope": make_step(gradscope, ours, gradscope.tensor(images), gradscope.tensor(labels)),
        "pytorch": make_step(torch, theirs, torch.tensor(images), torch.tensor(labels)),
    }, args.repeats)
    print(f"CNN training step, batch {BATCH}, {args.dtype}, one thread, median of {args.repeats}")
    for name, ms in medians.items():
        print(f"  {name:10s} {ms:8.2f} ms")
    print(f"  gradscope / PyTorch eager: {medians['gradscope'] / medians['pytorch']:.2f}x")


if __name__ == "__main__":
    main()
