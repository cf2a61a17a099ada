"""How fast the browser opens a big trace and answers keys (issue 15: first paint < 0.7 s, every key < 50 ms).

Builds a synthetic residual-MLP trace (tests/tui/synthetic.py: 50,000 nodes, 16,666 parameters), writes it
to a trace file and reads it back, as `gradscope browse run.gstrace` would, then measures headless at
120×40: the layout alone (`Outline`), the first paint (the app mounted, settled and its screen rendered),
and single keypresses, each timed from the key to the screen rendered again. The same first paint and
cursor move on a 13-node sample model are the floor (Textual's own cost). Reports medians in milliseconds
of wall time and of this process's CPU time (on a machine shared with other work, the CPU time is what an
idle machine's wall time would be), and for reading the file, seconds (trace files belong to
gradscope/trace, not to the browser).

    python bench/tui.py [--nodes 50000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "tui"))

from synthetic import synthetic_trace  # noqa: E402

from gradscope.trace.model import Trace  # noqa: E402
from gradscope.trace.script import run_script  # noqa: E402
from gradscope.trace.tracefile import load_trace, save_trace  # noqa: E402
from gradscope.tui import make_app  # noqa: E402
from gradscope.tui.items import FoldItem, MoreItem  # noqa: E402
from gradscope.tui.outline import Outline  # noqa: E402
from gradscope.tui.widgets.graph_tree import GraphTree  # noqa: E402

SIZE = (120, 40)


Timings = dict[str, list[tuple[float, float]]]  # name → (wall, CPU) seconds of each run


def clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = clocks()
    return wall - start[0], cpu - start[1]


async def session(trace: Trace, timings: Timings, big: bool) -> None:
    """One app run: the first paint and a cursor move, then (on the big trace) one of each other keypress."""
    start = clocks()
    app = make_app(trace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen._compositor.render_update(full=True)  # the whole screen, as the first paint draws it
        timings.setdefault("first paint", []).append(since(start))

        async def timed(name: str, *pressed: str) -> None:
            await pilot.pause()
            began = clocks()
            await pilot.press(*pressed)
            await pilot.pause()
            app.screen._on_timer_update()  # the layout and repaint Textual's refresh timer would do
            timings.setdefault(name, []).append(since(began))

        await timed("key: j (cursor down, onto a node)", "j")
        if not big:
            return
        tree = app.screen.query_one(GraphTree)
        fold = next(line for line in range(tree.last_line + 1) if isinstance(tree.get_node_at_line(line).data,
                                                                             FoldItem))
        tree.move_cursor_to_line(fold - 1)
        await timed("key: j (onto a module: its parameters)", "j")
        await timed("key: n (next anomaly, deep in the graph)", "n")
        await timed("key: g (first line)", "g")
        await timed("key: G (last line)", "G")
        await pilot.press("slash", *"blocks.1")
        await timed("key: one search keystroke (reveals a deep node)", "0")
        await timed("key: ↑ in search (previous match)", "up")
        await pilot.press("escape")
        gap = next(line for line in range(tree.last_line + 1)
                   if isinstance(tree.get_node_at_line(line).data, MoreItem))
        tree.move_cursor_to_line(gap)
        await timed("key: enter on '… more' (a page of 200)", "enter")
        await timed("key: p (parameters view opens)", "p")
        await timed("key: 3 (parameters sorted by grad norm)", "3")
        await timed("key: j in the parameters", "j")
        await timed("key: escape (back to the graph)", "escape")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    began = time.perf_counter()
    built = synthetic_trace(args.nodes)
    print(f"synthetic trace: {len(built.nodes):,} nodes, {len(built.parameters):,} parameters, "
          f"built in {time.perf_counter() - began:.2f} s")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "big.gstrace"
        began = time.perf_counter()
        save_trace(built, path)
        saved = time.perf_counter() - began
        began = time.perf_counter()
        trace = load_trace(path)
        loaded = time.perf_counter() - began
    print(f"trace file: written in {saved:.2f} s, read in {loaded:.2f} s (gradscope/trace, before the browser starts)")
    small = run_script(ROOT / "sample_models" / "nan_log.py").trace

    layout = []
    for _ in range(args.repeats):
        began = clocks()
        Outline(trace)
        layout.append(since(began))
    timings: Timings = {"layout (Outline)": layout}
    floor: Timings = {}
    for _ in range(args.repeats):
        asyncio.run(session(small, floor, big=False))
        asyncio.run(session(trace, timings, big=True))

    def report(name: str, values: list[tuple[float, float]], base: list[tuple[float, float]] | None = None) -> None:
        wall, cpu = (statistics.median(value[clock] for value in values) for clock in (0, 1))
        ratio = f"  {cpu / statistics.median(value[1] for value in base):5.1f}× the floor" if base else ""
        print(f"  {name:<52} {wall * 1000:7.0f} ms {cpu * 1000:7.0f} ms{ratio}")

    print(f"median of {args.repeats} runs, headless at {SIZE[0]}×{SIZE[1]}:{'wall':>38} {'CPU':>10}")
    report("first paint, 13-node sample model (the floor)", floor["first paint"])
    report("key: j, 13-node sample model (the floor)", floor["key: j (cursor down, onto a node)"])
    report(f"first paint, {len(trace.nodes):,} nodes", timings.pop("first paint"), floor["first paint"])
    for name, values in timings.items():
        report(name, values, floor["key: j (cursor down, onto a node)"] if name.startswith("key") else None)


if __name__ == "__main__":
    main()
