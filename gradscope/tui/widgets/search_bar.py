"""The search line opened with `/`: type to jump to the first match, enter or ↓ for the next one, ↑ for the
previous one, escape to close."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class SearchBar(Input):
    """An Input that posts `SearchBar.Step` on ↑/↓ and `SearchBar.Closed` on escape (typing posts
    Input.Changed, enter Input.Submitted, which the screen takes as a step forward)."""

    BINDINGS = [Binding("down", "step(1)", "Next match"),
                Binding("up", "step(-1)", "Previous match"),
                Binding("escape", "close", "Close search")]

    class Step(Message):
        """Go to the next (`step` 1) or previous (-1) match."""

        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    class Closed(Message):
        """Escape was pressed in the search line."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="search: node, op, scope or parameter  (enter/↓ next, ↑ previous, esc close)",
                         id=id)

    def action_step(self, step: int) -> None:
        self.post_message(self.Step(step))

    def action_close(self) -> None:
        self.post_message(self.Closed())
