"""A pass switch draws again what shows the pass (the tree, the detail pane, the title line), not the whole screen:
Textual repaints a screen whole when one of its reactives changes (the pass shown, the sub-title, the focus), and
lays it out again when the header's title is set."""

import sys

from synthetic import synthetic_trace
from textual._compositor import Compositor
from textual.screen import Screen
from tui_helpers import NAN_MODEL, drive, recorded, sample, screen_lines

from gradscope.tui import make_app
from gradscope.tui.app import HELP_AHEAD_AFTER
from gradscope.tui.items import FoldItem
from gradscope.tui.screens.anomalies import AnomaliesScreen
from gradscope.tui.screens.base import BrowserScreen
from gradscope.tui.screens.help import HelpScreen
from gradscope.tui.screens.main import MainScreen
from gradscope.tui.screens.parameters import ParametersScreen
from gradscope.tui.screens.passes import PassesScreen
from gradscope.tui.screens.tensor import TensorScreen
from gradscope.tui.widgets.graph_tree import GraphTree
from gradscope.tui.widgets.node_detail import NodeDetail
from gradscope.tui.widgets.title_header import FittedTitle


def test_a_pass_switch_repaints_what_shows_the_pass_not_the_whole_screen(monkeypatch):
    app = make_app(recorded(sample("td_lambda")))
    whole = []
    refresh = Screen.refresh

    def counted(screen, *regions, **options):
        if isinstance(screen, MainScreen) and not regions:
            whole.append(options)
        return refresh(screen, *regions, **options)

    monkeypatch.setattr(Screen, "refresh", counted)
    title_layouts = []
    title_refresh = FittedTitle.refresh

    def title_counted(title, *regions, **options):
        if options.get("layout") and isinstance(title.screen, MainScreen):  # (not the lists' titles, mounted ahead)
            title_layouts.append(options)
        return title_refresh(title, *regions, **options)

    monkeypatch.setattr(FittedTitle, "refresh", title_counted)

    async def scenario(pilot):
        assert screen_lines(app)[0].split("—")[-1].strip().startswith("pass 4 of 5")
        whole.clear()
        title_layouts.clear()
        for key, shown in (("right_square_bracket", 0), ("right_square_bracket", 1), ("left_square_bracket", 0)):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen.pass_index == shown
            assert whole == [], key
            assert title_layouts == [], key  # the new title is drawn in the title's line, the screen not laid out
            title = screen_lines(app)[0]  # the title line shows the new pass
            assert title.split("—")[-1].strip().startswith(f"pass {shown} of 5"), title
            assert f"graph · pass {shown}" in screen_lines(app)[1]

    drive(app, scenario, size=(140, 40))


def test_a_focus_change_restyles_the_panes_it_concerns_not_the_whole_screen(monkeypatch):
    """tab, shift+tab, / and escape: the focused pane's top rule is heavy, the others' light, and the footer shows
    the focused widget's keys; Textual also repainted every cell of the screen at each focus change."""
    app = make_app(recorded(NAN_MODEL))
    whole = []
    refresh = Screen.refresh

    def counted(screen, *regions, **options):
        if isinstance(screen, MainScreen) and not regions:
            whole.append(options)
        return refresh(screen, *regions, **options)

    monkeypatch.setattr(Screen, "refresh", counted)

    def rules() -> tuple[bool, bool]:
        """Whether the graph's and the detail pane's top rules are heavy (focused)."""
        graph, detail = screen_lines(app)[1].split("node #", 1)
        return graph.startswith("━"), detail.strip("0123456789").startswith("━")

    async def scenario(pilot):
        assert rules() == (True, False)
        whole.clear()
        for key, heavy, footer in (("tab", (False, True), "n Next"), ("shift+tab", (True, False), "n Next"),
                                   ("slash", (False, False), "esc Close search"), ("escape", (True, False), "n Next")):
            await pilot.press(key)
            await pilot.pause()
            assert whole == [], key
            assert rules() == heavy, key
            assert footer in screen_lines(app)[-1], (key, screen_lines(app)[-1])

    drive(app, scenario)


