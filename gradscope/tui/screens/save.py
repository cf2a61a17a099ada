"""Asks where to save the trace (`s`); enter saves (the app asks before replacing a file), escape cancels."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class SaveScreen(ModalScreen[Path | None]):
    """Dismissed with the path typed, or None."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, default: Path) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="save-box"):
            yield Static("save the trace to (enter: save, escape: cancel)")
            yield Input(str(self.default), id="save-path")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(Path(event.value) if event.value.strip() else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
