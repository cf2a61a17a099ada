"""The browser as used in a real terminal (issue 13 §6): without colour, orientation, keys everywhere, 80×24,
and traces of several passes."""

import math

import numpy as np
import pytest
from rich.text import Text
from synthetic import synthetic_trace
from textual.widgets import Static
from tui_helpers import NAN_MODEL, drive, plain, recorded, sample, screen_lines

from gradscope._stats import norm_sort_key
from gradscope.trace.model import NodeRecord, Parameter, PassRecord, TensorRecord, Trace
from gradscope.tui import make_app
from gradscope.tui.items import FoldItem, MoreItem
from gradscope.tui.screens.anomalies import AnomaliesScreen
from gradscope.tui.screens.main import LEGEND, MainScreen
from gradscope.tui.screens.parameters import ParametersScreen
from gradscope.tui.screens.passes import PassesScreen
from gradscope.tui.screens.tensor import TensorScreen
from gradscope.tui.widgets.anomaly_list import AnomalyList
from gradscope.tui.widgets.graph_tree import GraphTree
from gradscope.tui.widgets.node_detail import NodeDetail
from gradscope.tui.widgets.parameters_table import ParametersTable
from gradscope.tui.widgets.pass_list import PassList
from gradscope.tui.widgets.search_bar import SearchBar
from gradscope.tui.widgets.tensor_table import TensorTable

NAN_AT_STEP = "tests/tui/models/nan_at_step.py"
NAN_OUTSIDE = "tests/tui/models/nan_outside.py"


def node_id(trace, label, scope=None):
    (found,) = [n.id for n in trace.nodes.values() if n.label == label and (scope is None or n.scope == scope)]
    return found


def tree(app) -> GraphTree:
    return app.screen.query_one(GraphTree)


def status(app) -> str:
    return str(app.screen.query_one("#status", Static).content)


# ---------------------------------------------------------------------------------------------- without colour
@pytest.mark.parametrize("no_color", [False, True])
def test_the_cursor_is_reverse_video_and_stays_visible_without_focus(monkeypatch, no_color):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        graph = tree(app)
        focused = graph.get_component_rich_style("tree--cursor")
        assert focused.reverse and focused.bold
        await pilot.press("tab")
        assert not graph.has_focus
        blurred = graph.get_component_rich_style("tree--cursor")
        if no_color:  # nothing but text styles survive NO_COLOR
            assert blurred.underline and not blurred.reverse
        else:
            assert blurred.bgcolor is not None and blurred.bgcolor.number == 8  # ANSI bright black: grey
        return app.no_color, app.theme

    assert drive(app, scenario) == (no_color, "gradscope-monochrome" if no_color else "gradscope")


def test_guide_lines_are_the_terminals_foreground_dimmed():
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        guides = tree(app).get_component_rich_style("tree--guides")
        assert guides.dim and guides.color.name == "default"  # Textual's ANSI theme draws them black

    drive(app, scenario)


def test_the_focused_pane_is_marked_on_its_top_rule():
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        graph, detail = tree(app), app.screen.query_one(NodeDetail)
        assert graph.styles.border_top[0] == "heavy" and detail.styles.border_top[0] == "solid"
        await pilot.press("tab")
        assert graph.styles.border_top[0] == "solid" and detail.styles.border_top[0] == "heavy"
        await pilot.press("tab")  # the tensor table, inside the detail pane
        assert app.screen.query_one(TensorTable).has_focus and detail.styles.border_top[0] == "heavy"
        top = screen_lines(app)[1]  # the panes' titles, under the header
        assert "graph · pass 0" in top and "node #12" in top

    drive(app, scenario)


# ---------------------------------------------------------------------------------------------- orientation
def test_the_detail_pane_starts_at_the_top_for_each_selection():
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        detail = app.screen.query_one(NodeDetail)
        await pilot.press("tab", "G")
        assert detail.scroll_y > 0
        await pilot.press("shift+tab", "j")
        assert detail.scroll_y == 0

    drive(app, scenario, size=(80, 24))


