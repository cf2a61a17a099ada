"""Both sides of one node of a diff: run A's node, its counterpart in run B, and how they differ."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from gradscope._format import format_number
from gradscope.compare import Difference, DiffReport
from gradscope.trace.model import NodeRecord, Trace
from gradscope.tui.present import LEAF, NONFINITE, QUIET, SCOPE, gradient, place

SAME = "green"


def _side(node: NodeRecord | None, trace: Trace, pass_index: int | None) -> list[RenderableType]:
    if node is None:
        return [Text("no counterpart in this run", style=QUIET)]
    heading = Text(node.name, style="bold")
    if node.leaf_name:
        heading.append(f"  {node.leaf_name}", style=LEAF)
    heading.append(f"  #{node.id}", style=QUIET)
    facts = Text.assemble(("op ", QUIET), node.op)
    if node.scope:
        facts.append("  scope ", style=QUIET)
        facts.append(node.scope, style=SCOPE)
    parts: list[RenderableType] = [heading, facts]
    if node.source is not None:
        parts.append(Text.assemble(("source ", QUIET), place(node.source)))
    output = next((record for record in node.outputs if record is not None), None)
    grad = gradient(trace, node.id, pass_index) if pass_index is not None and pass_index < len(trace.passes) else None
    table = Table(box=None, padding=(0, 1), show_header=True, header_style=QUIET)
    for column in ("", "shape", "norm", "mean"):
        table.add_column(column, justify="left" if not column else "right")
    for name, record in (("value" if node.kind == "leaf" else "output", output), ("gradient", grad)):
        if record is not None:
            stats = record.stats
            table.add_row(name, str(list(stats.shape)), format_number(stats.norm), format_number(stats.mean))
    parts.append(table)
    return parts


class DiffDetail(VerticalScroll):
    """The detail pane of the diff screen; `show(node)` fills it for a node of run A."""

    def __init__(self, a: Trace, b: Trace, report: DiffReport, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.a, self.b, self.report = a, b, report
        self.node_id: int | None = None

    def compose(self):
        yield Static(id="diff-sides")

    def show(self, node_id: int | None, pass_index: int | None) -> None:
        self.node_id = node_id
        sides = self.query_one("#diff-sides", Static)
        if node_id is None:
            sides.update(Text("nothing recorded", style=QUIET))
            return
        partner = self.report.partners.get(node_id)
        found = [difference for difference in self.report.differences if difference.a is not None
                 and difference.a.id == node_id]
        parts: list[RenderableType] = [_verdict(found)]
        parts += [Text("A  " + self.report.a_label, style="bold underline"),
                  *_side(self.a.nodes[node_id], self.a, pass_index)]
        parts += [Text(""), Text("B  " + self.report.b_label, style="bold underline"),
                  *_side(None if partner is None else self.b.nodes[partner], self.b, pass_index)]
        sides.update(Group(*parts))


def _verdict(found: list[Difference]) -> RenderableType:
    if not found:
        return Text("= the same in both runs (within tolerance)", style=SAME)
    lines = []
    for difference in found:
        if difference.kind == "structural":
            text = "different op" if difference.what == "different op" else difference.what
        else:
            text = f"{difference.phase}: {difference.what} differs: {difference.mismatch.describe()}"
        lines.append(Text(f"≠ {text}", style=NONFINITE))
    return Group(*lines, Text(""))
