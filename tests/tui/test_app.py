"""The browser driven with Pilot: every binding and flow (open, expand, search, anomalies, parameters, passes,
tensors, help, save, re-run, errors, quit, mouse)."""

import inspect
import io
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from rich.measure import Measurement
from rich.text import Text
from synthetic import synthetic_trace
from textual import events
from textual.screen import Screen
from textual.style import Style
from textual.widgets import Static
from textual.widgets._footer import FooterKey
from tui_helpers import MASK_MODEL, NAN_MODEL, drive, plain, recorded, sample, screen_lines

from gradscope._format import format_number
from gradscope.trace import Trace, load_trace
from gradscope.trace.model import TensorRecord
from gradscope.trace.script import ScriptError, run_script
from gradscope.trace.tracefile import TraceFormatError, save_trace
from gradscope.tui import make_app
from gradscope.tui.app import HELP_AHEAD_AFTER, GradscopeApp
from gradscope.tui.items import FoldItem, LinkItem, NodeItem
from gradscope.tui.keys import KeyScroll
from gradscope.tui.modules import MODULE_ROWS
from gradscope.tui.outline import PAGE, Outline
from gradscope.tui.present import ordered_anomalies
from gradscope.tui.screens import main as main_screen
from gradscope.tui.screens.anomalies import AnomaliesScreen
from gradscope.tui.screens.error import ErrorScreen
from gradscope.tui.screens.help import Drawn, HelpScreen, HelpText
from gradscope.tui.screens.loading import LoadingScreen
from gradscope.tui.screens.main import LAYOUT_AHEAD_AFTER, MainScreen
from gradscope.tui.screens.parameters import ParametersScreen
from gradscope.tui.screens.save import SaveScreen
from gradscope.tui.screens.tensor import TensorScreen
from gradscope.tui.widgets.anomaly_list import AnomalyList
from gradscope.tui.widgets.graph_tree import EXPAND_ALL_BUDGET, GraphTree
from gradscope.tui.widgets.key_footer import KeyFooter
from gradscope.tui.widgets.node_detail import NodeDetail
from gradscope.tui.widgets.parameters_table import ParametersTable
from gradscope.tui.widgets.search_bar import SearchBar
from gradscope.tui.widgets.tensor_table import TensorTable
from gradscope.tui.widgets.tensor_view import TensorView


def node_id(trace, label, scope=None):
    (found,) = [n.id for n in trace.nodes.values() if n.label == label and (scope is None or n.scope == scope)]
    return found


def tree(app) -> GraphTree:
    return app.screen.query_one(GraphTree)


def status(app) -> str:
    return str(app.screen.query_one("#status", Static).content)


def summary(app) -> str:
    return plain(app.screen.query_one("#node-summary", Static).content)


def test_opens_on_the_loss_with_its_details():
    trace = recorded(NAN_MODEL)
    app = make_app(trace)

    async def scenario(pilot):
        assert isinstance(app.screen, MainScreen)
        assert app.screen.sub_title == f"pass 0 of 1 · 13 nodes · {len(trace.anomalies)} anomalies"
        assert tree(app).current_node == node_id(trace, "MeanBackward0")
        assert tree(app).last_line == 16  # a small graph opens fully expanded: 17 lines
        assert app.screen.query_one(NodeDetail).node_id == node_id(trace, "MeanBackward0")
        text = summary(app)
        assert f"{NAN_MODEL}:40 in loss" in text
        assert "▶40     return (model(x) * mask).mean()" in text  # a narrow gutter
        (anomaly,) = [a for a in trace.anomalies if a.node == node_id(trace, "MeanBackward0")]
        assert f"✗ {anomaly.role} ({anomaly.phase}) {anomaly.message}" in text

    drive(app, scenario)


def test_arrows_and_hjkl_move_expand_and_collapse():
    trace = recorded(NAN_MODEL)
    app = make_app(trace)

    async def scenario(pilot):
        graph = tree(app)
        await pilot.press("j", "down")
        model = graph.cursor_node
        assert model.data.scope == "model" and model.is_expanded
        await pilot.press("h")
        assert not model.is_expanded and graph.last_line == 2
        await pilot.press("h")  # a top-level item has no parent to go to
        assert graph.cursor_node is model
        await pilot.press("l")
        assert model.is_expanded
        await pilot.press("l")
        assert graph.cursor_node.data.scope == "model.head"
        await pilot.press("left")
        assert not graph.cursor_node.is_expanded
        await pilot.press("right", "space")
        assert not graph.cursor_node.is_expanded
        await pilot.press("enter")
        assert graph.cursor_node.is_expanded
        await pilot.press("h", "h")
        assert graph.cursor_node is model
        await pilot.press("k", "up")
        assert graph.current_node == node_id(trace, "MeanBackward0")
        assert app.screen.query_one(NodeDetail).node_id == node_id(trace, "MeanBackward0")

    drive(app, scenario)


