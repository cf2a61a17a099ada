"""Everything the trace knows about one node: op, scope, source, params, tensors, gradients per pass."""

from __future__ import annotations

import linecache
import os
import stat

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from gradscope.trace.model import NodeRecord, Trace
from gradscope.tui.present import (
    CULPRIT,
    LEAF,
    NONFINITE,
    QUIET,
    SCOPE,
    gradient,
    nonfinite_text,
    number,
)
from gradscope.tui.widgets.tensor_table import TensorRow, TensorTable
from gradscope.tui.widgets.tensor_view import TensorView

SOURCE_CONTEXT = 2  # lines shown above and below the user's line


MAX_SOURCE_BYTES = 4 << 20  # a trace names the file; it may be anything: read only a plain, modest file


def _readable_source(file: str) -> bool:
    try:
        status = os.stat(file)
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(status.st_mode) and status.st_size <= MAX_SOURCE_BYTES


def source_lines(node: NodeRecord) -> Text | None:
    """The user's line that created the node and a few around it, when the file can be read."""
    if node.source is None or not _readable_source(node.source.file):
        return None
    first = max(1, node.source.line - SOURCE_CONTEXT)
    lines = [(line_number, linecache.getline(node.source.file, line_number).rstrip("\n"))
             for line_number in range(first, node.source.line + SOURCE_CONTEXT + 1)]
    if not any(line for _, line in lines):
        return None
    text = Text(no_wrap=True, overflow="ellipsis")
    for line_number, line in lines:
        here = line_number == node.source.line
        text.append(f"{'▶' if here else ' '} {line_number:>4} │ ", style="bold" if here else QUIET)
        text.append(line + "\n", style="bold" if here else "")
    text.rstrip()
    return text


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


class NodeDetail(VerticalScroll):
    """The detail pane; `show(node, pass_index)` fills it. Tensor rows open with enter (`TensorTable.RowChosen`)."""

    def __init__(self, trace: Trace, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.trace = trace
        self.node_id: int | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="node-summary")
        yield TensorTable(id="node-tensors")
        yield TensorView(id="node-tensor")
        yield Static(id="node-passes")

    def show(self, node_id: int | None, pass_index: int | None) -> None:
        self.node_id = node_id
        summary = self.query_one("#node-summary", Static)
        table = self.query_one(TensorTable)
        passes = self.query_one("#node-passes", Static)
        if node_id is None:
            summary.update(Text("nothing recorded", style=QUIET))
            table.show([])
            self.query_one(TensorView).show("", None)
            passes.update("")
            return
        node = self.trace.nodes[node_id]
        summary.update(self._summary(node))
        rows = tensor_rows(self.trace, node, pass_index)
        table.show(rows)
        self.query_one(TensorView).show(*(rows[0].name, rows[0].record) if rows else ("no tensors recorded", None))
        passes.update(self._passes(node, pass_index))
        passes.display = len(self.trace.passes) > 1

    def on_tensor_table_row_chosen(self, event: TensorTable.RowChosen) -> None:
        if not event.opened:
            event.stop()
            self.query_one(TensorView).show(event.row.name, event.row.record)

    def _summary(self, node: NodeRecord) -> RenderableType:
        heading = Text(node.name, style="bold")
        if node.leaf_name:
            heading.append(f"  {node.leaf_name}", style=LEAF)
        heading.append(f"  #{node.id}", style=QUIET)
        roles = {anomaly.role for anomaly in self.trace.anomalies if anomaly.node == node.id}
        if "culprit" in roles:
            heading.append("  ")
            heading.append(" ◀ culprit ", style=CULPRIT)
        facts = Text.assemble(("op ", QUIET), node.op, ("  kind ", QUIET), node.kind)
        module = next((p.module for p in self.trace.parameters if p.node == node.id), None)
        for name, scope in (("scope", node.scope), ("module", module)):
            if scope:
                facts.append(f"  {name} ", style=QUIET)
                facts.append(scope, style=SCOPE)
        parts: list[RenderableType] = [heading, facts]
        if node.source is not None:
            parts.append(Text.assemble(("source ", QUIET), str(node.source), (f" in {node.source.function}", QUIET)))
            lines = source_lines(node)
            if lines is not None:
                parts.append(lines)
        if node.params:
            parts.append(Text.assemble(("params ", QUIET), ", ".join(f"{k}={v}" for k, v in node.params.items())))
        inputs = [("—" if child is None else f"{self.trace.nodes[child].label} #{child}") for child, _ in node.next]
        if inputs:
            parts.append(Text.assemble(("next_functions ", QUIET), ", ".join(inputs)))
        if node.hooks:
            parts.append(Text.assemble(("hooks ", QUIET), ", ".join(node.hooks)))
        for anomaly in (a for a in self.trace.anomalies if a.node == node.id):
            style = NONFINITE if anomaly.role == "culprit" else "yellow"
            parts.append(Text.assemble((f"✗ {anomaly.role} ({anomaly.phase}) ", style), anomaly.message))
        return Group(*parts)

    def _passes(self, node: NodeRecord, pass_index: int | None) -> RenderableType:
        table = Table(title="gradient in each pass", title_justify="left", box=None, padding=(0, 1),
                      title_style="bold")
        for column, justify in (("pass", "right"), ("norm", "right"), ("non-finite", "right"), ("", "left")):
            table.add_column(column, justify=justify)
        for index in range(len(self.trace.passes)):
            grad = gradient(self.trace, node.id, index)
            current = "◀ shown" if index == pass_index else ""
            if grad is None:
                table.add_row(str(index + 1), Text("—", style=QUIET), "", current)
                continue
            table.add_row(str(index + 1), number(grad.stats.norm), Text(nonfinite_text(grad.stats), style=NONFINITE),
                          current)
        return table
