"""One tensor in full: statistics, histogram and values, with its gradient beside it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal

from gradscope.trace.model import TensorRecord
from gradscope.tui.keys import KeyScroll
from gradscope.tui.screens.base import BrowserScreen
from gradscope.tui.widgets.key_footer import KeyFooter
from gradscope.tui.widgets.tensor_view import TensorView
from gradscope.tui.widgets.title_header import TitleHeader


class TensorScreen(BrowserScreen[None]):
    """`name`'s record, and `partner_name`'s record next to it when there is one. Kept to open again: `show` shows
    another tensor in the same widgets (composed anew at each enter, the screen took three times as long to open)."""

    CSS_PATH = "tensor.tcss"
    BINDINGS = [Binding("escape", "dismiss", "Back")]

    def __init__(self, name: str = "", record: TensorRecord | None = None, partner_name: str = "",
                 partner: TensorRecord | None = None) -> None:
        super().__init__()
        self.tensors: list[tuple[str, TensorRecord]] = []
        self._set(name, record, partner_name, partner)

    def _set(self, name: str, record: TensorRecord | None, partner_name: str, partner: TensorRecord | None) -> None:
        self.tensors = [(name, record)] if record is not None else []
        if partner is not None:
            self.tensors.append((partner_name, partner))

    def compose(self) -> ComposeResult:
        yield TitleHeader()
        with KeyScroll(), Horizontal():
            yield TensorView(full=True)  # the tensor
            yield TensorView(full=True)  # its partner, if any
        yield KeyFooter()

    def on_mount(self) -> None:
        self._fill()
        self.query_one(KeyScroll).focus()

    def show(self, name: str, record: TensorRecord, partner_name: str = "", partner: TensorRecord | None = None
             ) -> None:
        """Show another tensor (and its partner), from the top, as the screen opens again."""
        self._set(name, record, partner_name, partner)
        if self.is_mounted:
            self._fill()
            self.query_one(KeyScroll).scroll_home(animate=False, immediate=True)
            self.refresh(layout=True)  # laid out as it shows, not painted first as it was

    def _fill(self) -> None:
        self.sub_title = " · ".join(name for name, _ in self.tensors)
        for index, view in enumerate(self.query(TensorView)):
            shown = index < len(self.tensors)
            if shown:  # drawn with the records beside it: the histograms and values start on the same line
                name, record = self.tensors[index]
                view.show(name, record, beside=[tensor for tensor in self.tensors if tensor[1] is not record])
            if view.display != shown:
                view.display = shown
