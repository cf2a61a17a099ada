"""Everything the trace knows about one node: op, scope, source, params, tensors, gradients per pass."""

from __future__ import annotations

import linecache
import os
import stat
from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from gradscope._format import format_number
from gradscope.trace.model import Anomaly, NodeRecord, Parameter, SourceLocation, Trace
from gradscope.tui.flow import Flow, words
from gradscope.tui.keys import KeyScroll
from gradscope.tui.lines import Lines
from gradscope.tui.modules import MODULE_ROWS, belongs, inside, relative_name
from gradscope.tui.parameter_index import ParameterIndex
from gradscope.tui.present import (
    CULPRIT,
    LEAF,
    NONFINITE,
    QUIET,
    SCOPE,
    anomaly_subject,
    counted,
    gradient,
    gradient_text,
    nonfinite_text,
    place,
)
from gradscope.tui.widgets.tensor_table import TensorRow, TensorTable
from gradscope.tui.widgets.tensor_view import TensorView

SOURCE_CONTEXT = 1  # lines shown above and below the user's line
PASS_ROWS = 24  # a node's gradient in each pass: all rows up to this many, else the ends and around the shown one
PASS_ENDS = 3  # rows kept at each end and on each side of the shown pass


MAX_SOURCE_BYTES = 4 << 20  # a trace names the file; it may be anything: read only a plain, modest file


def _readable_source(file: str) -> bool:
    try:
        status = os.stat(file)
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(status.st_mode) and status.st_size <= MAX_SOURCE_BYTES


class SourceLines:
    """A few lines of source, each after its gutter (`▶23 ` on the user's line); a line too long for the pane
    wraps under its own start, clear of the gutter."""

    def __init__(self, rows: list[tuple[Text, Text]]) -> None:
        self.rows = rows

    @property
    def plain(self) -> str:
        return "\n".join(gutter.plain + line.plain for gutter, line in self.rows)

    def _grid(self) -> Table:
        grid = Table.grid()
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        for gutter, line in self.rows:
            grid.add_row(gutter, line)
        return grid

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self._grid()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self._grid())


def source_lines(source: SourceLocation | None) -> SourceLines | None:
    """The user's line (that created a node, or ran an op) and a few around it, when the file can be read.

    The lines are dedented and the gutter kept narrow, so the line fits a narrow pane; a longer one wraps.
    """
    if source is None or not _readable_source(source.file):
        return None
    first = max(1, source.line - SOURCE_CONTEXT)
    lines = [(line_number, linecache.getline(source.file, line_number).rstrip("\n").expandtabs())
             for line_number in range(first, source.line + SOURCE_CONTEXT + 1)]
    if not any(line.strip() for _, line in lines):
        return None
    indent = min(len(line) - len(line.lstrip()) for _, line in lines if line.strip())
    width = len(str(lines[-1][0]))
    rows = []
    for line_number, line in lines:
        here = line_number == source.line
        rows.append((Text(f"{'▶' if here else ' '}{line_number:>{width}} ", style="bold" if here else QUIET),
                     Text(line[indent:].rstrip(), style="bold" if here else "")))
    while rows and not rows[-1][1].plain:  # no empty last line (the file's end)
        rows.pop()
    return SourceLines(rows)


def where(source: SourceLocation) -> Flow:
    """`sample_models/nan_log.py:23 in forward`, the function on the next line rather than cut from its name."""
    return Flow([Text(place(source)), Text(f"in {source.function}", style=QUIET)], separator=" ")