def test_enter_on_a_shared_node_follows_the_link():
    trace = recorded(sample("rnn"))
    app = make_app(trace)
    weight = node_id(trace, "cell.recurrent.weight")

    async def scenario(pilot):
        graph = tree(app)
        line = next(line for line in range(graph.last_line + 1)
                    if graph.get_node_at_line(line).data in [LinkItem(weight, parent, 0) for parent in trace.nodes])
        graph.move_cursor_to_line(line)
        await pilot.pause()
        assert str(graph.cursor_node.label).startswith("↗ cell.recurrent.weight")
        await pilot.press("enter")
        assert graph.cursor_node.data == NodeItem(weight, "cell.recurrent")
        assert graph.cursor_node.line < line
        assert app.screen.query_one(NodeDetail).node_id == weight
        assert "op leaf  kind leaf  module cell.recurrent" in summary(app)

    drive(app, scenario)


def test_n_and_shift_n_walk_the_anomalies_culprit_first():
    trace = recorded(NAN_MODEL)
    app = make_app(trace)
    ordered = ordered_anomalies(trace)
    log = node_id(trace, "LogBackward0")

    async def scenario(pilot):
        count = len(ordered)
        await pilot.press("n")
        assert tree(app).current_node == log
        assert status(app).startswith(f"anomaly 1/{count}: culprit (forward): log produced 18 -inf")
        assert "◀ culprit" in summary(app)
        await pilot.press("n")
        assert tree(app).current_node == log and status(app).startswith(f"anomaly 2/{count}: culprit (backward)")
        await pilot.press("N", "N")
        last = ordered[-1]
        assert tree(app).current_node == last.node
        assert status(app) == f"anomaly {count}/{count}: {last.role} ({last.phase}): {last.message}"

    drive(app, scenario)


def test_n_says_so_when_everything_is_finite():
    app = make_app(recorded(sample("mlp")))

    async def scenario(pilot):
        before = tree(app).current_node
        await pilot.press("n")
        assert status(app) == "no anomalies: every value and gradient is finite"
        assert tree(app).current_node == before

    drive(app, scenario)


def test_n_and_the_anomaly_list_say_where_masks_were_not_counted():
    """-inf a softmax turns into zeros is no anomaly, but then not every value was finite: say so, and where."""
    app = make_app(recorded(MASK_MODEL))
    said = ("no anomalies: every gradient is finite; mask infinities in 2 op outputs not counted: "
            f"masked_fill at {MASK_MODEL}:21 in model ×2")

    async def scenario(pilot):
        await pilot.press("n")
        assert status(app) == said
        await pilot.press("a")
        assert isinstance(app.screen, AnomaliesScreen)
        assert str(app.screen.query_one(".caption", Static).content) == said

    drive(app, scenario)


def test_parameters_sort_by_any_column_and_jump_to_the_node():
    trace = recorded(sample("dead_relu"))
    app = make_app(trace)
    names = [p.name for p in trace.parameters]
    norms = {p.name: trace.parameter_grad(p).stats.norm for p in trace.parameters}
    zeros = {p.name: trace.parameter_grad(p).stats.zero_fraction for p in trace.parameters}

    async def scenario(pilot):
        await pilot.press("p")
        assert isinstance(app.screen, ParametersScreen)
        table = app.screen.query_one(ParametersTable)
        assert table.ordered_names == names
        await pilot.press("3")
        assert table.ordered_names == sorted(names, key=norms.get, reverse=True)
        assert table.header()[2] == "grad norm ▼"
        await pilot.press("3")
        assert table.ordered_names == sorted(names, key=norms.get)
        await pilot.press("1")
        assert table.ordered_names == sorted(names)
        await pilot.press("6")
        assert table.ordered_names == ["model.out.bias", "model.out.weight", "model.hidden.bias", "model.hidden.weight"]
        await pilot.press("4")
        ratios = {p.name: norms[p.name] / p.value.stats.norm for p in trace.parameters}
        assert table.ordered_names == sorted(names, key=ratios.get, reverse=True)
        # a click on a header sorts by that column too
        await pilot.click(ParametersTable, offset=(table.column_x(4) + 2, 0))
        assert table.sorting == (4, True)
        assert table.ordered_names == sorted(names, key=zeros.get, reverse=True)
        await pilot.press("down", "enter")
        chosen = table.ordered_names[1]
        assert isinstance(app.screen, MainScreen)
        assert tree(app).current_node == node_id(trace, chosen)

    drive(app, scenario, size=(100, 30))


