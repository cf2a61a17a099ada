"""Shown while a script is recorded or a trace file is read, with the time it has taken so far."""

from __future__ import annotations

from time import monotonic

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import LoadingIndicator, Static


class LoadingScreen(Screen[None]):
    CSS_PATH = "dialogs.tcss"

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what
        self.started = monotonic()

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(self.what, id="loading-what")
            yield LoadingIndicator()
            yield Static(id="loading-time")

    def on_mount(self) -> None:
        self.set_interval(0.5, self._tick)

    def _tick(self) -> None:
        self.query_one("#loading-time", Static).update(f"{monotonic() - self.started:.0f} s")
