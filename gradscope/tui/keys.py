"""The movement keys every list, table, tree and scrolling pane shares: arrows and vi's j/k, home/end and g/G."""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import VerticalScroll

from gradscope.tui.scrollbars import PlacedScrollBars


def movement(up: str, down: str, first: str, last: str) -> list[Binding]:
    """Bindings of the shared keys to a widget's own actions (Textual names them differently per widget)."""
    return [Binding("k,up", up, "Up", show=False),
            Binding("j,down", down, "Down", show=False),
            Binding("g,home", first, "First line", show=False),
            Binding("G,end", last, "Last line", show=False)]


class KeyScroll(PlacedScrollBars, VerticalScroll):
    """A scrolling pane answering the shared movement keys."""

    BINDINGS = movement("scroll_up", "scroll_down", "scroll_home", "scroll_end")