def test_escape_leaves_the_parameters_and_anomalies_without_moving():
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        before = tree(app).current_node
        for key in ("p", "a"):
            await pilot.press(key)
            assert not isinstance(app.screen, MainScreen)
            await pilot.press("escape")
            assert isinstance(app.screen, MainScreen) and tree(app).current_node == before

    drive(app, scenario)


def test_anomaly_list_starts_with_the_culprits_and_jumps_to_the_chosen_node():
    trace = recorded(NAN_MODEL)
    app = make_app(trace)

    async def scenario(pilot):
        await pilot.press("a")
        assert isinstance(app.screen, AnomaliesScreen)
        listed = app.screen.query_one(AnomalyList)
        first = plain(listed.get_option_at_index(0).prompt)
        assert first.split() [:4] == ["culprit", "forward", "LogBackward0", "(log)"]
        assert "log produced 18 -inf" in first
        await pilot.press("down", "down", "enter")
        assert isinstance(app.screen, MainScreen)
        third = ordered_anomalies(trace)[2]
        assert tree(app).current_node == third.node
        assert status(app).startswith(f"anomaly 3/{len(trace.anomalies)}: {third.role} ({third.phase})")

    drive(app, scenario)


def test_search_jumps_to_matches_and_enter_goes_to_the_next():
    trace = recorded(NAN_MODEL)
    app = make_app(trace)

    async def scenario(pilot):
        search = app.screen.query_one(SearchBar)
        assert not search.display
        await pilot.press("slash")
        assert search.display and search.has_focus
        await pilot.press(*"relu")
        assert tree(app).current_node == node_id(trace, "ReluBackward0")
        assert status(app) == "match 1/1 for 'relu'"
        search.value = ""
        await pilot.press(*"addmm")
        assert tree(app).current_node == node_id(trace, "AddmmBackward0", "model.head.proj")
        await pilot.press("enter")
        assert tree(app).current_node == node_id(trace, "AddmmBackward0", "model.encoder")
        assert status(app) == "match 2/2 for 'addmm'"
        await pilot.press("enter")
        assert status(app) == "match 1/2 for 'addmm'"
        await pilot.press(*"zz")
        assert status(app) == "no node matches 'addmmzz'"
        await pilot.press("escape")
        assert not search.display and tree(app).has_focus

    drive(app, scenario)


def test_search_typed_faster_than_the_tree_answers_keeps_the_match_message():
    trace = recorded(NAN_MODEL)
    app = make_app(trace)

    async def scenario(pilot):
        await pilot.press("slash")
        search = app.screen.query_one(SearchBar)
        search.value = "relu"  # two keystrokes before the first cursor move is answered
        search.value = "addmm"
        await pilot.pause()
        assert tree(app).current_node == node_id(trace, "AddmmBackward0", "model.head.proj")
        assert status(app) == "match 1/2 for 'addmm'"

    drive(app, scenario)


def test_brackets_switch_passes_and_the_detail_shows_every_pass():
    trace = recorded(sample("td_lambda"))
    app = make_app(trace)
    weight = node_id(trace, "model.weight")

    async def scenario(pilot):
        assert not trace.anomalies  # so the last pass is shown first
        assert app.screen.sub_title.startswith("pass 4 of 5")
        await pilot.press("right_square_bracket")
        assert app.screen.sub_title.startswith("pass 0 of 5")
        assert tree(app).current_node == trace.passes[0].roots[0]
        await pilot.press("left_square_bracket")
        assert app.screen.sub_title.startswith("pass 4 of 5")
        assert tree(app).current_node == trace.passes[4].roots[0]
        # a parameter takes part in every pass, so it stays selected while switching
        app.screen.jump_to(weight)
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert app.screen.pass_index == 1 and tree(app).current_node == weight
        rows = [line.split() for line in plain(app.screen.query_one("#node-passes", Static).content).splitlines()]
        assert rows[1] == ["pass", "non-finite", "norm"]
        assert [row[:2] for row in rows[2:]] == [[str(index), format_number(record.leaf_grads[weight].stats.norm)]
                                                for index, record in enumerate(trace.passes)]
        assert rows[3][2:] == ["◀", "shown"]

    drive(app, scenario, size=(140, 40))


