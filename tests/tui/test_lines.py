"""Lines: a Rich renderable drawn once for each width, however often Textual asks for its height and lines."""

from rich.text import Text
from textual.style import Style
from tui_helpers import NAN_MODEL, drive, recorded

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
