"""`gradscope browse A B`: run A's tree with the differing nodes marked, opening on the first
divergence, `n` walking the differences, the detail pane showing both sides (driven with Pilot)."""

import asyncio
import io

from diff_helpers import pair
from rich.console import Console
from textual.widgets import Static

import gradscope as torch
from gradscope.checks.assertions import GradRecorder
from gradscope.compare import compare_traces
from gradscope.trace.script import run_script
from gradscope.tui import make_app
from gradscope.tui.screens.diff import DiffScreen
from gradscope.tui.widgets.graph_tree import GraphTree


def plain(renderable) -> str:
    console = Console(width=100, file=io.StringIO(), color_system=None, record=True)
    console.print(renderable)
    return console.export_text()


def drive(app, scenario):
    async def main():
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            return await scenario(pilot)
    return asyncio.run(main())


def test_the_diff_opens_on_the_first_divergence_with_both_sides():
    a, b = run_script(pair("base")).trace, run_script(pair("changed_op")).trace
    report = compare_traces(a, b, a_label="base.py", b_label="changed_op.py")
    app = make_app(a, compared=(b, report))

    async def scenario(pilot):
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        tree = screen.query_one(GraphTree)
        assert tree.current_node == report.first.a.id  # the tanh that became a sigmoid
        assert "≠ op" in tree.cursor_node.label.plain
        sides = plain(screen.query_one("#diff-sides", Static).content)
        assert "≠ different op" in sides
        assert "A  base.py" in sides and "B  changed_op.py" in sides
        assert "TanhBackward0" in sides and "SigmoidBackward0" in sides
        assert "first divergence: pass 0, forward, in model.encoder" in str(screen.query_one("#status", Static).content)
        seen = [tree.current_node]
        for _ in range(len(screen.differing)):
            await pilot.press("n")
            seen.append(tree.current_node)
        assert seen[-1] == seen[0] and set(seen) == set(screen.differing)  # n cycles through every marked node
        await pilot.press("N")
        assert tree.current_node == screen.differing[-1]
        await pilot.press("question_mark")
        help_text = "\n".join(plain(static.content) for static in app.screen.query(Static))
        assert "Next node that differs (in execution order)" in help_text
        await pilot.press("escape")
        assert app.screen is screen

    drive(app, scenario)


def test_equal_runs_say_so_and_mark_nothing():
    a = run_script(pair("base")).trace
    report = compare_traces(a, a)
    app = make_app(a, compared=(a, report))

    async def scenario(pilot):
        screen = app.screen
        assert screen.differing == []
        assert "equal within tolerance" in str(screen.query_one("#status", Static).content)
        assert "= the same in both runs" in plain(screen.query_one("#diff-sides", Static).content)
        tree = screen.query_one(GraphTree)
        assert "≠" not in tree.cursor_node.label.plain

    drive(app, scenario)


def _lines(tree_node):
    for child in tree_node.children:
        yield child
        yield from _lines(child)


def _two_passes(scale):
    w = torch.ones(3, requires_grad=True)
    recorder = GradRecorder()
    with recorder:
        (w * 2).sum().backward()
        (w * scale).sum().backward()
    return recorder.trace


def test_passes_switch_and_each_marks_its_own_differences():
    a, b = _two_passes(3.0), _two_passes(4.0)
    report = compare_traces(a, b)
    app = make_app(a, compared=(b, report))

    async def scenario(pilot):
        screen = app.screen
        tree = screen.query_one(GraphTree)
        assert screen.pass_index == 1 and "pass 1 of 2" in screen.sub_title  # the first divergence's, from 0
        assert a.nodes[tree.current_node].op == "mul" and "≠ forward" in tree.cursor_node.label.plain
        await pilot.press("left_square_bracket")
        assert screen.pass_index == 0 and screen.differing == []  # pass 0 is the same in both runs
        assert "≠" not in "".join(line.label.plain for line in _lines(tree.root))  # nor the leaf
        await pilot.press("right_square_bracket")
        assert screen.pass_index == 1 and screen.differing
        assert any("≠ gradient" in line.label.plain for line in _lines(tree.root))  # w's .grad in pass 2

    drive(app, scenario)
