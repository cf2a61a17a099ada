"""How fast the browser opens a big trace and answers keys (DESIGN §8: a 50,000-node trace opens in under a second).

Builds a synthetic residual-MLP trace (tests/tui/synthetic.py), then measures, headless at 120×40:
the layout alone (`Outline`), mounting the app until it has settled, and single keypresses (cursor
down, next anomaly, one search keystroke, opening a page of "… more"). The same mount and cursor
move on a 13-node sample model are the floor (Textual's own cost). Reports medians in milliseconds.

    python bench/tui.py [--nodes 50000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "tui"))

from synthetic import synthetic_trace  # noqa: E402

from gradscope.trace.model import Trace  # noqa: E402
from gradscope.trace.script import run_script  # noqa: E402
from gradscope.tui import make_app  # noqa: E402
from gradscope.tui.items import MoreItem  # noqa: E402
from gradscope.tui.outline import Outline  # noqa: E402
from gradscope.tui.widgets.graph_tree import GraphTree  # noqa: E402

SIZE = (120, 40)


async def session(trace: Trace, timings: dict[str, list[float]], big: bool) -> None:
    """One app run: the mount and a cursor move, then (on the big trace) one of each other keypress."""
    start = time.perf_counter()
    app = make_app(trace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        timings.setdefault("mount", []).append(time.perf_counter() - start)

        async def timed(name: str, *pressed: str) -> None:
            began = time.perf_counter()
            await pilot.press(*pressed)
            await pilot.pause()
            timings.setdefault(name, []).append(time.perf_counter() - began)

        await timed("key: cursor down", "down")
        if not big:
            return
        await timed("key: next anomaly", "n")
        await pilot.press("slash", *"blocks.1")
        await timed("key: one search keystroke (reveals a deep node)", "0")
        await pilot.press("escape")
        tree = app.screen.query_one(GraphTree)
        gap = next(line for line in range(tree.last_line + 1)
                   if isinstance(tree.get_node_at_line(line).data, MoreItem))
        tree.move_cursor_to_line(gap)
        await pilot.pause()
        await timed("key: enter on '… more' (a page of 200)", "enter")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    began = time.perf_counter()
    trace = synthetic_trace(args.nodes)
    print(f"synthetic trace: {len(trace.nodes):,} nodes, built in {time.perf_counter() - began:.2f} s")
    small = run_script(ROOT / "sample_models" / "nan_log.py").trace

    layout = []
    for _ in range(args.repeats):
        began = time.perf_counter()
        Outline(trace)
        layout.append(time.perf_counter() - began)
    timings: dict[str, list[float]] = {"layout (Outline)": layout}
    floor: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        asyncio.run(session(small, floor, big=False))
        asyncio.run(session(trace, timings, big=True))

    def report(name: str, values: list[float]) -> None:
        print(f"  {name:<52} {statistics.median(values) * 1000:8.0f} ms")

    print(f"median of {args.repeats} runs, headless at {SIZE[0]}×{SIZE[1]}:")
    report("mount, 13-node sample model (the floor)", floor["mount"])
    report("key: cursor down, 13-node sample model (the floor)", floor["key: cursor down"])
    for name, values in timings.items():
        report(f"{name}" if name != "mount" else f"mount, {len(trace.nodes):,} nodes", values)


if __name__ == "__main__":
    main()