def test_the_detail_of_a_long_run_lists_the_passes_a_node_took_part_in_capped(tmp_path):
    """A training run records thousands of passes: an op's node is in one, and a parameter's table keeps
    the ends, the rows around the pass shown and the first non-finite one, with the gaps counted."""
    script = tmp_path / "run.py"
    script.write_text("import gradscope as torch\n\nw = torch.ones(2, requires_grad=True)\n"
                      "for step in range(60):\n"
                      "    (w * (float('nan') if step == 40 else 1.0)).sum().backward()\n"
                      "    w.grad = None\n")
    trace = run_script(str(script)).trace
    weight = node_id(trace, "w")
    op = trace.passes[30].roots[0]
    app = make_app(trace)

    async def scenario(pilot):
        app.screen.jump_to(op)
        await pilot.pause()
        passes = app.screen.query_one("#node-passes", Static)
        rows = [line.split() for line in plain(passes.content).splitlines()]
        assert rows[0] == ["gradient", "in", "each", "pass", "(in", "1", "pass", "of", "60)"]
        assert [row[0] for row in rows[2:]] == ["30"]
        app.screen.jump_to(weight)
        await pilot.pause()
        rows = [line.split() for line in plain(passes.content).splitlines()]
        assert rows[0] == ["gradient", "in", "each", "pass"]
        listed = [row[0] for row in rows[2:]]
        assert app.screen.pass_index == 30  # the op's pass
        assert listed == ["0", "1", "2", "…", "27", "28", "29", "30", "31", "32", "33", "…", "40", "…", "57", "58",
                          "59"]
        assert rows[2 + listed.index("…")][1:] == ["24", "more"]
        assert rows[2 + listed.index("30")][-2:] == ["◀", "shown"]
        assert rows[2 + listed.index("40")][1:3] == ["2", "nan"]

    drive(app, scenario, size=(140, 60))


def test_the_passes_one_key_away_are_laid_out_ahead_in_a_thread(monkeypatch):
    trace = recorded(sample("td_lambda"))
    made = []  # (pass, made in the app's thread)

    class Counted(Outline):
        def __init__(self, trace, pass_index=-1):
            made.append((pass_index % len(trace.passes), threading.current_thread() is threading.main_thread()))
            super().__init__(trace, pass_index)

    monkeypatch.setattr(main_screen, "Outline", Counted)
    app = make_app(trace)

    async def scenario(pilot):
        await pilot.pause(LAYOUT_AHEAD_AFTER)
        await app.workers.wait_for_complete()
        assert made == [(4, True), (0, False), (3, False)]  # shown on pass 4; ] and [ are ready
        await pilot.press("right_square_bracket")
        assert app.screen.sub_title.startswith("pass 0 of 5")
        assert tree(app).current_node == trace.passes[0].roots[0]
        await pilot.pause(LAYOUT_AHEAD_AFTER)
        await app.workers.wait_for_complete()
        assert made[3:] == [(1, False)]  # 4 is kept from before
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert app.screen.sub_title.startswith("pass 3 of 5")
        assert (3, True) not in made

    drive(app, scenario)


def test_a_single_pass_has_no_pass_switching():
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        await pilot.press("right_square_bracket")
        assert app.screen.pass_index == 0
        assert app.screen.check_action("switch_pass", (1,)) is False
        assert not app.screen.query_one("#node-passes", Static).display

    drive(app, scenario)


def test_tensor_rows_show_in_the_detail_and_open_with_their_gradient():
    trace = recorded(NAN_MODEL)
    app = make_app(trace)

    async def scenario(pilot):
        await pilot.press("n", "tab", "tab")
        table = app.screen.query_one(TensorTable)
        assert table.has_focus
        assert [row.name for row in table.rows_shown] == \
            ["output", "input 0", "_saved_self", "grad_outputs[0]", "grad_inputs[0]"]
        view = app.screen.query_one(TensorView)
        assert view.title == "output"
        await pilot.press("down")
        assert view.title == "input 0" and "zeros 28%" in plain(view.render())
        await pilot.press("up", "enter")
        assert isinstance(app.screen, TensorScreen)
        output, grad = app.screen.query(TensorView)
        assert (output.title, grad.title) == ("output", "grad_outputs[0]")
        shown = plain(output.render(), width=60)
        assert "✗ 18 inf" in shown and "-inf" in shown.split("values")[1]
        assert "50%" in plain(grad.render(), width=60)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)

    drive(app, scenario)


