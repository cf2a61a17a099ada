"""The parameters table on its own screen; choosing a row returns its node to the main screen."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from gradscope.tui.flow import Flow
from gradscope.tui.parameter_index import ParameterIndex
from gradscope.tui.present import counted
from gradscope.tui.screens.base import BrowserScreen
from gradscope.tui.widgets.key_footer import KeyFooter
from gradscope.tui.widgets.parameters_table import ParametersTable
from gradscope.tui.widgets.title_header import TitleHeader


class ParametersScreen(BrowserScreen[None]):
    """Calls `chosen` with the node id of the parameter chosen, then closes; escape closes it. Kept to open again
    (`show` shows another pass's gradients then, sorted as they were)."""

    CSS_PATH = "lists.tcss"
    BINDINGS = [Binding("escape,p", "dismiss_none", "Back")]

    def __init__(self, parameters: ParameterIndex, pass_index: int | None, chosen: Callable[[int], object]) -> None:
        super().__init__()
        self.parameters = parameters
        self.pass_index = pass_index
        self.chosen = chosen

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        yield Static(self._caption(), classes="caption")
        yield ParametersTable(self.parameters, self.pass_index)
        yield KeyFooter()

    def _caption(self) -> Flow:
        if not self.parameters.parameters:
            return Flow.phrases("no parameters: the trace holds no leaf tensor that requires grad")
        parameters = counted(len(self.parameters.parameters), "parameter", "parameters")
        gradients = "no backward pass, so no gradients" if self.pass_index is None else \
            f"gradients after pass {self.pass_index}"
        return Flow.phrases(f"{parameters}, {gradients}", "enter: go to the node", "1-6 or a click on a header: sort")

    def show(self, pass_index: int | None) -> None:
        """Show the gradients of pass `pass_index` as the screen opens again."""
        if pass_index == self.pass_index:
            return
        self.pass_index = pass_index
        if self.is_mounted:
            self.query_one(".caption", Static).update(self._caption())
            self.query_one(ParametersTable).show_pass(pass_index)

    def on_mount(self) -> None:
        self.sub_title = "parameters"
        self.query_one(ParametersTable).focus()

    def on_parameters_table_chosen(self, event: ParametersTable.Chosen) -> None:
        if event.row.node is None:
            self.notify(f"{event.row.name} never joined the graph: it has no node", severity="warning")
            return
        self.chosen(event.row.node)
        self.dismiss()

    def action_dismiss_none(self) -> None:
        self.dismiss()