def tensor_rows(trace: Trace, node: NodeRecord, pass_index: int | None) -> list[TensorRow]:
    """The node's tensors, each forward tensor paired with its gradient in the pass."""
    record = trace.passes[pass_index] if pass_index is not None else None
    if node.kind == "leaf":
        grad = None if record is None else record.leaf_grads.get(node.id)
        rows = [TensorRow("value", node.outputs[0], grad, ".grad")] if node.outputs and node.outputs[0] else []
        return rows + ([TensorRow(".grad", grad)] if grad is not None else [])
    grad_outputs = [] if record is None else record.grad_outputs.get(node.id, [])
    grad_inputs = [] if record is None else record.grad_inputs.get(node.id, [])

    def paired(grads, index, value):
        # NOTE: a recorded gradient can have its shape before the engine sums it to the input's shape
        grad = grads[index] if index < len(grads) else None
        return grad if grad is not None and grad.shape == value.shape else None

    rows = []
    for index, output in enumerate(node.outputs):
        if output is not None:
            name = "output" if len(node.outputs) == 1 else f"output {index}"
            rows.append(TensorRow(name, output, paired(grad_outputs, index, output), f"grad_outputs[{index}]"))
    for index, value in enumerate(node.inputs):
        if value is not None:
            rows.append(TensorRow(f"input {index}", value, paired(grad_inputs, index, value), f"grad_inputs[{index}]"))
    rows += [TensorRow(f"_saved_{name}", saved) for name, saved in node.saved.items()]
    rows += [TensorRow(f"grad_outputs[{index}]", grad) for index, grad in enumerate(grad_outputs) if grad is not None]
    rows += [TensorRow(f"grad_inputs[{index}]", grad) for index, grad in enumerate(grad_inputs) if grad is not None]
    return rows


def listed(name: str, items: list[str]) -> Flow:
    """`next_functions MulBackward0 #12, TBackward0 #9`, a line broken between items, never inside one."""
    pieces = [Text(f"{item}," if index < len(items) - 1 else item) for index, item in enumerate(items)]
    pieces[0] = Text.assemble((f"{name} ", QUIET), pieces[0])
    return Flow(pieces, separator=" ")


