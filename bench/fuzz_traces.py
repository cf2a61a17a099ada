"""Trace files as untrusted input, at scale: seeded mutants of a real trace, each loaded, exported and
browsed (or refused with TraceFormatError) in a worker process that measures its time and peak memory.

The mutation classes are tests/trace/trace_mutants.py's (the test suite runs a few hundred of them).
A crash is any other exception; a hang is a mutant that takes over 2 s (a worker silent for 30 s is
killed and replaced). Peak RSS is the worker's whole resident memory while it handles one mutant,
measured by resetting the kernel's high-water mark before each one (Linux); time and RSS cover
loading, exporting and browsing, not building the mutant. Exits 1 if anything crashed or hung, or
went over the 300 MB budget.

    python bench/fuzz_traces.py [--count 10000] [--seed 0] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "trace"))

HANG_SECONDS = 2.0
SILENT_SECONDS = 30.0  # a worker that answers nothing for this long is stuck: killed, its mutant a hang
BUDGET_MB = 300


# ------------------------------------------------------------------------------------ in a worker
def _peak_rss_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def _reset_peak_rss() -> None:
    with open("/proc/self/clear_refs", "w") as control:
        control.write("5")  # the high-water mark restarts from the current RSS


def worker() -> None:
    """Read seeds from stdin; for each, write one JSON line: outcome, seconds, peak RSS in kB."""
    from trace_mutants import exercise, mutant, sample_bytes

    original = sample_bytes()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "mutant.gstrace"
        print(json.dumps({"ready": _peak_rss_kb()}), flush=True)
        for line in sys.stdin:
            seed = int(line)
            kind, data = mutant(original, seed)
            path.write_bytes(data)
            del data
            _reset_peak_rss()
            start = time.perf_counter()
            try:
                outcome = exercise(path)
            except Exception as error:  # a crash: what the bench is looking for
                outcome = f"crash: {type(error).__name__}: {str(error)[:300]}"
            seconds = time.perf_counter() - start
            print(json.dumps({"seed": seed, "kind": kind, "outcome": outcome, "seconds": seconds,
                              "rss_kb": _peak_rss_kb()}), flush=True)


# ------------------------------------------------------------------------------------ the parent
class Worker:
    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, __file__, "--worker"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, bufsize=1)
        self.ready_rss_kb = json.loads(self.process.stdout.readline())["ready"]
        self.seed: int | None = None
        self.since = 0.0

    def send(self, seed: int) -> None:
        self.seed, self.since = seed, time.monotonic()
        self.process.stdin.write(f"{seed}\n")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def run(seeds: range, workers: int) -> tuple[list[dict], int]:
    """Every seed's result (hangs included), and the largest RSS of a worker before its first mutant."""
    pending = list(reversed(seeds))
    results: list[dict] = []
    pool = [Worker() for _ in range(workers)]
    baseline = max(w.ready_rss_kb for w in pool)
    selector = selectors.DefaultSelector()
    for w in pool:
        selector.register(w.process.stdout, selectors.EVENT_READ, w)
        w.send(pending.pop())
    try:
        while any(w.seed is not None for w in pool):
            for key, _ in selector.select(timeout=1.0):
                w = key.data
                results.append(json.loads(w.process.stdout.readline()))
                w.seed = None
                if pending:
                    w.send(pending.pop())
                if len(results) % 1000 == 0:
                    print(f"  {len(results):,} mutants …", file=sys.stderr, flush=True)
            for index, w in enumerate(pool):
                if w.seed is not None and time.monotonic() - w.since > SILENT_SECONDS:
                    results.append({"seed": w.seed, "kind": "?", "outcome": "hang (killed)",
                                    "seconds": SILENT_SECONDS, "rss_kb": 0})
                    selector.unregister(w.process.stdout)
                    w.stop()
                    pool[index] = fresh = Worker()
                    selector.register(fresh.process.stdout, selectors.EVENT_READ, fresh)
                    if pending:
                        fresh.send(pending.pop())
    finally:
        for w in pool:
            w.stop()
    return results, baseline


def report(results: list[dict], baseline_kb: int, elapsed: float) -> int:
    crashes = [r for r in results if r["outcome"].startswith("crash")]
    hangs = [r for r in results if r["outcome"].startswith("hang") or r["seconds"] > HANG_SECONDS]
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for result in results:
        by_kind[result["kind"]].append(result)
    print(f"{'mutation class':<20} {'mutants':>7} {'loaded':>7} {'refused':>8} {'late':>6} {'max s':>7} {'max MB':>7}")
    for kind, group in sorted(by_kind.items()):
        outcomes = Counter(r["outcome"] for r in group)
        print(f"{kind:<20} {len(group):>7} {outcomes['loaded']:>7} {outcomes['refused']:>8} "
              f"{outcomes['refused late']:>6} {max(r['seconds'] for r in group):>7.3f} "
              f"{max(r['rss_kb'] for r in group) / 1024:>7.0f}")
    slowest = max(results, key=lambda r: r["seconds"])
    largest = max(results, key=lambda r: r["rss_kb"])
    print(f"\n{len(results):,} mutants in {elapsed:.0f} s: {len(crashes)} crashes, "
          f"{len(hangs)} hangs (> {HANG_SECONDS} s)")
    print(f"max time {slowest['seconds']:.3f} s (seed {slowest['seed']}, {slowest['kind']})")
    print(f"max RSS {largest['rss_kb'] / 1024:.0f} MB (seed {largest['seed']}, {largest['kind']}); "
          f"a worker holds {baseline_kb / 1024:.0f} MB before its first mutant; budget {BUDGET_MB} MB")
    for result in (crashes + hangs)[:20]:
        print(f"  seed {result['seed']} ({result['kind']}): {result['outcome']} in {result['seconds']:.3f} s")
    over_budget = largest["rss_kb"] / 1024 > BUDGET_MB
    return 1 if crashes or hangs or over_budget else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="how many mutants")
    parser.add_argument("--seed", type=int, default=0, help="the first seed; mutants are seed … seed+count-1")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker()
        return
    start = time.perf_counter()
    results, baseline = run(range(args.seed, args.seed + args.count), args.workers)
    sys.exit(report(results, baseline, time.perf_counter() - start))


if __name__ == "__main__":
    main()
