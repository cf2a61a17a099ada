"""Every speed target of issues 12 and 15 in one run, each beside what its target compares it with.

Compute workloads run beside their hand-written NumPy floor and, where installed, PyTorch eager and HIPS
autograd; one thread, medians of interleaved repeats in the thread's CPU time (wall time is kept beside it).
The debugger's own costs (recording, anomaly mode, trace save/load/export, the browser) come from their
bench scripts' `rows()`, each run in a process of its own, and form a second table.

    python bench/run.py [--quick] [--only chain,mlp_small] [--dtypes float32,float64] [--repeats N]
                        [--out bench/results/latest]

Writes OUT.md (a markdown table) and OUT.json (every median and ratio, each step's peak memory beside the
floor's, plus the versions and settings), and prints the table. Ratios are taken between medians of the same
run: a busy machine slows every implementation of a workload alike because they are timed in turns. Before
timing, glibc is told to keep freed memory in the heap (bench/heap.py), for every implementation alike:
otherwise whichever runs after the one that freed the most pays page faults on memory handed back to the OS
(±10% on the CNN's ratios), and each timed step follows an untimed step of its own (as in a training loop),
not another implementation's.
`--quick` runs small sizes and few repeats: a sanity check of the harness, not a measurement. `--dtypes`
applies to the compute workloads; the debugger rows choose their own (each in a process of its own, with
glibc's defaults).
"""

from __future__ import annotations

import os

# one thread everywhere, set before NumPy (and its BLAS) loads
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402 - the thread limits above must precede NumPy's import
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import heap  # noqa: E402
import workloads  # noqa: E402

IMPLEMENTATIONS = ("numpy", "gradscope", "pytorch", "hips")
# The debugger's own costs, each measured by its bench script's `rows(quick)` (recording and anomaly mode
# against the unchecked step, trace files and the browser against absolute bounds): name -> module.
DEBUGGER_BENCHES = {"recording": "recording", "anomaly": "anomaly", "trace_io": "trace_io", "browser": "tui"}
ROW_KEYS = ("workload", "dtype", "unit", "description", "value", "baseline", "baseline_name", "ratio", "target",
            "met", "extra")
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest"


def interleaved_times(steps: dict, repeats: int, budget: float) -> tuple[dict, dict]:
    """Seconds of each step in every round, the steps timed in turn within a round, stopping early, after at
    least 3 rounds, once `budget` seconds are spent: (the thread's CPU time, wall time). CPU time is what the
    rows report: everything runs on this one thread (one BLAS thread, one PyTorch thread), and on a shared
    machine a round lasts about a scheduler slice, so the point where the process is descheduled stays in one
    implementation's step for many rounds and skews its wall median (session 9 saw 7× for a 1.2× step).
    Each timed step follows an untimed one of its own, as in a training loop: timed right after another
    implementation's step, it would start on caches that step filled, the same one every round (session 12, CNN
    float32: gradscope's step 0.4–0.7 ms longer run after the NumPy floor's 7 MB of columns than before them)."""
    cpu: dict = {name: [] for name in steps}
    wall: dict = {name: [] for name in steps}
    started = time.perf_counter()
    rounds = 0
    while rounds < repeats and (rounds < 3 or time.perf_counter() - started < budget):
        for name, step in steps.items():
            step()  # warm up: this implementation's memory in the caches, not the one before it
            start, start_cpu = time.perf_counter(), time.thread_time()
            step()
            cpu[name].append(time.thread_time() - start_cpu)
            wall[name].append(time.perf_counter() - start)
        rounds += 1
    return cpu, wall


