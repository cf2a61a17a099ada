"""The pass selector: every backward pass of a trace; choosing one shows it on the main screen."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from gradscope.trace.model import Trace
from gradscope.tui.flow import Flow
from gradscope.tui.screens.base import BrowserScreen
from gradscope.tui.widgets.key_footer import KeyFooter
from gradscope.tui.widgets.pass_list import PassList
from gradscope.tui.widgets.title_header import TitleHeader


class PassesScreen(BrowserScreen[None]):
    """Calls `chosen` with the index of the pass chosen, then closes; escape closes it. Kept to open again
    (`show` highlights the pass shown then)."""

    CSS_PATH = "lists.tcss"
    BINDINGS = [Binding("escape,P", "dismiss_none", "Back")]

    def __init__(self, trace: Trace, shown: int | None, chosen: Callable[[int], None]) -> None:
        super().__init__()
        self.trace = trace
        self.shown = shown
        self.chosen = chosen

    def show(self, shown: int | None) -> None:
        """Highlight pass `shown` (the one the main screen shows) as the screen opens again."""
        self.shown = shown
        if self.is_mounted and shown is not None:
            self.query_one(PassList).highlighted = shown

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        passes = f"{len(self.trace.passes):,} backward passes, counted from 0"
        yield Static(Flow.phrases(passes, "enter: show the pass"), classes="caption")
        yield PassList(self.trace, self.shown)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = "passes"
        self.query_one(PassList).focus()

    def on_pass_list_chosen(self, event: PassList.Chosen) -> None:
        self.chosen(event.index)
        self.dismiss()

    def action_dismiss_none(self) -> None:
        self.dismiss()
