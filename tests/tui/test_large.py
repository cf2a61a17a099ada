"""A 50,000-node trace opens lazily and answers keys; the timings are reported (`-s`, or the junit
properties), never asserted: bench/tui.py is where they are measured properly."""

import asyncio
import time

from synthetic import synthetic_trace

from gradscope.tui import make_app
from gradscope.tui.items import FoldItem, MoreItem
from gradscope.tui.widgets.graph_tree import GraphTree


def test_a_50000_node_trace_mounts_lazily_and_answers_keys(record_property):
    trace = synthetic_trace(50_000)
    assert len(trace.nodes) >= 49_990
    culprit = trace.culprits()[0].node
    deep_leaf = next(n.id for n in trace.nodes.values() if n.leaf_name == "model.blocks.7.fc.weight")
    app = make_app(trace)
    timings = {}

    async def timed(name, pilot, *keys):
        start = time.perf_counter()
        await pilot.press(*keys)
        await pilot.pause()
        timings[name] = time.perf_counter() - start

    async def main():
        start = time.perf_counter()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            timings["mount"] = time.perf_counter() - start
            tree = app.screen.query_one(GraphTree)
            assert tree.last_line < 1000  # only a few levels are built
            await timed("down", pilot, "down")
            await timed("next anomaly", pilot, "n")
            assert tree.current_node == culprit
            await timed("search", pilot, "slash", *"blocks.7.fc.weight")
            assert tree.current_node == deep_leaf
            assert tree.last_line < 2000  # the pages in between stay folded under "… more" lines
            gap = next(line for line in range(tree.last_line + 1)
                       if isinstance(tree.get_node_at_line(line).data, MoreItem))
            await pilot.press("escape")
            tree.move_cursor_to_line(gap)
            lines = tree.last_line
            await timed("show more", pilot, "enter")
            assert lines < tree.last_line <= lines + 200
            assert not isinstance(tree.get_node_at_line(gap).data, MoreItem)

    asyncio.run(main())
    for name, seconds in timings.items():
        record_property(f"{name} (s)", round(seconds, 3))
    print("\n50,000-node trace: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in timings.items()))


def test_tree_lines_are_labelled_when_drawn_or_read():
    """`e` adds hundreds of lines, a screenful of which is drawn: only those (and any whose label is read) are
    labelled, however many were added; what they show is the labeller's label."""
    trace = synthetic_trace(2_000)
    app = make_app(trace)

    async def main():
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            tree = app.screen.query_one(GraphTree)
            labelled = []
            labeller = tree._labeller

            def counted(item):
                labelled.append(item)
                return labeller(item)

            tree._labeller = counted
            tree.move_cursor_to_line(next(line for line in range(tree.last_line + 1)
                                          if isinstance(tree.get_node_at_line(line).data, FoldItem)))
            lines = tree.last_line
            await pilot.press("e")
            await pilot.pause()
            assert tree.last_line > lines + 500
            assert 0 < len(labelled) <= 40  # the lines on screen
            far = tree.get_node_at_line(tree.last_line)
            assert far.data not in labelled and far.label.plain == labeller(far.data).plain

    asyncio.run(main())