def measure(workload: workloads.Workload, dtype: str, size: str, repeats: int, budget: float) -> dict:
    """One row: the workload's medians (and best rounds) in its unit, the ratios of the medians to the floor
    and to PyTorch, the median of the per-round ratios, its targets; all in the thread's CPU time, with the
    wall-time medians beside them."""
    steps = workload.build(dtype, size)
    times, wall = interleaved_times(steps, repeats, budget)
    peaks = step_peaks(steps)
    scale = (1e6 if workload.unit == "µs/op" else 1e3) / workload.per(size)
    medians = {name: statistics.median(times[name]) * scale if name in times else None for name in IMPLEMENTATIONS}
    wall_medians = {name: statistics.median(wall[name]) * scale if name in wall else None
                    for name in IMPLEMENTATIONS}
    best = {name: min(times[name]) * scale if name in times else None for name in IMPLEMENTATIONS}
    pairs = [("gradscope", name) for name in IMPLEMENTATIONS if name != "gradscope"] + [("pytorch", "numpy")]
    ratios, per_round, intervals = {}, {}, {}
    for ours, theirs in pairs:
        if medians[ours] is not None and medians[theirs] is not None:
            ratios[f"{ours}/{theirs}"] = medians[ours] / medians[theirs]
            round_ratios = [a / b for a, b in zip(times[ours], times[theirs])]
            per_round[f"{ours}/{theirs}"] = statistics.median(round_ratios)
            intervals[f"{ours}/{theirs}"] = median_interval(round_ratios)
    targets = [{"against": against, "bound": bound, "ratio": ratios.get(f"gradscope/{against}"),
                "met": None if f"gradscope/{against}" not in ratios else ratios[f"gradscope/{against}"] <= bound}
               for against, bound in workload.targets]
    return {"workload": workload.name, "description": workload.describe(size), "dtype": dtype, "unit": workload.unit,
            "rounds": len(times["gradscope"]), "times": medians, "wall_times": wall_medians, "best": best,
            "ratios": ratios, "per_round_ratios": per_round, "per_round_interval": intervals, "targets": targets,
            "peak_mb": {name: peak / 1e6 for name, peak in peaks.items()}}


def step_peaks(steps: dict) -> dict:
    """The most memory one step of the floor and of gradscope holds at once, in bytes, of what the step itself
    allocates: array data and Python objects (tracemalloc), after an untraced step of its own. Issue 15 asks for
    "the floor plus saved tensors, no hidden copies": the floor keeps exactly the activations its backward reads
    and frees nothing early, so a peak above the floor's is what gradscope's graph adds (nodes, edges, copies).
    PyTorch's allocator is invisible to tracemalloc, so it has no figure. Memory allocated before the step and
    freed during it (last step's gradients) is not subtracted: each peak is what the step needs on top of it."""
    peaks = {}
    for name in ("numpy", "gradscope"):
        if name in steps:
            steps[name]()
            tracemalloc.start()
            try:
                steps[name]()
                peaks[name] = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
    return peaks


def median_interval(values: list) -> list | None:
    """A distribution-free ~95% interval for the median of `values` (the order statistics the binomial puts
    either side of it), None for fewer than 6. Why: one row's ratio is a median of ~30 rounds, and rounds on a
    shared machine spread so that its ratio moves ±0.03 between runs (session 16, rnn float32): a target at 1.3
    read as 1.31 is not decided by one run, and the interval says so."""
    n = len(values)
    if n < 6:
        return None
    ordered = sorted(values)
    k = max(int((n - 1.96 * n ** 0.5) / 2), 0)  # 0-based: the k-th smallest and the k-th largest
    return [ordered[k], ordered[n - 1 - k]]


def _cell(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}g}" if value < 100 else f"{value:.0f}"


