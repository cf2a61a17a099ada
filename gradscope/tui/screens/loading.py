"""Shown while a script is recorded or a trace file is read, with the time it has taken so far.

The keys work whatever the script is doing (it runs in another process): q or ctrl+c quits, r starts
a script again (after fixing a loop, say).
"""

from __future__ import annotations

from time import monotonic

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.widgets import LoadingIndicator, Static

from gradscope.tui.screens.base import BrowserScreen


class LoadingScreen(BrowserScreen[None]):
    """`what` is under way; `timeout` (seconds) is shown beside the time taken; `restartable` offers r."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("r", "app.rerun", "Start again", tooltip="Stop the script and run it again")]

    def __init__(self, what: str, *, timeout: float | None = None, restartable: bool = False) -> None:
        super().__init__()
        self.what = what
        self.timeout = timeout
        self.restartable = restartable
        self.started = monotonic()

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(self.what, id="loading-what")
            yield LoadingIndicator()
            yield Static(id="loading-time")
            yield Static("q or ctrl+c: quit" + (" · r: start again" if self.restartable else ""), id="loading-hint")

    def on_mount(self) -> None:
        self._tick()
        self.set_interval(0.5, self._tick)

    def _tick(self) -> None:
        elapsed = f"{monotonic() - self.started:.0f} s"
        if self.timeout is not None:
            elapsed += f" (stopped after {self.timeout:g} s)"
        self.query_one("#loading-time", Static).update(elapsed)
