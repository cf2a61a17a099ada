"""The browser's scrolling panes take the place of their scroll bars from one layout of the screen: Textual's bars
asked for another layout whenever a layout changed their size (as the detail pane's tensor table gains or loses a bar
between a module listing many parameters and one listing a few)."""

from synthetic import synthetic_trace
from textual.screen import Screen
from tui_helpers import drive

from gradscope.tui import make_app
from gradscope.tui.items import FoldItem
from gradscope.tui.scrollbars import PlacedScrollBar, PlacedScrollBarCorner
from gradscope.tui.widgets.graph_tree import GraphTree
from gradscope.tui.widgets.node_detail import NodeDetail
from gradscope.tui.widgets.tensor_table import TensorTable


def test_a_cursor_move_lays_the_screen_out_once_and_once_more_to_place_a_bar_gained_or_lost(monkeypatch):
    app = make_app(synthetic_trace(2_000, passes=2))
    layouts = []
    refresh_layout = Screen._refresh_layout

    def counted(screen, *arguments, **options):
        layouts.append(screen)
        return refresh_layout(screen, *arguments, **options)

    monkeypatch.setattr(Screen, "_refresh_layout", counted)

    async def scenario(pilot):
        graph = app.screen.query_one(GraphTree)
        table = app.screen.query_one(TensorTable)
        await pilot.press("j", "l", "j")  # the first module inside the top one: a few parameters
        await pilot.pause()
        # (key, the tensor table's vertical bar after it, layouts): the top module lists a page of parameters
        # in a table taller than its pane; the modules below it a few, as the next ones; 3 layouts before
        for key, vertical, count in (("j", False, 1), ("k", False, 1), ("k", True, 2), ("j", False, 2)):
            layouts.clear()
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(graph.cursor_item, FoldItem)
            assert (table.show_vertical_scrollbar, table.show_horizontal_scrollbar) == (vertical, True)
            assert len(layouts) == count, key
        for widget in (graph, app.screen.query_one(NodeDetail), table):
            assert isinstance(widget.vertical_scrollbar, PlacedScrollBar)
            assert isinstance(widget.horizontal_scrollbar, PlacedScrollBar)
            assert widget.vertical_scrollbar.vertical and not widget.horizontal_scrollbar.vertical
            assert isinstance(widget.scrollbar_corner, PlacedScrollBarCorner)

    drive(app, scenario)


def test_the_graphs_bar_follows_its_lines_and_is_not_redrawn_the_same_at_every_layout(monkeypatch):
    """Textual's ScrollView compared its content's size with the one a layout arranged (never the same), so each
    layout of the screen (one per cursor move: the detail pane changes) redrew the tree's bar and asked for one
    more repaint. Its bar still follows the lines: their number after e and c, the cursor's place after G."""
    app = make_app(synthetic_trace(2_000, passes=2))
    redrawn = []
    refresh = PlacedScrollBar.refresh

    def counted(bar, *regions, **options):
        redrawn.append(bar)
        return refresh(bar, *regions, **options)

    monkeypatch.setattr(PlacedScrollBar, "refresh", counted)

    async def scenario(pilot):
        graph = app.screen.query_one(GraphTree)
        bar = graph.vertical_scrollbar
        for key in ("j", "j", "k"):
            redrawn.clear()
            await pilot.press(key)
            await pilot.pause()
            assert bar not in redrawn, key
        for key in ("e", "c", "e", "G"):
            await pilot.press(key)
            await pilot.pause()
            assert bar.window_virtual_size == graph.last_line + 1, key
            assert graph.show_vertical_scrollbar == (graph.last_line + 1 > graph.size.height), key
        assert bar.position == graph.scroll_y > 0

    drive(app, scenario)