def markdown(rows: list, settings: dict) -> str:
    lines = [f"gradscope {settings['gradscope']} ({settings['commit']}), NumPy {settings['numpy']}, "
             f"PyTorch {settings['pytorch'] or 'not installed'}, HIPS autograd {settings['hips'] or 'not installed'}; "
             f"Python {settings['python']}, {settings.get('cpu', 'unknown processor')}, one thread, "
             f"{settings['size']} sizes, medians of interleaved rounds "
             "(and the median of the per-round ratios), the thread's CPU time (wall medians in the JSON); "
             f"heap: {settings['heap']}.",
             ""]
    if not rows:
        return "\n".join(lines)
    lines += ["| workload | dtype | unit | numpy | gradscope | pytorch | hips | gs / numpy | gs / pytorch "
              "| pytorch / numpy | per round: gs / numpy, gs / pytorch | target | met |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        times, ratios = row["times"], row["ratios"]
        target = ", ".join(f"≤ {t['bound']}× {t['against']}" for t in row["targets"])
        met = ", ".join("–" if t["met"] is None else "yes" if t["met"] else "no" for t in row["targets"])
        lines.append(f"| {row['workload']} | {row['dtype']} | {row['unit']} | "
                     + " | ".join(_cell(times[name]) for name in IMPLEMENTATIONS) + " | "
                     + " | ".join(_cell(ratios.get(key), 2) for key in ("gradscope/numpy", "gradscope/pytorch",
                                                                        "pytorch/numpy"))
                     + " | " + ", ".join(_cell(row["per_round_ratios"].get(key), 2)
                                         for key in ("gradscope/numpy", "gradscope/pytorch"))
                     + f" | {target} | {met} |")
    lines += ["", "Peak memory a step allocates (tracemalloc: array data and Python objects alive at once, MB), "
              "gradscope beside the floor:"]
    for row in rows:
        peaks = row.get("peak_mb", {})
        if "numpy" in peaks and "gradscope" in peaks:
            lines.append(f"- {row['workload']} {row['dtype']}: {_cell(peaks['numpy'])} / {_cell(peaks['gradscope'])} "
                         f"({peaks['gradscope'] / peaks['numpy']:.2f}× the floor)")
    lines += ["", "Workloads:"]
    seen = set()
    for row in rows:
        if row["workload"] not in seen:
            seen.add(row["workload"])
            lines.append(f"- `{row['workload']}`: {row['description']}")
    return "\n".join(lines) + "\n"


def rows_of(module_name: str, quick: bool) -> list:
    """The rows of one debugger bench script (`bench/MODULE.py`'s `rows`), measured in this process and checked
    for the keys the table reads."""
    rows = __import__(module_name).rows(quick=quick)
    for row in rows:
        missing = [key for key in ROW_KEYS if key not in row]
        if missing:
            raise ValueError(f"bench/{module_name}.py row {row.get('workload')!r} lacks {missing}")
    return rows


def debugger_rows(name: str, quick: bool) -> list:
    """The rows of one debugger bench (`DEBUGGER_BENCHES`), measured in a fresh process, as a user meets the
    debugger (`gradscope browse` starts its own). In this one, the heap the rows before it leave behind (the
    50,000-node trace trace_io reads) would make the browser's keys pay for its garbage collection. The child
    imports what this process imports (the same sys.path)."""
    module_name = DEBUGGER_BENCHES[name]
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "rows.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--rows-of", module_name, "--rows-out", str(out)]
        environment = dict(os.environ, PYTHONPATH=os.pathsep.join(entry for entry in sys.path if entry))
        completed = subprocess.run(command + (["--quick"] if quick else []), env=environment,
                                   capture_output=True, text=True)
        if completed.returncode != 0:
            raise RuntimeError(f"bench/{module_name}.py failed in its own process:\n{completed.stderr[-4000:]}")
        return json.loads(out.read_text())


def _extra(extra: dict) -> str:
    return ", ".join(f"{key} {_cell(value) if isinstance(value, (int, float)) else value}"
                     for key, value in extra.items())


