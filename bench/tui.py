"""How fast the browser opens a big trace and answers keys (issue 15: first paint < 0.7 s, every key < 50 ms).

Builds a synthetic residual-MLP trace (tests/tui/synthetic.py: 50,000 nodes, 16,666 parameters, two backward
passes), writes it to a trace file and reads it back, as `gradscope browse run.gstrace` would, then measures
headless at 120×40: the layout alone (`Outline`), the first paint (the app mounted, settled and its screen
rendered), the work done ahead while the user reads it (waited for: a user looks before pressing keys): the other
pass laid out in a thread, then the help and the lists mounted, hidden, and every kind of key the browser answers
(moving, paging, folding, search, the other views and back, switching passes), each timed from the key to the
screen rendered again; the anomaly list made (mounted ahead), its first open and keys on a trace with 2,520
anomalies (`with_propagators`); and the full garbage collection the app runs once the keys
stop (gradscope/tui/collector.py: never during a burst of keys). The same first paint and cursor move on a
13-node sample model are the floor (Textual's own cost). Reports medians of this process's
CPU time (on a machine shared with other work, the CPU time is what an idle machine's wall time would be)
beside the wall time; reading the trace file is reported apart (trace files belong to gradscope/trace).

    python bench/tui.py [--nodes 50000] [--repeats 5] [--quick] [--profile 'a key's name']
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "tui"))

from synthetic import synthetic_trace, with_propagators  # noqa: E402

from gradscope.trace.model import Trace  # noqa: E402
from gradscope.trace.script import run_script  # noqa: E402
from gradscope.trace.tracefile import load_trace, save_trace  # noqa: E402
from gradscope.tui import make_app  # noqa: E402
from gradscope.tui.items import FoldItem, MoreItem  # noqa: E402
from gradscope.tui.outline import Outline  # noqa: E402
from gradscope.tui.screens.anomalies import AnomaliesScreen  # noqa: E402
from gradscope.tui.screens.help import HelpScreen  # noqa: E402
from gradscope.tui.screens.main import LAYOUT_AHEAD_AFTER, MainScreen  # noqa: E402
from gradscope.tui.screens.parameters import ParametersScreen  # noqa: E402
from gradscope.tui.screens.passes import PassesScreen  # noqa: E402
from gradscope.tui.screens.tensor import TensorScreen  # noqa: E402
from gradscope.tui.widgets.anomaly_list import AnomalyList  # noqa: E402
from gradscope.tui.widgets.graph_tree import GraphTree  # noqa: E402
from gradscope.tui.widgets.tensor_table import TensorTable  # noqa: E402

SIZE = (120, 40)
NODES, QUICK_NODES = 50_000, 2_000
ANOMALIES = 2_520  # s12 measured the anomaly list's first open on 2,520 anomalies: 2.09 s
FIRST_PAINT_TARGET_MS, KEY_TARGET_MS, FIRST_OPEN_TARGET_MS = 700, 50, 300
FIRST_OPEN = "a (the anomaly list opens the first time)"
PROFILE_LINES = 60

Clock = tuple[float, float]  # (wall, CPU) seconds
Timings = dict[str, list[Clock]]  # name → the (wall, CPU) seconds of each run


def clocks() -> Clock:
    return time.perf_counter(), time.process_time()


def since(start: Clock) -> Clock:
    wall, cpu = clocks()
    return wall - start[0], cpu - start[1]


def first_line(tree: GraphTree, kind: type, after: int = 0) -> int:
    """The first tree line at or after `after` whose item is a `kind`."""
    return next(line for line in range(after, tree.last_line + 1) if isinstance(tree.get_node_at_line(line).data, kind))


async def ahead(app, pilot, timings: Timings, name: str = "screens ahead") -> None:
    """Wait for the work the app does ahead while the user reads the first screen, as a user would before pressing
    keys: the passes one key away laid out and the parameters' figures worked out (threads), then the help and the
    lists mounted, hidden, laid out (the main thread: its CPU time goes in `timings[name]`)."""
    await app.workers.wait_for_complete()
    began = clocks()
    while not (app.screen.drawn_ahead and app.is_screen_installed("help") and app.get_screen("help").laid_out_ahead):
        await pilot.pause(0.01)
    timings.setdefault(name, []).append(since(began))


def timer(app, pilot, timings: Timings, profile: str | None = None):
    """`timed(name, key, then)`: times `key` from its press to the screen rendered again into `timings[name]`;
    `then` checks it did what `name` says (the screen it leads to, or a test). Keys whose name contains
    `profile` are run under cProfile, and the profile printed."""

    async def timed(name: str, key: str, then: type | Callable[[], bool] | None = None) -> None:
        await pilot.pause()
        profiler = cProfile.Profile() if profile is not None and profile in name else None
        began = clocks()
        if profiler is not None:
            profiler.enable()
        await pilot.press(key)
        await pilot.pause()
        app.screen._on_timer_update()  # the layout and repaint Textual's refresh timer would do
        if profiler is not None:
            profiler.disable()
            print(f"key: {name}")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(PROFILE_LINES)
        timings.setdefault(name, []).append(since(began))
        done = isinstance(app.screen, then) if isinstance(then, type) else then() if then else True
        assert done, f"{name}: not done ({app.screen}, focus {app.focused})"

    return timed


async def session(trace: Trace, timings: Timings, every_key: bool, profile: str | None = None) -> None:
    """One app run: the first paint and a cursor move; with `every_key`, one press of every kind of key.
    Keys whose name contains `profile` are run under cProfile, and the profile printed."""
    start = clocks()
    app = make_app(trace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen._compositor.render_update(full=True)  # the whole screen, as the first paint draws it
        timings.setdefault("first paint", []).append(since(start))
        began = clocks()
        await pilot.pause(LAYOUT_AHEAD_AFTER)  # the passes one key away, laid out in a thread a moment after the
        # first paint (under a heavy load the first paint may take longer than that moment, and include some of it)
        await app.workers.wait_for_complete()
        timings.setdefault("layout ahead", []).append(since(began))
        await ahead(app, pilot, timings)
        timed = timer(app, pilot, timings, profile)
        tree = app.screen.query_one(GraphTree)
        if not every_key:
            await timed("j", "j")
            return
        await timed("j (onto the top module: every parameter)", "j", lambda: isinstance(tree.cursor_item, FoldItem))
        await timed("k (onto a node)", "k", lambda: tree.cursor_line == 0)
        await timed("pagedown", "pagedown", lambda: tree.cursor_line > 1)
        await timed("pageup", "pageup", lambda: tree.cursor_line == 0)
        await timed("G (last line)", "G", lambda: tree.cursor_line == tree.last_line)
        await timed("g (first line)", "g", lambda: tree.cursor_line == 0)
        fold = first_line(tree, FoldItem, after=3)
        tree.move_cursor_to_line(fold)
        await timed("l (expand a module)", "l", lambda: tree.cursor_node.is_expanded)
        await timed("h (collapse it)", "h", lambda: not tree.cursor_node.is_expanded)
        tree.move_cursor_to_line(first_line(tree, MoreItem))
        await timed("enter on '… more' (a page of 200)", "enter",
                    lambda: not isinstance(tree.cursor_item, MoreItem))
        tree.move_cursor_to_line(first_line(tree, FoldItem))  # the top module
        lines = tree.last_line
        await timed("e (expand everything under the top module)", "e", lambda: tree.last_line > lines + 500)
        await timed("c (collapse everything under it)", "c", lambda: tree.last_line < lines)
        await timed("n (next anomaly, deep in the graph)", "n", lambda: tree.current_node == trace.culprits()[0].node)
        await timed("N (previous anomaly)", "N")
        await timed("/ (search opens)", "slash")
        for key in "blocks.1":
            await pilot.press(key)
        await timed("a search keystroke (reveals a deep node)", "0")
        await timed("↓ in search (next match)", "down")
        await timed("↑ in search (previous match)", "up")
        await timed("escape (search closes)", "escape", lambda: app.focused is tree)
        await timed("tab (to the detail pane)", "tab", lambda: app.focused is not tree)
        await timed("tab (to the tensor table)", "tab", lambda: isinstance(app.focused, TensorTable))
        await timed("j in the tensor table", "j")
        await timed("enter (a tensor opens)", "enter", TensorScreen)
        await timed("escape (back to the graph)", "escape", MainScreen)
        tree.focus()
        await timed("p (parameters view opens)", "p", ParametersScreen)
        await timed("3 (parameters sorted by grad norm)", "3")
        await timed("j in the parameters", "j")
        await timed("pagedown in the parameters", "pagedown")
        await timed("G in the parameters", "G")
        await timed("escape (back from the parameters)", "escape", MainScreen)
        await timed("a (anomalies view opens)", "a", AnomaliesScreen)
        await timed("escape (back from the anomalies)", "escape", MainScreen)
        await timed("P (pass selector opens)", "P", PassesScreen)
        await timed("j in the pass selector", "j")
        await timed("enter (shows the chosen pass)", "enter", lambda: app.screen.pass_index == 1)
        await timed("] (next pass)", "right_square_bracket", lambda: app.screen.pass_index == 0)
        await timed("? (help opens)", "question_mark", HelpScreen)
        await timed("escape (back from help)", "escape", MainScreen)
        began = clocks()
        app.collector.collect()  # what the app does once no key came for a moment, after all these keys
        timings.setdefault("idle collection", []).append(since(began))


async def anomaly_session(trace: Trace, timings: Timings, profile: str | None = None) -> None:
    """The anomaly list of a trace with thousands of anomalies: its first open (every anomaly measured for
    the list's height), keys in it, and its second open (kept: 14 ms)."""
    app = make_app(trace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(LAYOUT_AHEAD_AFTER)
        await ahead(app, pilot, timings, "anomaly list ahead")  # the list of 2,520 anomalies is mounted there
        timed = timer(app, pilot, timings, profile)
        count = f"{len(trace.anomalies):,}"
        await timed(FIRST_OPEN, "a", AnomaliesScreen)
        listed = app.screen.query_one(AnomalyList)
        await timed(f"j in {count} anomalies", "j", lambda: listed.highlighted == 1)
        await timed(f"pagedown in {count} anomalies", "pagedown", lambda: listed.highlighted > 2)
        await timed(f"G in {count} anomalies (the last)", "G", lambda: listed.highlighted == len(trace.anomalies) - 1)
        await timed(f"g in {count} anomalies (the first)", "g", lambda: listed.highlighted == 0)
        await timed(f"escape (back from {count} anomalies)", "escape", MainScreen)
        await timed(f"a ({count} anomalies again)", "a", AnomaliesScreen)
        await timed(f"enter on one of {count} anomalies (to its node)", "enter", MainScreen)


def median_ms(values: list[Clock], clock: int) -> float:
    return statistics.median(value[clock] for value in values) * 1000


def measure(nodes: int, repeats: int, profile: str | None = None) -> dict:
    """Every figure of one run: the trace file's times, the layout, the floor, the first paint and each key."""
    built = synthetic_trace(nodes, passes=2)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "big.gstrace"
        began = clocks()
        save_trace(built, path)
        saved = since(began)
        began = clocks()
        trace = load_trace(path)
        loaded = since(began)
    small = run_script(ROOT / "sample_models" / "nan_log.py").trace
    anomalous = with_propagators(synthetic_trace(QUICK_NODES, passes=2), ANOMALIES - 1)  # and its culprit
    layout = []
    for _ in range(repeats):
        began = clocks()
        Outline(trace)
        layout.append(since(began))
    timings: Timings = {}
    floor: Timings = {}
    for _ in range(repeats):
        for sample, figures, every_key in ((small, floor, False), (trace, timings, True)):
            # NOTE: `gradscope browse` runs one app per process; here the garbage of the app before (its
            # objects, and the trace it unfroze as it ended) would be collected during this one's first paint
            gc.collect()
            asyncio.run(session(sample, figures, every_key, profile=profile if every_key else None))
        gc.collect()
        asyncio.run(anomaly_session(anomalous, timings, profile))
    return {"anomalies": len(anomalous.anomalies), "anomaly list": timings[FIRST_OPEN],
            "nodes": len(trace.nodes), "parameters": len(trace.parameters), "repeats": repeats,
            "file": {"write": saved, "read": loaded}, "layout": layout, "floor": floor,
            "first paint": timings.pop("first paint"), "layout ahead": timings.pop("layout ahead"),
            "screens ahead": timings.pop("screens ahead"), "anomaly list ahead": timings.pop("anomaly list ahead"),
            "idle collection": timings.pop("idle collection"), "keys": timings}  # and those in the anomalies


def rows(quick: bool = False) -> list[dict]:
    """bench/run.py's rows: the first paint and the slowest key (the worst median over every kind of key), in
    CPU milliseconds; quick=True: a 2,000-node trace, one run (a check of the harness, not a measurement)."""
    figures = measure(QUICK_NODES if quick else NODES, 1 if quick else 5)
    keys = {name: round(median_ms(values, 1), 1) for name, values in figures["keys"].items()}
    slowest = max(keys, key=keys.get)
    where = (f"{figures['nodes']:,}-node trace ({figures['parameters']:,} parameters, 2 passes), headless "
             f"{SIZE[0]}×{SIZE[1]}, median of {figures['repeats']}; CPU time: the machine is shared, CPU time is "
             f"what an idle machine's wall time would be")
    paint = median_ms(figures["first paint"], 1)
    made = median_ms(figures["anomaly list ahead"], 1)
    return [
        {"workload": "browser first paint", "dtype": "-", "unit": "ms",
         "description": f"make_app to the first screen rendered, trace already read; {where}",
         "value": round(paint, 1), "baseline": None, "baseline_name": None, "ratio": None,
         "target": f"< {FIRST_PAINT_TARGET_MS} ms", "met": paint < FIRST_PAINT_TARGET_MS,
         "extra": {"wall_ms": round(median_ms(figures["first paint"], 0), 1),
                   "floor_13_nodes_ms": round(median_ms(figures["floor"]["first paint"], 1), 1),
                   "layout_ms": round(median_ms(figures["layout"], 1), 1),
                   "layout_ahead_ms": round(median_ms(figures["layout ahead"], 1), 1),
                   "screens_ahead_ms": round(median_ms(figures["screens ahead"], 1), 1),
                   "idle_collection_ms": round(median_ms(figures["idle collection"], 1), 1),
                   **{f"trace_file_{step}_{clock}s": round(figures["file"][step][index], 2)
                      for step in ("read", "write") for index, clock in enumerate(("", "cpu_"))}}},
        {"workload": "browser per key", "dtype": "-", "unit": "ms",
         "description": f"the slowest kind of key ({slowest}), from the press to the screen rendered again, "
                        f"worst median over {len(keys)} kinds of key; {where}",
         "value": keys[slowest], "baseline": None, "baseline_name": None, "ratio": None,
         "target": f"< {KEY_TARGET_MS} ms", "met": keys[slowest] < KEY_TARGET_MS,
         "extra": {"slowest": slowest, "floor_13_nodes_j_ms": round(median_ms(figures["floor"]["j"], 1), 1),
                   **{f"{name} ms": value for name, value in keys.items()}}},
        {"workload": "browser anomaly list", "dtype": "-", "unit": "ms",
         "description": f"the anomaly list of {figures['anomalies']:,} anomalies (a {QUICK_NODES:,}-node trace) made: "
                        f"mounted and laid out, hidden, while the first screen is read (with the help and the other "
                        f"lists), main thread; a, its first open, and its keys are in the per-key row; headless "
                        f"{SIZE[0]}×{SIZE[1]}, median of {figures['repeats']}, CPU time",
         "value": round(made, 1), "baseline": None, "baseline_name": None, "ratio": None,
         "target": f"< {FIRST_OPEN_TARGET_MS} ms", "met": made < FIRST_OPEN_TARGET_MS,
         "extra": {"wall_ms": round(median_ms(figures["anomaly list ahead"], 0), 1),
                   "first_open_ms": round(median_ms(figures["anomaly list"], 1), 1)}},
    ]


def report(figures: dict) -> None:
    floor = figures["floor"]

    def line(name: str, values: list[Clock], base: list[Clock] | None = None) -> None:
        cpu = median_ms(values, 1)
        ratio = f"  {cpu / median_ms(base, 1):5.1f}× the floor" if base else ""
        print(f"  {name:<52} {median_ms(values, 0):7.0f} ms {cpu:7.0f} ms{ratio}")

    write, read = figures["file"]["write"], figures["file"]["read"]
    print(f"trace file ({figures['nodes']:,} nodes, {figures['parameters']:,} parameters, 2 passes): written in "
          f"{write[0]:.2f} s ({write[1]:.2f} s CPU), read in {read[0]:.2f} s ({read[1]:.2f} s CPU) "
          f"(gradscope/trace, before the browser starts)")
    print(f"median of {figures['repeats']} runs, headless at {SIZE[0]}×{SIZE[1]}:{'wall':>38} {'CPU':>10}")
    line("first paint, 13-node sample model (the floor)", floor["first paint"])
    line("key: j, 13-node sample model (the floor)", floor["j"])
    line(f"first paint, {figures['nodes']:,} nodes", figures["first paint"], floor["first paint"])
    line("layout (Outline)", figures["layout"])
    line("then the other pass laid out ahead (a thread)", figures["layout ahead"])
    line("then the help and the lists mounted ahead", figures["screens ahead"])
    line("garbage collected after the keys (when input stops)", figures["idle collection"])
    for name, values in figures["keys"].items():
        line(f"key: {name}", values, floor["j"])
    line(f"the list of {figures['anomalies']:,} anomalies mounted ahead", figures["anomaly list ahead"])
    line(f"key: a, first open of {figures['anomalies']:,} anomalies", figures["anomaly list"], floor["j"])
    slowest = max(figures["keys"], key=lambda name: median_ms(figures["keys"][name], 1))
    print(f"slowest key (CPU): {slowest}, {median_ms(figures['keys'][slowest], 1):.0f} ms "
          f"(target < {KEY_TARGET_MS} ms); first paint {median_ms(figures['first paint'], 1):.0f} ms "
          f"(target < {FIRST_PAINT_TARGET_MS} ms); the anomaly list made (ahead) "
          f"{median_ms(figures['anomaly list ahead'], 1):.0f} ms (target < {FIRST_OPEN_TARGET_MS} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=NODES)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_NODES:,} nodes, one run")
    parser.add_argument("--profile", metavar="TEXT", help="print a cProfile of the keys whose name contains TEXT")
    args = parser.parse_args()
    nodes, repeats = (QUICK_NODES, 1) if args.quick else (args.nodes, args.repeats)
    report(measure(nodes, repeats, args.profile))


if __name__ == "__main__":
    main()
