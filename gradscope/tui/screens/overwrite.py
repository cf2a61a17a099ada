"""Asks before saving over an existing file: y overwrites it; n or escape keeps it (nothing is saved)."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class OverwriteScreen(ModalScreen[bool]):
    """Dismissed with True to overwrite `path`, which exists and is `what` (e.g. "a gradscope trace")."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("y", "answer(True)", "Yes", tooltip="Overwrite the file"),
                Binding("n,escape", "answer(False)", "No", tooltip="Keep the file (nothing is saved)")]

    def __init__(self, path: Path, what: str) -> None:
        super().__init__()
        self.path = path
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="overwrite-box"):
            yield Static(Text.assemble(str(self.path), (f" exists and is {self.what}.", "bold"), " Overwrite it?"),
                         id="overwrite-question")
            yield Static("y: overwrite · n or escape: keep it", id="overwrite-answers")

    def action_answer(self, overwrite: bool) -> None:
        self.dismiss(overwrite)