def debugger_markdown(rows: list) -> str:
    """The second table: what recording, anomaly mode, trace files and the browser cost."""
    lines = ["| row | dtype | unit | gradscope | baseline | ratio | target | met | also |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        baseline = "–" if row["baseline"] is None else f"{_cell(row['baseline'])} ({row['baseline_name']})"
        lines.append(f"| {row['workload']} | {row['dtype']} | {row['unit']} | {_cell(row['value'])} | {baseline} | "
                     f"{_cell(row['ratio'], 2)} | {row['target']} | {'yes' if row['met'] else 'no'} | "
                     f"{_extra(row['extra'])} |")
    lines += ["", "Debugger rows:"]
    lines += [f"- `{row['workload']}` ({row['dtype']}): {row['description']}" for row in rows]
    return "\n".join(lines) + "\n"


def _version(name: str) -> str | None:
    module = workloads.optional(name)
    return None if module is None else getattr(module, "__version__", "installed")


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"


def cpu_model() -> str:
    """The processor's name, which the ratios depend on: e.g. float32 values below the smallest normal are slow on
    some Intel cores and free on AMD Zen 4, so `narrow` float32 reads ~0.3 apart on the two."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown processor"


def settings_of(size: str, heap_policy: str) -> dict:
    import gradscope
    return {"gradscope": getattr(gradscope, "__version__", "?"), "commit": _commit(), "numpy": np.__version__,
            "pytorch": _version("torch"), "hips": _version("autograd"), "python": platform.python_version(),
            "cpu": cpu_model(), "size": size, "threads": 1, "heap": heap_policy}


def run(names: list, dtypes: list, size: str, repeats: int, budget: float, out: Path, echo=print,
        heap_policy: str = "unchanged") -> list:
    """Measure every (workload, dtype), write OUT.md and OUT.json, and return the rows. `heap_policy` says what
    `heap.keep_freed_memory` did to this process (main calls it first), for the notes."""
    chosen = [w for w in workloads.WORKLOADS if w.name in names]
    rows, extra_rows = [], []
    for workload in chosen:
        for dtype in dtypes:
            row = measure(workload, dtype, size, repeats, budget)
            rows.append(row)
            echo(f"{row['workload']:<11} {dtype}: " + ", ".join(
                f"{key} {value:.2f}" for key, value in row["ratios"].items()))
    for name in (name for name in DEBUGGER_BENCHES if name in names):
        for row in debugger_rows(name, quick=size == "quick"):
            extra_rows.append(row)
            echo(f"{row['workload']:<11} {row['dtype']}: {_cell(row['value'])} {row['unit']}"
                 + ("" if row["ratio"] is None else f", {row['ratio']:.2f}x {row['baseline_name']}"))
    settings = settings_of(size, heap_policy)
    out.parent.mkdir(parents=True, exist_ok=True)
    table = markdown(rows, settings) + ("\n" + debugger_markdown(extra_rows) if extra_rows else "")
    out.with_suffix(".md").write_text(table)
    out.with_suffix(".json").write_text(json.dumps({"settings": settings, "rows": rows, "debugger_rows": extra_rows},
                                                   indent=2) + "\n")
    return rows + extra_rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [w.name for w in workloads.WORKLOADS] + list(DEBUGGER_BENCHES)
    parser.add_argument("--quick", action="store_true", help="small sizes and 3 rounds: a sanity run")
    parser.add_argument("--only", default=",".join(names), help=f"comma-separated workloads among {names}")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--repeats", type=int, default=None, help="rounds per row (default 30, quick 3)")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per row after which rounds stop")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="writes OUT.md and OUT.json")
    parser.add_argument("--rows-of", metavar="MODULE", help=argparse.SUPPRESS)
    parser.add_argument("--rows-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rows_of:  # the child of `debugger_rows_apart`
        args.rows_out.write_text(json.dumps(rows_of(args.rows_of, quick=args.quick)))
        return
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose among {', '.join(names)}")
    dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    if set(dtypes) - {"float32", "float64"}:
        parser.error("--dtypes takes float32 and/or float64")
    repeats = args.repeats if args.repeats is not None else 3 if args.quick else 30
    heap_policy = heap.keep_freed_memory()
    run(chosen, dtypes, "quick" if args.quick else "full", repeats, 0.0 if args.quick else args.budget, args.out,
        heap_policy=heap_policy)
    print(args.out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
