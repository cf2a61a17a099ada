"""A Rich renderable shown by a Textual widget, drawn into lines once for each width it is shown at.

Textual asks a widget's content for its height at every layout, then draws it again to show it, and a Rich
renderable is drawn anew and split into lines each time: a screen opening is laid out four or five times, and a
tensor's values or the help's tables are hundreds of cells. `Lines` keeps the lines it drew for each width.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from textual._context import active_app
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual


class Lines(Visual):
    """What `draw(width)` gives, as a Textual Visual (what a widget's `render` may return, or a Static shows) that
    draws it once for each width; also a Rich renderable, drawing the same."""

    def __init__(self, draw: Callable[[int], RenderableType]) -> None:
        self.draw = draw
        self._lines: dict[int, list[Strip]] = {}

    @classmethod
    def of(cls, renderable: RenderableType) -> Lines:
        """`renderable`, whatever the width."""
        return cls(lambda width: renderable)

    def lines(self, width: int) -> list[Strip]:
        lines = self._lines.get(width)
        if lines is None:
            console = active_app.get().console
            lines = self._lines[width] = self.draw_lines(console, console.options.update(
                width=width, height=None, highlight=False))
        return lines

    def draw_lines(self, console: Console, options: ConsoleOptions) -> list[Strip]:
        """The lines at `options`' width (a subclass may put them together otherwise)."""
        return [Strip(line) for line in console.render_lines(self.draw(options.max_width), options, pad=False)]

    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        base = style.rich_style
        return [line.apply_style(base) for line in self.lines(width)[:height]]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        console = active_app.get().console
        return Measurement.get(console, console.options.update_width(container_width),
                               self.draw(container_width)).maximum

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self.lines(width))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.draw(options.max_width)