def _layouts_and_paints(monkeypatch) -> tuple[list[tuple[str, str]], list[list[str]]]:
    """Every layout (the screen's class, the function that asked for it) and, per tick of a screen's update timer,
    the screens painted, as they happen."""
    layouts, ticks = [], []
    refresh_layout, render_update, on_timer_update = (Screen._refresh_layout, Compositor.render_update,
                                                      BrowserScreen._on_timer_update)

    def laid_out(screen, *args, **options):
        layouts.append((type(screen).__name__, sys._getframe(1).f_code.co_name))
        return refresh_layout(screen, *args, **options)

    def painted(compositor, *args, **options):
        if ticks:
            ticks[-1].append(type(compositor.root).__name__)
        return render_update(compositor, *args, **options)

    def ticked(screen):
        ticks.append([])
        return on_timer_update(screen)

    monkeypatch.setattr(Screen, "_refresh_layout", laid_out)
    monkeypatch.setattr(Compositor, "render_update", painted)
    monkeypatch.setattr(BrowserScreen, "_on_timer_update", ticked)
    return layouts, ticks


def test_a_screen_opens_laid_out_once_per_change_and_painted_once_per_tick(monkeypatch):
    """Textual lays a screen out again at the size its own layout reports, lays out the screen below it, hidden, and
    paints a tick's layout and then the whole screen again: ? took four layouts of the help, one of the main screen
    and four paints."""
    app = make_app(recorded(NAN_MODEL))
    layouts, ticks = _layouts_and_paints(monkeypatch)

    async def scenario(pilot):
        await pilot.pause(HELP_AHEAD_AFTER + 0.1)  # the help and the lists mounted ahead are laid out, hidden, first
        await app.workers.wait_for_complete()
        while not (app.screen.drawn_ahead and app.get_screen("help").laid_out_ahead):
            await pilot.pause(0.01)
        for key, opened in (("question_mark", HelpScreen), ("escape", MainScreen), ("p", ParametersScreen),
                            ("escape", MainScreen), ("tab", MainScreen), ("tab", MainScreen),
                            ("enter", TensorScreen)):
            layouts.clear()
            ticks.clear()
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, opened), key
            assert [caller for _, caller in layouts if caller == "_screen_resized"] == [], key  # the size just laid out
            assert all(screen == type(app.screen).__name__ for screen, _ in layouts), (key, layouts)  # none hidden
            assert all(len(painted) <= 1 for painted in ticks), (key, ticks)

    drive(app, scenario)


def test_a_screen_hidden_during_a_resize_is_laid_out_at_the_new_size_as_it_shows_again():
    """The main screen isn't laid out while the help covers it; back, it shows as an app started at that size."""

    async def resized_under_the_help(pilot):
        await pilot.press("question_mark")
        await pilot.resize_terminal(90, 30)
        await pilot.press("escape")
        await pilot.pause()
        return screen_lines(pilot.app)

    async def resized_before(pilot):
        await pilot.resize_terminal(90, 30)
        await pilot.press("question_mark", "escape")
        await pilot.pause()
        return screen_lines(pilot.app)

    trace = recorded(NAN_MODEL)
    shown = drive(make_app(trace), resized_under_the_help)
    assert len(shown) == 30 and len(shown[0]) == 90
    assert shown == drive(make_app(trace), resized_before)


