"""A load error (bad script, corrupt trace file, timeout) in plain words; any of enter, escape or q closes it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from gradscope.tui.screens.base import BrowserScreen


class ErrorScreen(BrowserScreen[None]):
    """Shows `message`, the script's own traceback lines (`details`) and what it printed (`output`);
    `closing` says what closing does."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("enter,escape,q", "dismiss", "Close", priority=True)]

    def __init__(self, message: str, details: str = "", closing: str = "close", *, output: str = "") -> None:
        super().__init__()
        self.message = message
        self.details = details
        self.closing = closing
        self.output = output

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box"):
            yield Static(Text.assemble(("error: ", "bold red"), self.message), id="error-message")
            if self.details or self.output:
                with VerticalScroll(id="error-details"):
                    if self.details:
                        yield Static(Text(self.details), id="error-traceback")
                    if self.output:
                        yield Static("the script's output:", classes="error-caption")
                        yield Static(Text(self.output.rstrip("\n")), id="error-output")
            yield Static(f"enter, escape or q: {self.closing}", id="error-hint")