def test_the_status_line_goes_when_the_cursor_leaves_what_it_is_about():
    trace = recorded(NAN_MODEL)
    app = make_app(trace)

    async def scenario(pilot):
        await pilot.press("n")
        assert status(app).startswith("anomaly 1/")
        await pilot.press("k")  # onto the fold holding the culprit: the message was about the culprit's line
        assert status(app) == LEGEND
        await pilot.press("slash", *"zz")
        assert status(app) == "no node matches 'zz'"
        await pilot.press("escape")
        assert status(app) == LEGEND
        await pilot.press("N")
        assert status(app).startswith("anomaly ")
        await pilot.press("j")
        assert status(app) == LEGEND

    drive(app, scenario)


def test_a_module_line_shows_the_module_its_parameters_and_their_gradients():
    trace = recorded(NAN_MODEL)
    app = make_app(trace)

    async def scenario(pilot):
        graph = tree(app)
        encoder = next(graph.get_node_at_line(line) for line in range(graph.last_line + 1)
                       if isinstance(graph.get_node_at_line(line).data, FoldItem)
                       and graph.get_node_at_line(line).data.scope == "model.encoder")
        graph.move_cursor(encoder)
        await pilot.pause()
        detail = app.screen.query_one(NodeDetail)
        assert detail.module == "model.encoder" and detail.node_id is None and detail.border_title == "module"
        summary = plain(app.screen.query_one("#node-summary", Static).content)
        assert summary.startswith("model.encoder  module")
        table = app.screen.query_one(TensorTable)
        grads = {p.name: trace.parameter_grad(p) for p in trace.parameters if p.module == "model.encoder"}
        assert [row.name for row in table.rows_shown] == ["weight.grad", "bias.grad"]
        assert [row.record for row in table.rows_shown] == [grads["model.encoder.weight"], grads["model.encoder.bias"]]
        await pilot.press("tab", "tab", "enter")  # a gradient opens beside the parameter's value
        assert isinstance(app.screen, TensorScreen)
        assert app.screen.sub_title == "weight.grad · weight"

    drive(app, scenario)


def test_a_more_line_says_what_enter_does():
    app = make_app(synthetic_trace(3000))

    async def scenario(pilot):
        graph = tree(app)
        more = next(graph.get_node_at_line(line) for line in range(graph.last_line + 1)
                    if isinstance(graph.get_node_at_line(line).data, MoreItem))
        graph.move_cursor(more)
        await pilot.pause()
        count = graph.outline.count(more.data)
        assert plain(app.screen.query_one("#node-summary", Static).content).strip() == \
            f"{count:,} more nodes here: enter lists them"
        assert app.screen.query_one(NodeDetail).node_id is None

    drive(app, scenario)


# ---------------------------------------------------------------------------------------------- keys
def test_g_and_shift_g_go_to_the_ends_of_the_tree_and_the_lists():
    trace = recorded(NAN_MODEL)
    app = make_app(trace)

    async def scenario(pilot):
        graph = tree(app)
        await pilot.press("G")
        assert graph.cursor_line == graph.last_line
        await pilot.press("g")
        assert graph.cursor_line == 0
        await pilot.press("a", "G")
        listed = app.screen.query_one(AnomalyList)
        assert listed.highlighted == listed.option_count - 1
        await pilot.press("g")
        assert listed.highlighted == 0
        await pilot.press("j")
        assert listed.highlighted == 1
        await pilot.press("escape", "n", "tab", "tab", "G")
        table = app.screen.query_one(TensorTable)
        assert table.cursor_row == table.row_count - 1
        await pilot.press("k")
        assert table.cursor_row == table.row_count - 2
        await pilot.press("g", "enter")
        assert isinstance(app.screen, TensorScreen)

    drive(app, scenario)


