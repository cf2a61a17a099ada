"""What recording costs: a medium MLP step recorded by a `Recorder` (full statistics of every distinct
tensor) against the same step unrecorded (issue 15: ≤ 1.3×).

    python bench/recording.py [--quick] [--rounds 30] [--dtypes float32,float64]

MLP 256 → 512 → 512 → 10 with tanh, MSE loss, batch 64 (bench/mlp.py's medium one), forward + backward;
the recorded step includes `Recorder.finish()`. The two steps run in turns, one BLAS thread, timed in
CPU time (which a machine shared with other work disturbs least); figures are medians. Statistics are
computed when first read, so a reader's cost is shown beside: `read_stats_ms` is reading every
statistic of one step's trace (what `inspect`, `check` or `save` pay once).

`faults_per_step` counts each step's minor page faults (medians): memory the C library handed back to the
OS and a step maps in again costs a fault per 4 KB, more than copying it (see snapshots.keep_freed_memory).
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402 - the thread limits above must precede NumPy's import
import resource  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import gradscope  # noqa: E402
from gradscope import nn  # noqa: E402
from gradscope.trace import Recorder, Trace  # noqa: E402

SIZES = {"full": ((256, 512, 512, 10), 64), "quick": ((128, 256, 256, 10), 16)}  # layer widths, batch
ROUNDS = {"full": 30, "quick": 3}
BOUND = 1.3


def build(dtype: str, size: str):
    """The model, input and target of the workload, seeded."""
    widths, batch = SIZES[size]
    gradscope.manual_seed(0)
    rng = np.random.default_rng(0)
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(fan_in, fan_out, dtype=getattr(gradscope, dtype)), nn.Tanh()]
    model = nn.Sequential(*layers[:-1])
    x = gradscope.tensor(rng.standard_normal((batch, widths[0])).astype(dtype))
    y = gradscope.tensor(rng.standard_normal((batch, widths[-1])).astype(dtype))
    return model, x, y


def step(model, x, y) -> None:
    model.zero_grad()
    nn.functional.mse_loss(model(x), y).backward()


def recorded_step(model, x, y) -> Trace:
    with Recorder() as recorder:
        step(model, x, y)
    return recorder.finish()


def read_every_statistic(trace: Trace) -> None:
    for node in trace.nodes.values():
        for record in (*node.inputs, *node.outputs, *node.saved.values()):
            if record is not None:
                record.stats  # noqa: B018 - reading them is what is timed
    for recorded in trace.passes:
        for records in (*recorded.grad_outputs.values(), *recorded.grad_inputs.values()):
            for record in records:
                if record is not None:
                    record.stats  # noqa: B018
        for record in recorded.leaf_grads.values():
            record.stats  # noqa: B018


def measure(dtype: str, size: str, rounds: int) -> dict:
    """Per-round CPU seconds of the unrecorded step, the recorded step, and reading one trace's statistics."""
    model, x, y = build(dtype, size)
    step(model, x, y)
    recorded_step(model, x, y)  # warm up both
    times: dict[str, list[float]] = {"plain": [], "recorded": [], "read": []}
    faults: dict[str, list[int]] = {"plain": [], "recorded": []}
    for _ in range(rounds):
        settled = _minor_faults()
        start = time.process_time()
        step(model, x, y)
        recording = time.process_time()
        plain_done = _minor_faults()
        trace = recorded_step(model, x, y)
        reading = time.process_time()
        recorded_done = _minor_faults()
        read_every_statistic(trace)
        end = time.process_time()
        times["plain"].append(recording - start)
        times["recorded"].append(reading - recording)
        times["read"].append(end - reading)
        faults["plain"].append(plain_done - settled)
        faults["recorded"].append(recorded_done - plain_done)
    return times, faults


def _minor_faults() -> int:
    """Pages the OS mapped for this process so far (each first write into memory freed back to it costs one)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def describe(size: str) -> str:
    widths, batch = SIZES[size]
    return (f"MLP {'→'.join(map(str, widths))} tanh, MSE, batch {batch}, fwd+bwd recorded with full statistics "
            "(Recorder + finish) vs unrecorded; CPU time, one thread")


def rows(quick: bool = False, rounds: int | None = None, dtypes=("float32", "float64")) -> list[dict]:
    """One row per dtype: the recorded step's median (ms) against the unrecorded one's."""
    size = "quick" if quick else "full"
    result = []
    for dtype in dtypes:
        times, faults = measure(dtype, size, rounds or ROUNDS[size])
        value, baseline = (statistics.median(times[name]) * 1e3 for name in ("recorded", "plain"))
        ratio = value / baseline
        result.append({
            "workload": "recording", "dtype": dtype, "unit": "ms", "description": describe(size),
            "value": value, "baseline": baseline, "baseline_name": "unrecorded", "ratio": ratio,
            "target": f"≤ {BOUND}× unrecorded", "met": ratio <= BOUND,
            "extra": {"per_round_ratio": statistics.median(r / p for r, p in zip(times["recorded"], times["plain"])),
                      "read_stats_ms": statistics.median(times["read"]) * 1e3, "rounds": len(times["plain"]),
                      "faults_per_step": {name: statistics.median(counts) for name, counts in faults.items()}},
        })
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 rounds: a sanity run")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--dtypes", default="float32,float64")
    args = parser.parse_args()
    for row in rows(args.quick, args.rounds, tuple(args.dtypes.split(","))):
        extra = row["extra"]
        print(f"{row['dtype']}: recorded {row['value']:.2f} ms, unrecorded {row['baseline']:.2f} ms: "
              f"{row['ratio']:.2f}× (per round {extra['per_round_ratio']:.2f}×; target {row['target']}, "
              f"{'met' if row['met'] else 'not met'}); then reading every statistic {extra['read_stats_ms']:.2f} ms")
    print(f"({row['description']})")


if __name__ == "__main__":
    main()
