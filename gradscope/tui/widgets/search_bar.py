"""The search line opened with `/`: type to jump to the first match, enter for the next one, escape to close."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class SearchBar(Input):
    """An Input that posts `SearchBar.Closed` on escape (typing posts Input.Changed, enter Input.Submitted)."""

    BINDINGS = [Binding("escape", "close", "Close search")]

    class Closed(Message):
        """Escape was pressed in the search line."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="search: node name, op, scope or parameter  (enter: next match, esc: close)",
                         id=id)

    def action_close(self) -> None:
        self.post_message(self.Closed())