def test_g_shift_g_j_and_k_scroll_the_tensor_view():
    app = make_app(recorded(sample("mlp")))

    async def scenario(pilot):
        await pilot.press("G")  # the first weight, whose values run long
        await pilot.press("tab", "tab", "enter")
        assert isinstance(app.screen, TensorScreen)
        scroll = app.screen.query_one("KeyScroll")
        await pilot.press("G")
        bottom = scroll.scroll_y
        assert bottom > 0
        await pilot.press("k")
        assert scroll.scroll_y == bottom - 1
        await pilot.press("g")
        assert scroll.scroll_y == 0
        await pilot.press("j")
        assert scroll.scroll_y == 1

    drive(app, scenario, size=(80, 24))


def test_up_in_the_search_line_goes_to_the_previous_match():
    trace = recorded(NAN_MODEL)
    app = make_app(trace)

    async def scenario(pilot):
        await pilot.press("slash", *"addmm")
        assert status(app) == "match 1/2 for 'addmm'"
        await pilot.press("up")
        assert status(app) == "match 2/2 for 'addmm'"
        assert tree(app).current_node == node_id(trace, "AddmmBackward0", "model.encoder")
        await pilot.press("up")
        assert status(app) == "match 1/2 for 'addmm'"
        await pilot.press("down")
        assert status(app) == "match 2/2 for 'addmm'"
        assert app.screen.query_one(SearchBar).value == "addmm"

    drive(app, scenario)


def test_e_expands_everything_under_the_line_and_c_collapses_it():
    trace = recorded(sample("rnn"))
    app = make_app(trace)

    async def scenario(pilot):
        graph = tree(app)
        while not graph.cursor_node.allow_expand:
            await pilot.press("j")
        top = graph.cursor_node
        await pilot.press("c")
        assert not top.is_expanded
        collapsed = graph.last_line
        await pilot.press("e")
        expanded = [node for node in _subtree(top) if node.allow_expand]
        assert expanded and all(node.is_expanded for node in expanded)
        assert graph.last_line > collapsed
        await pilot.press("c")
        assert not any(node.is_expanded for node in _subtree(top))
        assert graph.last_line == collapsed

    drive(app, scenario)


def _subtree(node):
    yield node
    for child in node.children:
        yield from _subtree(child)


# ---------------------------------------------------------------------------------------------- 80×24
def test_at_80_by_24_the_culprit_badge_its_source_line_and_the_non_finite_counts_show():
    trace = recorded(sample("nan_log"))
    app = make_app(trace)

    async def scenario(pilot):
        await pilot.press("n")
        lines = screen_lines(app)
        culprit_line = next(line for line in lines if "LogBackward0" in line.split("▕")[0])
        assert "◀ culprit" in culprit_line.split("▕")[0]
        detail = "\n".join(line.split("▕", 1)[1] for line in lines[2:22] if "▕" in line)
        assert "▶23 return scores.log()" in detail  # the source line, dedented
        await pilot.press("tab", "tab")  # the tensor table: its non-finite column comes before the norms
        lines = screen_lines(app)
        header = next(line.split("▕", 1)[1] for line in lines if "non-finite" in line)
        assert header.split()[:3] == ["tensor", "non-finite", "norm"]  # whole, beside "6 nan 10 inf"
        output = next(line.split("▕", 1)[1] for line in lines if "▕ output " in line)
        assert output.split()[1:4] == ["16", "inf", "inf"]  # its non-finite count and its norm

    drive(app, scenario, size=(80, 24))


# ---------------------------------------------------------------------------------------------- passes
def test_a_trace_of_several_passes_opens_on_the_first_anomalous_one():
    trace = recorded(NAN_AT_STEP)
    app = make_app(trace)

    async def scenario(pilot):
        assert len(trace.passes) == 4
        assert app.screen.pass_index == 2
        assert app.screen.sub_title.startswith("pass 2 of 4")
        await pilot.press("n")
        culprit = trace.culprits()[0].node
        assert tree(app).current_node == culprit and trace.nodes[culprit].name == "SqrtBackward0"

    drive(app, scenario)


