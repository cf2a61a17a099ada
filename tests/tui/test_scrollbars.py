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
