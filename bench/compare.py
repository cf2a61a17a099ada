"""The cost of comparing two recordings (`gradscope diff`), against the cost of recording them.

    python bench/compare.py [--layers 200] [--repeats 5]

A deep residual MLP (LAYERS blocks of Linear + tanh + add, each in its own module: ~5 nodes per
block) recorded twice, the second run with one extra op in the middle block; reports the median
time to record one run and to compare the two (alignment, every forward value and gradient).
"""

from __future__ import annotations

import argparse
import statistics
import time

import gradscope
from gradscope import nn
from gradscope.checks.assertions import record_backward
from gradscope.compare import compare_traces


class Block(nn.Module):
    def __init__(self, width: int, extra: bool) -> None:
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.extra = extra

    def forward(self, x):
        h = gradscope.tanh(self.fc(x))
        if self.extra:
            h = h * 0.5
        return x + h


def record(layers: int, extra_at: int | None):
    gradscope.manual_seed(0)
    model = nn.Sequential(*[Block(16, index == extra_at) for index in range(layers)])
    x = gradscope.randn(8, 16)
    return record_backward(lambda: model(x).pow(2).mean(), {"model": model})


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    a, b = record(args.layers, None), record(args.layers, args.layers // 2)
    report = compare_traces(a, b)
    assert report.first.what == "only in B", report.summary()
    recording = median_ms(lambda: record(args.layers, None), args.repeats)
    comparing = median_ms(lambda: compare_traces(a, b), args.repeats)
    equal = median_ms(lambda: compare_traces(a, a), args.repeats)
    print(f"{len(a.nodes)} nodes: record one run {recording:.1f} ms, compare two differing runs {comparing:.1f} ms "
          f"({comparing / recording:.2f}x a recording), compare equal runs {equal:.1f} ms")


if __name__ == "__main__":
    main()