def test_the_pass_selector_lists_every_pass_and_shows_the_chosen_one():
    trace = recorded(NAN_AT_STEP)
    app = make_app(trace)

    async def scenario(pilot):
        await pilot.press("P")
        assert isinstance(app.screen, PassesScreen)
        listed = app.screen.query_one(PassList)
        prompts = [plain(listed.get_option_at_index(index).prompt) for index in range(listed.option_count)]
        assert len(prompts) == 4 and listed.highlighted == 2
        assert "◀ culprit SqrtBackward0 (backward)" in prompts[2] and "the first anomalous pass" in prompts[2]
        # one line of Text each: Textual draws Text itself, a Rich renderable per pass (a table) 5x slower
        assert all(isinstance(listed.get_option_at_index(index).prompt, Text) for index in range(4))
        assert all("culprit" not in prompt for index, prompt in enumerate(prompts) if index != 2)
        assert prompts[0].startswith("pass 0") and " loss " in prompts[0]
        await pilot.press("g", "enter")
        assert isinstance(app.screen, MainScreen) and app.screen.pass_index == 0
        await pilot.press("P", "escape")
        assert app.screen.pass_index == 0

    drive(app, scenario)


def test_the_lists_are_kept_and_a_choice_is_shown_before_the_main_screen_comes_back(monkeypatch):
    """p, a and P open the same screen each time (composed once); a pass or an anomaly chosen is shown while the
    main screen is hidden, so that it comes back once, already showing it."""
    trace = recorded(NAN_AT_STEP)
    app = make_app(trace)
    switched_under: list[type] = []
    watch = MainScreen.watch_pass_index

    def recording_watch(self, pass_index):
        switched_under.append(type(self.app.screen))
        watch(self, pass_index)

    monkeypatch.setattr(MainScreen, "watch_pass_index", recording_watch)

    async def scenario(pilot):
        main = app.screen
        opened = {}
        for key, kind in (("P", PassesScreen), ("a", AnomaliesScreen), ("p", ParametersScreen)):
            await pilot.press(key)
            assert isinstance(app.screen, kind)
            opened[key] = app.screen
            await pilot.press("escape")
            await pilot.press(key)
            assert app.screen is opened[key]
            await pilot.press("escape")
        await pilot.press("P", "g", "enter")
        assert app.screen is main and main.pass_index == 0
        assert switched_under == [PassesScreen]
        await pilot.press("P")
        assert app.screen.query_one(PassList).highlighted == 0  # the pass shown now, not the one first shown
        await pilot.press("escape", "a", "enter")
        culprit = trace.culprits()[0].node
        assert app.screen is main and tree(app).current_node == culprit and main.pass_index == 2
        assert switched_under == [PassesScreen, AnomaliesScreen]

    drive(app, scenario)


def test_a_pass_switch_fills_the_detail_pane_once(monkeypatch):
    """The pass shown fills the pane at once; the tree's event for its new cursor line, which comes after, does not
    fill it again (a second tensor table, tensor view and layout: ~10 ms of enter on a pass, 50,000 nodes)."""
    trace = recorded(NAN_AT_STEP)
    app = make_app(trace)
    shown: list[tuple[int | None, int | None]] = []
    show = NodeDetail.show

    def counting_show(self, node_id, pass_index, *args, **kwargs):
        shown.append((node_id, pass_index))
        show(self, node_id, pass_index, *args, **kwargs)

    monkeypatch.setattr(NodeDetail, "show", counting_show)

    async def scenario(pilot):
        await pilot.press("n")
        for key, pass_index in (("right_square_bracket", 3), ("P", None), ("g", None), ("enter", 0)):
            shown.clear()
            await pilot.press(key)
            if pass_index is not None:  # the node under the cursor in the pass now shown, once
                assert shown == [(tree(app).current_node, pass_index)]
                assert app.screen.query_one(NodeDetail).node_id == tree(app).current_node

    drive(app, scenario)