def test_help_tables_narrower_than_the_pane_are_drawn_once_whatever_its_width():
    drawn = []

    class Narrow:
        def __rich_console__(self, console, options):
            drawn.append(options.max_width)
            yield Text("a short line")

        def __rich_measure__(self, console, options):
            return Measurement(12, 12)

    console = Console(width=120, file=io.StringIO())
    block = Drawn(Narrow())
    for width in (117, 116, 117):  # the help as it opens: before its scroll bar shows, after, and again
        assert block.lines(console, console.options.update_width(width))[0].text == "a short line"
    assert drawn == [12]


def test_the_help_text_is_split_into_lines_once_for_each_width():
    """Textual asks a Static's content for its height at every layout and draws it again to show it: the help's
    lines are made once for each width, and read back as asked."""
    drawn = []

    class Wrapping:
        def __rich_console__(self, console, options):
            drawn.append(options.max_width)
            yield Text("a paragraph that wraps")

    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        text = HelpText([Wrapping()])
        for width in (12, 11, 12):  # the help as it opens: before its scroll bar shows, after, and again
            assert text.get_height({}, width) == 3  # two lines, and the blank line after the block
            lines = text.render_strips(width, None, Style(), None)
            assert [line.text.rstrip() for line in lines] == ["a paragraph", "that wraps", ""]
        assert drawn == [12, 11]

    drive(app, scenario)


def test_the_help_is_drawn_ahead_and_reads_the_same():
    """A moment after the first screen, a thread draws the help's tables, then the help is mounted, hidden, and laid
    out (its paragraph wrapped at the pane's width); ? draws nothing more, and the help reads as it does when opened
    before anything was drawn."""

    def opened(wait: bool) -> tuple[list[str], list[list[int]], list[list[int]]]:
        app = make_app(recorded(NAN_MODEL))

        async def scenario(pilot):
            if wait:
                await pilot.pause(HELP_AHEAD_AFTER + 0.1)
                await app.workers.wait_for_complete()
                while not (app.is_screen_installed("help") and app.get_screen("help").laid_out_ahead):
                    await pilot.pause(0.01)
            ahead = [sorted(block._lines) for block in app.help_text.blocks] if wait else []
            await pilot.press("question_mark")
            await pilot.press("end")
            await pilot.pause()
            shown = [sorted(block._lines) for block in app.help_text.blocks]
            return screen_lines(app), ahead, shown

        return drive(app, scenario)

    drawn_ahead, ahead, shown = opened(wait=True)
    paragraph, *tables = ahead
    assert paragraph and all(len(widths) == 1 for widths in tables)  # each table at its natural width
    assert shown == ahead  # nothing drawn again as the help opens
    assert drawn_ahead == opened(wait=False)[0]


def test_the_detail_pane_keeps_its_width_whether_it_scrolls_or_not():
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        detail = app.screen.query_one(NodeDetail)
        widths, scrolling = set(), set()
        for key in "jjkk":
            await pilot.press(key)
            await pilot.pause()
            widths.add(detail.scrollable_content_region.width)
            scrolling.add(detail.max_scroll_y > 0)
        assert scrolling == {True, False}  # nodes that fit the pane and nodes that don't
        assert len(widths) == 1  # the text is wrapped at one width: no second layout as the scroll bar shows

    drive(app, scenario)


def test_help_lists_every_binding():
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        main_bindings = [*app.screen.BINDINGS, *tree(app).BINDINGS, *ParametersTable.BINDINGS,
                         *SearchBar.BINDINGS, *app.BINDINGS]
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(plain(static.content) for static in app.screen.query(Static))
        for binding in main_bindings:
            assert (binding.tooltip or binding.description) in text, binding
        for key in ("/", "n", "N", "p", "a", "]", "[", "s", "r", "q", "?", "j / ↓", "k / ↑", "h / ←", "l / →",
                    "⏎", "space", "1", "6", "esc", "tab", "P", "e", "c", "g / home", "G / end"):
            assert f"\n {key} " in text, key
        assert "↑ / k" not in text and "↓ / j" not in text  # the letters first in every table
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)

    drive(app, scenario)


def test_s_saves_the_trace(tmp_path):
    trace = recorded(NAN_MODEL)
    app = make_app(trace)
    target = tmp_path / "saved.gstrace"

    async def scenario(pilot):
        await pilot.press("s")
        assert isinstance(app.screen, SaveScreen)
        path = app.screen.query_one("#save-path")
        assert path.value == "trace.gstrace"
        path.value = str(target)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)

    drive(app, scenario)
    saved = load_trace(target)
    assert len(saved.nodes) == len(trace.nodes) and len(saved.anomalies) == len(trace.anomalies)