def test_the_help_and_the_lists_are_mounted_ahead_and_open_laid_out_once_and_painted_once(monkeypatch):
    """Once the work in threads is done, the help and the lists (p, a, P) are mounted, hidden, and laid out: each then
    opens with one layout at most and a paint (and one of what settles after it: the anomaly list), where composed at
    the key it takes three layouts and three paints; each shows what it shows composed at the key."""
    layouts, paints = [], []
    refresh_layout, render_update = Screen._refresh_layout, Compositor.render_update

    def laid_out(screen, *args, **options):
        layouts.append(type(screen).__name__)
        return refresh_layout(screen, *args, **options)

    def painted(compositor, *args, **options):
        paints.append(type(compositor.root).__name__)
        return render_update(compositor, *args, **options)

    monkeypatch.setattr(Screen, "_refresh_layout", laid_out)
    monkeypatch.setattr(Compositor, "render_update", painted)
    keys = (("question_mark", HelpScreen), ("escape", MainScreen), ("p", ParametersScreen), ("escape", MainScreen),
            ("a", AnomaliesScreen), ("escape", MainScreen), ("P", PassesScreen), ("escape", MainScreen))

    def opened(ahead: bool) -> list[list[str]]:
        app = make_app(recorded(sample("td_lambda")))

        async def scenario(pilot):
            if ahead:
                await pilot.pause(HELP_AHEAD_AFTER + 0.1)
                await app.workers.wait_for_complete()
                while not (app.screen.drawn_ahead and app.get_screen("help").laid_out_ahead):
                    await pilot.pause(0.01)
            shown = []
            for key, kind in keys:
                layouts.clear()
                paints.clear()
                await pilot.press(key)
                await pilot.pause()
                assert isinstance(app.screen, kind), key
                if ahead and kind is not MainScreen:
                    assert len(layouts) <= 1 and len(paints) <= 2, (key, layouts, paints)
                shown.append(screen_lines(app))
            return shown

        return drive(app, scenario, size=(120, 40))

    drawn_ahead = opened(ahead=True)
    monkeypatch.setattr(BrowserScreen, "mount_ahead", lambda screen, name: screen.app.install_screen(screen, name))
    assert drawn_ahead == opened(ahead=False)


def test_widgets_a_layout_resizes_ask_for_no_second_layout_unless_they_scroll(monkeypatch):
    """Told its new virtual size by a layout, a widget asks for another layout and paint, which only matter to one
    that may show a scroll bar: the tensor screen, opened again on a tensor of another height, was laid out twice."""
    app = make_app(recorded(NAN_MODEL))
    layouts, ticks = _layouts_and_paints(monkeypatch)

    async def scenario(pilot):
        await pilot.press("n", "tab", "tab", "enter", "escape", "down", "down")
        await pilot.pause()
        layouts.clear()
        ticks.clear()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause(0.1)  # (the tick a second layout would take)
        assert isinstance(app.screen, TensorScreen)
        assert len(layouts) == 1, layouts
        assert sum(len(painted) for painted in ticks) == 1, ticks

    drive(app, scenario)


def test_a_key_that_moves_the_cursor_paints_the_tree_and_the_detail_pane_once(monkeypatch):
    """The detail pane is filled for the tree's new cursor line before the screen's next tick, and that tick paints
    the tree, the pane and the scroll bars the layout moved, once: the pane's requests came after the tick that drew
    the tree, the scroll bars' after the paint that drew them, and a table that gained or lost its scroll bar as the
    layout told it its size asked for another layout and paint (j, n, a search keystroke: three or four paints)."""
    app = make_app(synthetic_trace(2_000, passes=2))
    layouts, ticks = _layouts_and_paints(monkeypatch)

    async def scenario(pilot):
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        graph = app.screen.query_one(GraphTree)
        for key in ("j", "j", "k", "G", "g", "pagedown", "n", "N", "slash", "b", "l", "down", "up", "escape"):
            await pilot.pause(0.05)
            layouts.clear()
            ticks.clear()
            await pilot.press(key)
            await pilot.pause()
            await pilot.pause(0.1)  # (the ticks more paints would take)
            assert [len(painted) for painted in ticks if painted] == [1], (key, layouts, ticks)
            detail, item = app.screen.query_one(NodeDetail), graph.cursor_item
            shown = (None, item.scope) if isinstance(item, FoldItem) else (graph.current_node, None)
            assert (detail.node_id, detail.module) == shown, key

    drive(app, scenario)