def test_the_kept_parameters_list_shows_the_pass_shown_sorted_as_it_was():
    trace = recorded(NAN_AT_STEP)
    app = make_app(trace)

    async def scenario(pilot):
        await pilot.press("p", "3")
        table = app.screen.query_one(ParametersTable)
        assert table.pass_index == 2 and "after pass 2" in str(app.screen.query_one(".caption", Static).content)
        sorting = table.sorting
        await pilot.press("escape", "right_square_bracket", "p")
        assert app.screen.query_one(ParametersTable) is table
        assert table.pass_index == 3 and table.sorting == sorting
        assert "after pass 3" in str(app.screen.query_one(".caption", Static).content)
        rows = [table.figures(index) for index in table.order]
        assert [row.norm for row in rows] == [row.norm for row in sorted(
            table.parameter_index.rows(3), key=lambda row: norm_sort_key(row.norm, largest_first=True))]

    drive(app, scenario)


def test_a_single_pass_has_no_pass_selector():
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        await pilot.press("P")
        assert isinstance(app.screen, MainScreen)

    drive(app, scenario)


def test_the_anomaly_list_names_passes_from_0():
    trace = recorded(NAN_AT_STEP)
    app = make_app(trace)

    async def scenario(pilot):
        await pilot.press("a")
        assert isinstance(app.screen, AnomaliesScreen)
        first = plain(app.screen.query_one(AnomalyList).get_option_at_index(0).prompt)
        assert "pass 2" in first

    drive(app, scenario)


# ---------------------------------------------------------------------------------------------- outside the graph
def test_n_shows_an_anomaly_outside_the_graph_with_its_line():
    trace = recorded(NAN_OUTSIDE)
    app = make_app(trace)
    (anomaly,) = trace.anomalies
    assert anomaly.node is None  # the op is in no backward graph

    async def scenario(pilot):
        before = tree(app).current_node
        await pilot.press("n")
        assert tree(app).current_node == before  # no line in the tree to go to
        assert status(app).startswith(f"anomaly 1/1: culprit (forward) outside the autograd graph at "
                                      f"{NAN_OUTSIDE}:12: log produced 1 -inf")
        detail = app.screen.query_one(NodeDetail)
        assert detail.border_title == "op outside the graph"
        shown = plain(app.screen.query_one("#node-summary", Static).content)
        assert shown.startswith("log   ◀ culprit")
        assert "▶12     feature = torch.log(x)  # -inf where x is 0" in shown
        await pilot.press("j")  # moving on shows the tree's line again
        assert detail.node_id == tree(app).current_node and status(app) == LEGEND

    drive(app, scenario)


def test_lines_passed_over_faster_than_the_detail_fills_are_never_shown(monkeypatch):
    trace = recorded(NAN_MODEL)
    app = make_app(trace)
    shown = []

    async def scenario(pilot):
        screen = app.screen
        fill = screen._show_item
        monkeypatch.setattr(screen, "_show_item", lambda item: (shown.append(item), fill(item)))
        graph = tree(app)
        for _ in range(5):  # as a held j does: five moves before the screen handles the first
            graph.action_cursor_down()
        await pilot.pause()
        assert shown == [graph.cursor_item]
        assert app.screen.query_one(NodeDetail).node_id == graph.current_node

    drive(app, scenario)


def test_parameters_sort_broken_gradients_first_whichever_way():
    trace = Trace()
    record = PassRecord(index=0)
    grads = {"a": 2.0, "b": math.nan, "c": math.inf, "d": 0.5, "e": None}
    for node_id, (name, grad) in enumerate(grads.items()):
        trace.nodes[node_id] = NodeRecord(node_id, "AccumulateGrad", "leaf", "leaf", leaf_name=name,
                                          outputs=[TensorRecord(values=np.ones(2))])
        trace.parameters.append(Parameter(name, node_id, TensorRecord(values=np.ones(2))))
        if grad is not None:
            record.leaf_grads[node_id] = TensorRecord(values=np.array([grad, 0.0]))
    record.roots = list(trace.nodes)
    trace.passes.append(record)
    app = make_app(trace)

    async def scenario(pilot):
        await pilot.press("p", "3")
        table = app.screen.query_one(ParametersTable)
        assert table.ordered_names == ["b", "c", "a", "d", "e"]  # nan, inf, largest first, no grad last
        await pilot.press("3")
        assert table.ordered_names == ["b", "c", "d", "a", "e"]  # smallest first: still nan and inf on top

    drive(app, scenario)
