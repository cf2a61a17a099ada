"""Lines: a Rich renderable drawn once for each width, however often Textual asks for its height and lines."""

from rich.text import Text
from textual.style import Style
from textual.widgets import Static
from tui_helpers import NAN_MODEL, drive, recorded, screen_lines

from gradscope.tui import make_app
from gradscope.tui.lines import Lines
from gradscope.tui.widgets.tensor_view import TensorView


def test_lines_are_drawn_once_for_each_width():
    drawn = []

    def draw(width):
        drawn.append(width)
        return Text("a paragraph that wraps", style="bold")

    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        lines = Lines(draw)
        for width in (12, 11, 12, 11):  # measured, drawn; the scroll bar shows, measured and drawn again, …
            assert lines.get_height({}, width) == 2
            strips = lines.render_strips(width, None, Style(), None)
            assert [strip.text.rstrip() for strip in strips] == ["a paragraph", "that wraps"]
            assert all(segment.style.bold for strip in strips for segment in strip if segment.text.strip())
        assert drawn == [12, 11]

    drive(app, scenario)


def test_a_tensor_view_keeps_its_lines_until_it_shows_another_record():
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        view = app.screen.query_one(TensorView)
        shown = view.render()
        await pilot.press("n")  # the culprit: the detail pane shows another node, its view another record
        await pilot.pause()
        assert view.render() is not shown
        shown = view.render()
        app.screen.refresh(layout=True)
        await pilot.pause()
        assert view.render() is shown

    drive(app, scenario)


def test_the_detail_pane_draws_a_node_once_however_often_it_is_laid_out():
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        await pilot.press("n")
        await pilot.pause()
        summary = app.screen.query_one("#node-summary", Static)
        drawn = []
        lines = summary.content
        draw = lines.draw
        lines.draw = lambda width: drawn.append(width) or draw(width)
        for _ in range(3):
            app.screen.refresh(layout=True)
            summary.refresh()
            await pilot.pause()
        assert drawn == [] and any("LogBackward0" in line for line in screen_lines(app))

    drive(app, scenario)