class NodeDetail(KeyScroll):
    """The detail pane: `show(node, pass_index)` fills it with a node, `show_module` with a folded module.

    Tensor rows open with enter (`TensorTable.RowChosen`). The pane scrolls back to its top whenever
    what it shows changes, and its title names what it shows.
    """

    def __init__(self, trace: Trace, parameters: ParameterIndex | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.trace = trace
        self.parameters = ParameterIndex(trace) if parameters is None else parameters
        self.node_id: int | None = None
        self.module: str | None = None
        self._anomalies: dict[int, list[Anomaly]] = {}
        for anomaly in trace.anomalies:
            self._anomalies.setdefault(anomaly.node, []).append(anomaly)
        self._modules = {parameter.node: parameter.module for parameter in trace.parameters
                         if parameter.node is not None}

    def compose(self) -> ComposeResult:
        yield Static(id="node-summary")
        yield TensorTable(id="node-tensors")
        yield TensorView(id="node-tensor")
        yield Static(id="node-passes")

    def show(self, node_id: int | None, pass_index: int | None, note: str = "nothing recorded") -> None:
        """Show a node in a pass; without one, `note`."""
        self.node_id, self.module = node_id, None
        if node_id is None:
            self.border_title = ""
            self._fill(Text(note, style=QUIET), [], None)
            return
        node = self.trace.nodes[node_id]
        self.border_title = f"node #{node.id}"
        rows = tensor_rows(self.trace, node, pass_index)
        self._fill(self._summary(node), rows, self._passes(node, pass_index) if len(self.trace.passes) > 1 else None)

    def show_module(self, module: str, nodes: int, first_node: int | None, pass_index: int | None) -> None:
        """Show a module folded in the tree: `nodes` of its nodes are in the fold, `first_node` is its top."""
        self.node_id, self.module = None, module
        self.border_title = "module"
        positions = self.parameters.of_module(module)
        rows = [self._parameter_row(self.trace.parameters[position], module, pass_index)
                for position in self._listed(module, positions, pass_index)]
        self._fill(self._module_summary(module, nodes, first_node, pass_index, len(positions)), rows, None)

    def _listed(self, module: str, positions: Sequence[int], pass_index: int | None) -> list[int]:
        """The first MODULE_ROWS of a module's parameters (`positions` in the trace's list), those with a non-finite
        gradient first (each in the script's order)."""
        parameters = self.trace.parameters
        listed = [position for position in self.parameters.nonfinite(pass_index)
                  if belongs(parameters[position], module)][:MODULE_ROWS]
        flagged = set(listed)
        for position in positions:
            if len(listed) == MODULE_ROWS:
                break
            if position not in flagged:
                listed.append(position)
        return listed

    def show_anomaly(self, anomaly: Anomaly) -> None:
        """Show an anomaly of an op outside the autograd graph (no node records it): the op, its line, scope."""
        self.node_id, self.module = None, None
        self.border_title = "op outside the graph"
        role = Text(" ◀ culprit ", style=CULPRIT) if anomaly.role == "culprit" else Text("propagator", style="yellow")
        parts: list[RenderableType] = [
            Text.assemble((anomaly.op or "an op", "bold"), "  ", role),
            Flow(words("ran outside the autograd graph (none of its inputs required grad), so no node records it",
                       style=QUIET), separator=" ")]
        if anomaly.scope:
            parts.append(Text.assemble(("scope ", QUIET), (anomaly.scope, SCOPE)))
        if anomaly.source is not None:
            parts.append(where(anomaly.source))
            lines = source_lines(anomaly.source)
            if lines is not None:
                parts.append(lines)
        pass_text = "" if anomaly.pass_index is None else f", before backward pass {anomaly.pass_index}"
        parts.append(Flow.sentence(Text(f"✗ {anomaly.role} ({anomaly.phase}{pass_text})", style=NONFINITE),
                                   anomaly.message))
        self._fill(Group(*parts), [], None)

    def _fill(self, summary: RenderableType, rows: list[TensorRow], passes: RenderableType | None) -> None:
        # NOTE: as Lines, drawn once for each width, not at each layout and repaint (two or three per cursor move)
        self.query_one("#node-summary", Static).update(Lines.of(summary))
        table = self.query_one(TensorTable)
        table.show(rows)
        table.display = bool(rows)
        view = self.query_one(TensorView)
        view.show(*(rows[0].name, rows[0].record) if rows else ("", None))
        view.display = bool(rows)
        passes_shown = self.query_one("#node-passes", Static)
        passes_shown.update("" if passes is None else Lines.of(passes))
        passes_shown.display = passes is not None
        if self.scroll_y:
            self.scroll_home(animate=False)

    def on_tensor_table_row_chosen(self, event: TensorTable.RowChosen) -> None:
        if not event.opened:
            event.stop()
            self.query_one(TensorView).show(event.row.name, event.row.record)

    def _summary(self, node: NodeRecord) -> RenderableType:
        anomalies = self._anomalies.get(node.id, [])
        heading = Text(node.name, style="bold")
        if any(anomaly.role == "culprit" for anomaly in anomalies):
            heading.append("  ")
            heading.append(" ◀ culprit ", style=CULPRIT)
        if node.leaf_name:
            heading.append(f"  {node.leaf_name}", style=LEAF)
        heading.append(f"  #{node.id}", style=QUIET)
        facts = [Text.assemble(("op ", QUIET), node.op), Text.assemble(("kind ", QUIET), node.kind)]
        for name, scope in (("scope", node.scope), ("module", self._modules.get(node.id))):
            if scope:
                facts.append(Text.assemble((f"{name} ", QUIET), (scope, SCOPE)))
        parts: list[RenderableType] = [heading, Flow(facts)]
        if node.source is not None:
            parts.append(where(node.source))
            lines = source_lines(node.source)
            if lines is not None:
                parts.append(lines)
        for anomaly in anomalies:
            style = NONFINITE if anomaly.role == "culprit" else "yellow"
            parts.append(Flow.sentence(Text(f"✗ {anomaly.role} ({anomaly.phase})", style=style), anomaly.message))
        inputs = [("—" if child is None else f"{self.trace.nodes[child].label} #{child}") for child, _ in node.next]
        for name, items in (("params", [f"{key}={value}" for key, value in node.params.items()]),
                            ("next_functions", inputs), ("hooks", node.hooks)):
            if items:
                parts.append(listed(name, items))
        return Group(*parts)

    def _module_summary(self, module: str, nodes: int, first_node: int | None, pass_index: int | None,
                        parameters: int) -> RenderableType:
        heading = Text.assemble((module, f"bold {SCOPE}"), ("  module", QUIET))
        facts = [Text(f"{nodes:,} nodes here", style=QUIET)]
        grad = None if first_node is None else gradient(self.trace, first_node, pass_index)
        if grad is not None:
            facts.append(Text.assemble(("gradient in ", QUIET), gradient_text(grad)))
        parts: list[RenderableType] = [heading, Flow(facts)]
        for anomaly in self.trace.culprits():
            if inside(anomaly.scope, module):
                lead = Text.assemble(("✗ culprit ", NONFINITE), (anomaly_subject(self.trace, anomaly), "bold"),
                                     f" ({anomaly.phase})")
                parts.append(Flow.sentence(lead, anomaly.message))
        # NOTE: in phrases a line breaks between: "… all of them with p" left the p alone on a line at 80x24
        if parameters > MODULE_ROWS:
            parts.append(Flow([*words(f"{parameters:,} parameters; the first {MODULE_ROWS} below (non-finite first),",
                                      style=QUIET), Text("p lists them all", style=QUIET)], separator=" "))
        elif parameters:
            parts.append(Flow([Text(f"{counted(parameters, 'parameter', 'parameters')} (non-finite first);",
                                    style=QUIET), Text("enter: a gradient beside its value", style=QUIET)],
                              separator=" "))
        else:
            parts.append(Text("no parameters", style=QUIET))
        return Group(*parts)

    def _parameter_row(self, parameter: Parameter, module: str, pass_index: int | None) -> TensorRow:
        name = relative_name(parameter.name, module)
        grad = self.trace.parameter_grad(parameter, pass_index) if pass_index is not None else None
        if grad is None:
            return TensorRow(f"{name} (no grad)", parameter.value)
        return TensorRow(f"{name}.grad", grad, parameter.value, name)

    def _passes(self, node: NodeRecord, pass_index: int | None) -> RenderableType:
        """The node's gradient in each pass it took part in: all of them up to PASS_ROWS; past that the first
        and last few, those around the pass shown and the first non-finite one, gaps marked (a training run
        records thousands of passes, and an op's node is in one of them)."""
        found = [(index, grad) for index in range(len(self.trace.passes))
                 if (grad := gradient(self.trace, node.id, index)) is not None]
        if not found:
            return Text("no gradient reached it in any pass", style=QUIET)
        title = "gradient in each pass"
        if len(found) < len(self.trace.passes):
            title += f" (in {counted(len(found), 'pass', 'passes')} of {len(self.trace.passes):,})"
        table = Table(box=None, padding=(0, 1))
        for column, justify in (("pass", "right"), ("non-finite", "right"), ("norm", "right"), ("", "left")):
            table.add_column(column, justify=justify)
        shown = range(len(found))
        if len(found) > PASS_ROWS:
            at = next((position for position, (index, _) in enumerate(found) if index >= (pass_index or 0)), 0)
            bad = next((position for position, (_, grad) in enumerate(found) if not grad.stats.finite), None)
            keep = {*range(PASS_ENDS), *range(len(found) - PASS_ENDS, len(found)),
                    *range(max(at - PASS_ENDS, 0), min(at + PASS_ENDS + 1, len(found)))}
            shown = sorted(keep | ({bad} if bad is not None else set()))
        previous = -1
        for position in shown:
            if position > previous + 1:
                table.add_row("…", "", Text(f"{position - previous - 1} more", style=QUIET), "")
            previous = position
            index, grad = found[position]
            current = "◀ shown" if index == pass_index else ""
            table.add_row(str(index), Text(nonfinite_text(grad.stats), style=NONFINITE), format_number(grad.stats.norm),
                          current)
        return Group(Text(title, style="bold"), table)  # not the table's title: that wraps at the table's width