def test_escape_cancels_saving(tmp_path):
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        await pilot.press("s", "escape")
        assert isinstance(app.screen, MainScreen) and not app.workers

    drive(app, scenario)
    assert not (tmp_path / "trace.gstrace").exists()


async def settle(app, pilot):
    await app.workers.wait_for_complete()
    await pilot.pause()


def test_a_script_is_recorded_then_r_records_it_again_keeping_the_place(tmp_path):
    script = tmp_path / "model.py"
    shutil.copy("sample_models/nan_log.py", script)
    app = make_app(source=script)

    async def scenario(pilot):
        await settle(app, pilot)
        first = app.screen
        assert isinstance(first, MainScreen) and app.title == "gradscope · model.py"
        await pilot.press("p")
        kept = app.screen  # the parameters of this recording, kept for p
        await pilot.press("escape", "n")
        log = tree(app).current_node
        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen) and app.screen is not first
        assert app.screen.trace is not first.trace and app.trace is app.screen.trace
        assert tree(app).current_node == log
        assert not app.is_screen_installed(kept) and not kept.is_attached  # gone with the recording it listed
        await pilot.press("p")
        assert app.screen is not kept and app.screen.parameters is app.screen_stack[-2].parameters

    drive(app, scenario)


def test_a_failed_re_run_keeps_the_previous_recording(tmp_path):
    flag = tmp_path / "flag"
    flag.write_text("ok")
    script = tmp_path / "flaky.py"
    script.write_text(f"import gradscope as torch\nw = torch.ones(2, requires_grad=True)\n"
                      f"def loss():\n    open({str(flag)!r}).read()\n    return (w * 2).sum()\n")
    app = make_app(source=script)

    async def scenario(pilot):
        await settle(app, pilot)
        trace = app.screen.trace
        flag.unlink()
        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, ErrorScreen)
        message = plain(app.screen.query_one("#error-message", Static).content)
        assert "loss() raised FileNotFoundError" in " ".join(message.split())  # wrapped after a long tmp path
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen) and app.screen.trace is trace
        return app.return_code

    assert drive(app, scenario) is None


def test_r_is_off_for_trace_files(tmp_path):
    path = tmp_path / "run.gstrace"
    save_trace(recorded(NAN_MODEL), path)
    app = make_app(source=path)

    async def scenario(pilot):
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen) and len(app.screen.trace.nodes) == 13
        assert app.check_action("rerun", ()) is False
        screen = app.screen
        await pilot.press("r")
        # no load started (the screen's own background workers may still be laying out on a loaded machine)
        assert app.screen is screen and not [worker for worker in app.workers if worker.group == "load"]

    drive(app, scenario)


@pytest.mark.parametrize("kind", ["script", "trace"])
def test_a_bad_input_is_shown_and_the_app_exits_with_2(tmp_path, kind):
    if kind == "script":
        path = tmp_path / "bad.py"
        path.write_text("def loss():\n    return undefined_name\n")
    else:
        path = tmp_path / "bad.gstrace"
        path.write_bytes(b"not a zip")
    app = make_app(source=path)

    async def scenario(pilot):
        await settle(app, pilot)
        assert isinstance(app.screen, ErrorScreen)
        message = plain(app.screen.query_one("#error-message", Static).content)
        await pilot.press("enter")
        return message

    message = " ".join(drive(app, scenario).split())  # the message wraps after a long tmp path
    assert app.return_code == 2
    if kind == "script":
        assert isinstance(app.error, ScriptError) and "loss() raised NameError" in message
    else:
        assert isinstance(app.error, TraceFormatError) and "not a gradscope trace file" in message


def test_an_empty_trace_opens_and_says_so():
    app = make_app(Trace())

    async def scenario(pilot):
        assert app.screen.sub_title == "no backward pass · 0 nodes · no anomalies"
        assert summary(app).startswith("nothing recorded: no tensor that requires grad took part in an op")
        await pilot.press("n", "j", "p")
        assert str(app.screen.query_one(".caption", Static).content) == \
            "no parameters: the trace holds no leaf tensor that requires grad"
        await pilot.press("escape", "slash", "x")
        assert status(app) == "no node matches 'x'"

    drive(app, scenario)


def test_q_quits():
    app = make_app(recorded(sample("mlp")))

    async def scenario(pilot):
        await pilot.press("q")

    drive(app, scenario)
    assert app.return_code == 0


