"""Rich renderings of a trace: summary, graph tree, parameter table (anomalies: cli/anomaly_report.py)."""

from __future__ import annotations

from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from gradscope._format import format_number, number_style
from gradscope.cli.anomaly_report import headline
from gradscope.trace.model import NodeRecord, TensorRecord, Trace
from gradscope.trace.passes import loss_of


def _number(value: float) -> Text:
    return Text(format_number(value), style=number_style(value))


def _grad_text(record: TensorRecord | None) -> Text:
    if record is None:
        return Text("")
    stats = record.stats
    if not stats.finite:
        return Text(f"grad ✗ {stats.nan} nan {stats.posinf + stats.neginf} inf", style="bold red")
    return Text(f"grad ‖{format_number(stats.norm)}‖", style="cyan")


def _passes_text(trace: Trace) -> str:
    """'8', or '4 (3 made by torch.autograd.functional, torch.func)'."""
    made = [record.made_by for record in trace.passes if record.made_by is not None]
    if not made:
        return str(len(trace.passes))
    return f"{len(trace.passes)} ({len(made)} made by {', '.join(dict.fromkeys(made))})"


def summary(trace: Trace, pass_index: int | None = None) -> Panel:
    culprits = trace.culprits()
    source = trace.meta.get("script", "")
    entry = trace.meta.get("entry")
    lines = [
        f"[bold]{escape(source)}[/]" + (f"  entry [cyan]{escape(entry)}()[/]" if entry else "  (run as __main__)"),
        f"passes [bold]{escape(_passes_text(trace))}[/]   nodes [bold]{len(trace.nodes)}[/]   "
        f"parameters [bold]{len(trace.parameters)}[/]   anomalies "
        + (f"[bold red]{len(trace.anomalies)} ({len(culprits)} culprit{'s' if len(culprits) != 1 else ''})[/]"
           if trace.anomalies else "[green]none[/]"),
    ]
    first = headline(trace)
    if first is not None:
        lines.append(f"[bold red]first anomaly[/] {escape(first)}")
    if pass_index is not None:
        loss = loss_of(trace, pass_index)
        shown = f"   (showing pass {pass_index} of 0–{len(trace.passes) - 1}: --pass N, --pass last)" \
            if len(trace.passes) > 1 else ""
        lines.append((f"loss [bold]{format_number(loss)}[/]" if loss is not None else "loss —") + shown)
    return Panel("\n".join(lines), title="gradscope inspect", expand=False)


def _label_tokens(trace: Trace, node: NodeRecord, pass_index: int, culprits: set) -> list[Text]:
    """A node's label as the pieces it may wrap between: name, shape, scope, gradient, culprit badge."""
    tokens = [Text(node.label, style="bold blue" if node.kind == "leaf" else "bold")]
    outputs = [r for r in node.outputs if r is not None]
    if outputs:
        tokens.append(Text(str(list(outputs[0].shape)), style="dim"))
    if node.kind != "leaf" and node.scope:
        tokens.append(Text(node.scope, style="magenta"))
    if trace.passes:
        record = trace.passes[pass_index]
        grad = record.leaf_grads.get(node.id) if node.kind == "leaf" else \
            next(iter(record.grad_outputs.get(node.id, [])), None)
        if grad is not None:
            tokens.append(_grad_text(grad))
    if node.id in culprits:
        tokens.append(Text("◀ culprit", style="bold red reverse"))
    return tokens


def wrapped(tokens: list[Text], width: int | None) -> Text:
    """The tokens on one line, or on as many lines of at most `width` cells as they need, breaking only
    between tokens (rich would break inside one: a shape `[16,` / `8]`, a gradient `grad` / `‖0.1‖`)."""
    text = Text(no_wrap=width is not None, overflow="fold")
    used = 0
    for index, token in enumerate(tokens):
        length = token.cell_len
        if index and width is not None and used + 1 + length > width:
            text.append("\n")
            used = 0
        elif index:
            text.append(" ")
            used += 1
        text.append_text(token)
        used += length
    return text


def graph_tree(trace: Trace, depth: int = 8, pass_index: int = -1, width: int | None = None) -> Tree:
    """The backward graph of a pass from the loss down to the leaves; shared nodes appear once. With the
    console's `width`, labels wrap only between their pieces."""
    culprits = {a.node for a in trace.culprits()}
    roots = trace.passes[pass_index].roots if trace.passes else []
    which = f" of pass {pass_index % len(trace.passes)}" if len(trace.passes) > 1 else ""
    tree = Tree(Text(f"backward graph{which} (from the loss)", style="bold"))
    shown: set[int] = set()
    stack = [(tree, root, 0) for root in reversed(roots)]
    while stack:
        parent, node_id, level = stack.pop()
        node = trace.nodes[node_id]
        room = None if width is None else max(20, width - 4 * (level + 1))  # a tree level indents 4 cells
        if node_id in shown:
            parent.add(wrapped([Text(f"↑ {node.label}", style="dim italic"),
                                Text("(shared, shown above)", style="dim italic")], room))
            continue
        shown.add(node_id)
        branch = parent.add(wrapped(_label_tokens(trace, node, pass_index, culprits), room))
        children = [child for child, _ in node.next if child is not None]
        if children and level + 1 >= depth:
            branch.add(Text(f"… {len(children)} more below (raise --depth)", style="dim"))
            continue
        stack.extend((branch, child, level + 1) for child in reversed(children))
    return tree


def _broken_first(trace: Trace, pass_index: int) -> list:
    """The parameters in the model's order, except that those with a non-finite gradient come first."""
    def fine(parameter) -> bool:
        grad = trace.parameter_grad(parameter, pass_index)
        return grad is None or grad.stats.finite
    return sorted(trace.parameters, key=fine)


def parameter_table(trace: Trace, pass_index: int = -1) -> Table:
    """Each parameter's gradient after a pass. Nothing is cut: numbers (`1.01e-`) keep their width, and
    a name too long for what is left wraps (never `model.e…`)."""
    which = f" (gradients after pass {pass_index % len(trace.passes)})" if len(trace.passes) > 1 else ""
    table = Table(title=f"parameters{which}", title_justify="left")
    table.add_column("name", overflow="fold")
    for column in ("shape", "grad\nnorm", "grad/\nparam", "zero", "non-\nfinite"):  # narrow: names get the room
        table.add_column(column, justify="left" if column == "shape" else "right", no_wrap=True)
    for parameter in _broken_first(trace, pass_index):
        grad = trace.parameter_grad(parameter, pass_index)
        shape = str(list(parameter.value.shape))
        if grad is None:
            table.add_row(parameter.name, shape, Text("no grad", style="bold yellow"), "—", "—", "—")
            continue
        stats = grad.stats
        nonfinite = Text(str(stats.nonfinite), style="bold red" if stats.nonfinite else "")
        value = parameter.value.stats  # at the end of the recording
        ratio = "—" if stats.nonfinite or not value.finite else _number(
            stats.norm / value.norm if value.norm else float("inf"))
        table.add_row(parameter.name, shape, _number(stats.norm), ratio, f"{stats.zero_fraction:.0%}", nonfinite)
    return table
