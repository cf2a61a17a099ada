"""The anomalies: culprits first, then the nodes that only passed non-finite values on."""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual.content import Content
from textual.css.styles import RulesMap
from textual.message import Message
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from gradscope.trace.model import Anomaly, Trace
from gradscope.tui.flow import WORD, Flow
from gradscope.tui.keys import movement
from gradscope.tui.present import CULPRIT, QUIET, SCOPE, ordered_anomalies, place

ROLE_WIDTH = 10  # " culprit " or "propagator", then a space
INDENT = ROLE_WIDTH + 1
SPACED = re.compile(r"\S+")


def breaks(plain: str, width: int) -> list[tuple[int, int]]:
    """Where a piece wider than `width` is broken: at spaces, as few lines as fit (`fitted` cuts a word wider
    than a whole line with …)."""
    spans: list[tuple[int, int]] = []
    for word in SPACED.finditer(plain):
        start, end = word.span()
        if spans and end - spans[-1][0] <= width:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans or [(0, 0)]


def fitted(line: Text, width: int) -> list[Text]:
    """`line` on lines at most `width` cells wide."""
    if line.cell_len <= width:
        return [line]
    lines = [line[start:end] for start, end in breaks(line.plain, width)]
    for part in lines:
        part.truncate(width, overflow="ellipsis")
    return lines


def flow_height(plains: list[str], widths: list[int], width: int) -> int:
    """How many lines `fitted` makes of the lines of a one-space `Flow` of pieces `plains` (cell widths
    `widths`) at `width`: counted without making a Text, so that thousands of anomalies are measured at once."""
    height = 0
    line = -1  # the width of the line being filled; -1 before the first piece
    for index, piece in enumerate(widths):
        if not piece:
            continue
        if line >= 0 and line + 1 + piece <= width:
            line += 1 + piece
            continue
        height += 1
        if piece > width:  # alone on its line, and broken
            height += len(breaks(plains[index], width)) - 1
        line = piece
    return max(height, 1)


class AnomalyPrompt(Visual):
    """An anomaly in the list: its role, then phase, node, scope and source; its message on the lines below,
    under the node. Each line breaks between whole pieces (a `Flow`), a piece wider than a line at its spaces.

    Made for every anomaly when the list opens, drawn for the few on screen: its height at any width is counted
    from the pieces' widths alone (a Rich table per anomaly took 2 s to measure for 2,520 anomalies)."""

    def __init__(self, trace: Trace, anomaly: Anomaly) -> None:
        self.trace = trace
        self.anomaly = anomaly
        self._pieces: tuple[list[str], list[int], list[str], list[int]] | None = None

    def _where(self) -> list[list[tuple[str, str]]]:
        """The node line's pieces, each as (text, style) parts: phase, node and op; scope; source; pass."""
        anomaly = self.anomaly
        # an op outside the autograd graph has no node: its op, scope and line are the anomaly's own
        name, detail = ((self.trace.nodes[anomaly.node].name, f" ({anomaly.op})") if anomaly.node is not None
                        else (anomaly.op, " (outside the autograd graph)"))
        pieces = [[(f"{anomaly.phase:<8} ", QUIET), (name, "bold"), (detail, QUIET)]]
        if anomaly.scope:
            pieces.append([(anomaly.scope, SCOPE)])
        if anomaly.source is not None:
            pieces.append([(place(anomaly.source), QUIET)])
        if anomaly.pass_index is not None and len(self.trace.passes) > 1:
            pieces.append([(f"pass {anomaly.pass_index}", QUIET)])
        return pieces

    def pieces(self) -> tuple[list[str], list[int], list[str], list[int]]:
        """The node line's pieces and the message's words, as plain text and widths."""
        if self._pieces is None:
            where = ["".join(text for text, _ in parts) for parts in self._where()]
            message = WORD.findall(self.anomaly.message)
            self._pieces = where, [cell_len(piece) for piece in where], message, [cell_len(word) for word in message]
        return self._pieces

    def lines(self, width: int) -> list[Text]:
        """The anomaly's lines at `width` cells."""
        column = max(width - INDENT, 1)
        where = Flow([Text.assemble(*parts) for parts in self._where()], separator=" ").lines(column)
        message = Flow([Text(word) for word in self.pieces()[2]], separator=" ").lines(column) or [Text()]
        first, *rest = [part for line in where + message for part in fitted(line, column)]
        culprit = self.anomaly.role == "culprit"
        role = Text(" culprit ", style=CULPRIT) if culprit else Text("propagator", style="yellow")
        role.pad_right(ROLE_WIDTH - role.cell_len)  # in the role's style, as a table cell pads it
        head = Text.assemble(role, " ", first)
        return [head, *(Text.assemble(" " * INDENT, line) for line in rest)]

    def get_height(self, rules: RulesMap, width: int) -> int:
        where, where_widths, message, message_widths = self.pieces()
        column = max(width - INDENT, 1)
        return flow_height(where, where_widths, column) + flow_height(message, message_widths, column)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        _, where, _, message = self.pieces()
        return INDENT + max(sum(widths) + len(widths) - 1 for widths in (where, message))

    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        content = Content.from_rich_text(Text("\n").join(self.lines(width)))
        return content.render_strips(width, height, style, options)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines(options.max_width):
            line.end = "\n"
            yield line


class AnomalyList(OptionList):
    """Enter (or a click) on an anomaly posts `AnomalyList.Chosen`."""

    BINDINGS = movement("cursor_up", "cursor_down", "first", "last")

    class Chosen(Message):
        def __init__(self, anomaly: Anomaly) -> None:
            super().__init__()
            self.anomaly = anomaly

    def __init__(self, trace: Trace, *, id: str | None = None) -> None:
        self.anomalies = ordered_anomalies(trace)
        super().__init__(*(Option(AnomalyPrompt(trace, anomaly)) for anomaly in self.anomalies), id=id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.Chosen(self.anomalies[event.option_index]))