def test_a_click_selects_a_line():
    trace = recorded(NAN_MODEL)
    app = make_app(trace)

    async def scenario(pilot):
        await pilot.click(GraphTree, offset=(3, 2))  # below the pane's title line
        assert tree(app).current_node == node_id(trace, "MulBackward0")
        assert app.screen.query_one(NodeDetail).node_id == node_id(trace, "MulBackward0")

    drive(app, scenario)


def test_80_by_24_keeps_both_panes_readable():
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        screen = app.screen
        assert screen.has_class("-narrow")
        graph, detail = screen.query_one(GraphTree), screen.query_one(NodeDetail)
        assert graph.size.width >= 38 and detail.size.width >= 38
        assert screen.query_one("#status").region.y == 22

    drive(app, scenario, size=(80, 24))


def test_the_footer_shows_the_keys_of_what_has_focus():
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        graph = screen_lines(app)[-1]
        assert graph.split() == ["/", "Search", "n", "Next", "✗", "p", "Params", "a", "Anomalies", "s", "Save",
                                 "q", "Quit", "?", "Help"]
        await pilot.press("slash")
        searching = screen_lines(app)[-1]
        assert searching.split() == ["↑", "Previous", "match", "↓", "Next", "match", "esc", "Close", "search",
                                     "/", "Search"]  # typing: the keys of one letter are the search's
        await pilot.press("escape", "tab")  # back to the tree, then to the detail pane: the same keys
        assert screen_lines(app)[-1] == graph
        await pilot.press("p")
        assert "Sort" in screen_lines(app)[-1]
        await pilot.press("escape")
        assert screen_lines(app)[-1] == graph

    drive(app, scenario, size=(200, 40))  # wide enough for every key


def test_help_is_composed_once_and_opens_at_the_top_every_time():
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        await pilot.press("question_mark")
        help_screen, text = app.screen, screen_lines(app)
        await pilot.press("end")
        assert app.screen.query_one(KeyScroll).scroll_y > 0
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        await pilot.press("question_mark")
        assert app.screen is help_screen and app.screen.query_one(KeyScroll).scroll_y == 0
        assert screen_lines(app) == text

    drive(app, scenario)


def test_help_waits_until_loading_is_over(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text("import time\nimport gradscope as torch\ntime.sleep(1)\nw = torch.ones(2, requires_grad=True)\n"
                      "def loss():\n    return (w * 2).sum()\n")
    app = make_app(source=script)

    async def scenario(pilot):
        assert isinstance(app.screen, LoadingScreen)
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen)

    drive(app, scenario)


def test_every_screen_stylesheet_is_read_as_the_app_starts():
    """Textual parses all its CSS again and restyles every widget when a screen brings a stylesheet it hasn't
    read: the app reads them all at the start, so that opening a screen costs no such pause."""

    def stylesheets(owner: type) -> set[Path]:
        paths = [owner.CSS_PATH] if isinstance(owner.CSS_PATH, str) else owner.CSS_PATH or []
        return {(Path(inspect.getfile(owner)).parent / path).resolve() for path in paths}

    def screens(base: type) -> list[type]:
        return [screen for subclass in base.__subclasses__() for screen in (subclass, *screens(subclass))]

    ours = [screen for screen in screens(Screen) if screen.__module__.startswith("gradscope.tui")]
    assert len(ours) >= 10
    read = stylesheets(GradscopeApp)
    for screen in ours:
        assert stylesheets(screen) <= read, screen


def test_a_module_lists_its_parameters_with_non_finite_gradients_first():
    trace = synthetic_trace(6 * 100)  # 200 parameters, all under `model`
    late = next(parameter for parameter in trace.parameters if parameter.name == "model.blocks.87.fc.bias")
    trace.passes[0].leaf_grads[late.node] = TensorRecord(values=np.full((4, 4), np.nan, dtype=np.float32))
    app = make_app(trace)

    async def scenario(pilot):
        await pilot.press("j")
        fold = tree(app).cursor_item
        assert isinstance(fold, FoldItem) and fold.scope == "model"
        await pilot.pause()
        names = [row.name for row in app.screen.query_one(TensorTable).rows_shown]
        assert names == ["blocks.87.fc.bias.grad", *(f"blocks.{block}.fc.{kind}.grad" for block in range(20)
                                                       for kind in ("weight", "bias"))][:MODULE_ROWS]
        assert f"{len(trace.parameters):,} parameters; the first {MODULE_ROWS} below" in summary(app)
        assert "p lists them all" in summary(app)
        pane = [line.split("▕")[-1].strip() for line in screen_lines(app)]
        assert "p" not in pane  # the key never left alone on a line of the pane

    drive(app, scenario)
    app = make_app(trace)
    drive(app, scenario, size=(80, 24))


def test_e_expands_everything_under_the_line_up_to_its_budget_and_c_collapses_it():
    app = make_app(synthetic_trace(6 * 1000))

    async def scenario(pilot):
        await pilot.press("j")  # the top module
        graph = tree(app)
        before = graph.last_line
        await pilot.press("e")
        added = graph.last_line - before
        assert 2 * PAGE < added <= EXPAND_ALL_BUDGET + PAGE + 1
        assert [graph.get_node_at_line(line).line for line in range(graph.last_line + 1)] == \
            list(range(graph.last_line + 1))  # every line laid out where it is drawn
        await pilot.press("c")
        assert graph.last_line < before and not graph.cursor_node.is_expanded
        await pilot.press("l")  # everything under it was collapsed, not just the line
        assert graph.cursor_node.is_expanded and not any(child.is_expanded for child in graph.cursor_node.children)

    drive(app, scenario)


def test_jumps_in_the_tree_land_at_once():
    """g, G and the page keys scroll the tree without an animation (each of its frames drew a page of lines
    never looked at, and the cursor's line showed only at its end)."""
    app = make_app(synthetic_trace(6 * 1000))

    async def scenario(pilot):
        graph = tree(app)
        await pilot.press("j", "e")  # the top module, expanded: many pages of lines
        for action, line in ((graph.action_scroll_end, graph.last_line), (graph.action_scroll_home, 0),
                             (graph.action_page_down, graph.scrollable_content_region.height - 1)):
            action()
            assert graph.cursor_line == line
            assert not app.animator.is_being_animated(graph, "scroll_y")
            assert graph.scroll_y <= line < graph.scroll_y + graph.scrollable_content_region.height

    drive(app, scenario)


def test_the_footer_is_one_widget_whose_keys_click_point_and_scroll():
    """The footer draws its keys itself (Textual's Footer, a widget per key, was styled and measured again at
    every layout of the screen): a click presses a key, the pointer on one shows its tooltip, and the wheel
    brings the keys that don't fit into view."""
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        footer = app.screen.query_one(KeyFooter)
        assert not app.screen.query(FooterKey) and not footer.children
        line = screen_lines(app)[-1]
        params = line.index("p Params")
        await pilot.hover(KeyFooter, offset=(params + 2, 0))
        assert footer.tooltip == "Parameters table (sortable; enter goes to the node)"
        await pilot.hover(KeyFooter, offset=(params - 1, 0))  # the gap before it
        assert footer.tooltip is None
        await pilot.click(KeyFooter, offset=(params, 0))
        assert isinstance(app.screen, ParametersScreen)
        await pilot.press("escape")
        await pilot.resize_terminal(40, 30)
        await pilot.pause()
        footer = app.screen.query_one(KeyFooter)
        first = screen_lines(app)[-1]
        assert first.startswith("/ Search") and "? Help" not in first
        for _ in range(20):
            footer.post_message(events.MouseScrollDown(footer, 0, 0, 0, 0, 0, False, False, False))
        await pilot.pause()
        assert screen_lines(app)[-1].rstrip().endswith("? Help")

    drive(app, scenario)


def test_a_focus_change_draws_again_only_the_tree_lines_that_show_focus():
    """Only the cursor's line (and the guides below it) show whether the tree has focus, and a new height changes
    no line: tab drew every line again (Textual tells every widget its style may have changed whenever focus
    moves), and / and escape too (the search line takes a line of the tree's height)."""
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        graph = tree(app)
        await pilot.press("n")  # the culprit, nothing expanded below it
        drawn = []
        draw_line = graph._draw_line

        def counted_draw_line(line, *arguments):
            drawn.append(line.node)
            return draw_line(line, *arguments)

        graph._draw_line = counted_draw_line
        # the detail pane, its tensor table (the tree's look stays) and back; the search line and back
        for key, redrawn in (("tab", [graph.cursor_node]), ("tab", []), ("shift+tab", []),
                             ("shift+tab", [graph.cursor_node]), ("slash", [graph.cursor_node]),
                             ("escape", [graph.cursor_node])):
            await pilot.press(key)
            await pilot.pause()
            assert drawn == redrawn, key
            drawn.clear()
        await pilot.press("k")  # the cursor is drawn where it went, focused
        await pilot.pause()
        assert graph.cursor_node in drawn

    drive(app, scenario)
