"""`gradscope diff A B`: where two runs of a model start to differ (each a script or a trace file)."""

from __future__ import annotations

import json as json_module
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from gradscope._format import format_number
from gradscope.cli.console import make_console
from gradscope.cli.errors import EXIT_OK, EXIT_PROBLEM, report_output, reported_errors
from gradscope.cli.export_cmd import load_any
from gradscope.cli.options import Timeout
from gradscope.compare import Difference, DiffReport, Tolerance, compare_traces
from gradscope.compare.report import describe_node

LISTED = 10  # structural differences listed in the text report (--json keeps all)
ROWS = 20  # rows of the parameter and module tables, those that differ first (--json keeps all)


def _tolerance(value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise typer.BadParameter("must be a finite number >= 0")
    return value


Source = Annotated[Path, typer.Argument(help="A model script (recorded first; runs its code) or a trace file.")]
Rtol = Annotated[float | None, typer.Option(
    "--rtol", callback=_tolerance, help="Relative tolerance. [default: the lower precision's, e.g. 1.3e-06 for "
                                        "float32, as torch.testing.assert_close]")]
Atol = Annotated[float | None, typer.Option(
    "--atol", callback=_tolerance, help="Absolute tolerance. [default: the lower precision's, e.g. 1e-05 for "
                                        "float32]")]


def diff(
    a: Source,
    b: Source,
    entry: Annotated[str | None, typer.Option(help="Function returning the scalar to differentiate "
                                                    "(in both scripts).")] = None,
    rtol: Rtol = None,
    atol: Atol = None,
    keep_values: Annotated[int | None, typer.Option(
        min=0, help="Recording a script: keep the values of tensors up to this many elements; larger ones are "
                    "compared by their statistics. [default: 4096]")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON instead of a report.")] = False,
    timeout: Timeout = None,
) -> None:
    """Compare two runs node by node and name the first divergence (exit 0 equal within tolerance, 1 they
    differ, 2 bad input)."""
    with reported_errors():
        trace_a = load_any(a, timeout, entry, keep_values)
        trace_b = load_any(b, timeout, entry, keep_values)
        report = compare_traces(trace_a, trace_b, Tolerance(rtol, atol), a_label=str(a), b_label=str(b))
    with report_output(EXIT_OK if report.equal else EXIT_PROBLEM):
        if json:
            print(json_module.dumps(report.to_json(), indent=1, allow_nan=False))
        else:
            render(report, make_console())


def render(report: DiffReport, console: Console) -> None:
    """The report for people: the verdict or the first divergence, then the parameter and module tables."""
    console.print(Text.assemble(("A ", "bold"), report.a_label, ("  B ", "bold"), report.b_label,
                                f"  ({report.tolerance.describe()}"
                                + ("; parameters only: a baseline" if report.parameters_only else "") + ")"))
    if report.equal:
        console.print(Text("✓ equal within tolerance", style="bold green"))
    elif report.first is not None:
        console.print(_first(report.first))
    console.print(_parameter_table(report))
    if report.modules:
        console.print(_module_table(report))
    structural = report.structural
    if len(structural) > 1:
        console.print(Text(f"structural differences ({len(structural)}"
                           + (f", the first {LISTED}" if len(structural) > LISTED else "") + ")", style="bold"))
        for difference in structural[:LISTED]:
            console.print(Text(f"  {difference.describe()}"))
    if not report.equal:
        counts = f"{len(structural)} structural, {len(report.numerical)} numerical differences; " \
                 f"{sum(p.status != 'equal' for p in report.parameters)} of {len(report.parameters)} parameters differ"
        console.print(Text(counts, style="bold red"))


def _first(difference: Difference) -> Group:
    lines = [Text.assemble(("✗ first divergence ", "bold red"), (f"({difference.kind}) ", "red"), difference.where)]
    if difference.kind == "structural" and difference.what != "different op":
        node = difference.a or difference.b
        lines.append(Text(f"  {difference.what}: {describe_node(node)}" if node else f"  {difference.what}"))
    elif difference.kind == "structural":
        lines.append(Text("  a different op at the same place"))
        lines.append(Text(f"  A: {describe_node(difference.a)}"))
        lines.append(Text(f"  B: {describe_node(difference.b)}"))
    else:
        lines.append(Text(f"  {difference.what} of {difference.node}"))
        lines.append(Text(f"  {difference.mismatch.describe()}"))
        if difference.what == "value" and difference.pass_index in (0, None):
            lines.append(Text("  → the runs start from different values: seed both the same way "
                              "(torch.manual_seed before the model is built) or load the same weights", style="yellow"))
    return Group(*lines)


def _capped(rows: list, differs) -> tuple[list, int]:
    """At most ROWS rows, the ones that differ first, each group in its own order; and how many are left out."""
    ordered = [row for row in rows if differs(row)] + [row for row in rows if not differs(row)]
    return ordered[:ROWS], max(0, len(rows) - ROWS)


def _parameter_table(report: DiffReport) -> Table:
    table = Table(title="parameters (gradients after the last pass)", title_justify="left")
    for column, justify in (("name", "left"), ("‖grad‖ A", "right"), ("‖grad‖ B", "right"),
                            ("rel error", "right"), ("status", "left")):
        table.add_column(column, justify=justify)
    shown, rest = _capped(report.parameters, lambda parameter: parameter.status != "equal")
    if rest:
        table.caption = f"… {rest} more parameters (--json lists all)"
    for parameter in shown:
        shown = parameter.note if parameter.status == "differs" and parameter.note else parameter.status
        status = Text(shown, style="green" if parameter.status == "equal" else "bold red")
        if parameter.compared == "statistics":
            status.append(" [statistics only]", style="dim")
        table.add_row(escape(parameter.name), format_number(parameter.grad_norm_a),
                      format_number(parameter.grad_norm_b), format_number(parameter.grad_rel_error), status)
    return table


def _module_table(report: DiffReport) -> Table:
    table = Table(title="modules", title_justify="left")
    for column, justify in (("module", "left"), ("nodes A", "right"), ("nodes B", "right"),
                            ("first difference", "left")):
        table.add_column(column, justify=justify)
    shown, rest = _capped(report.modules, lambda module: module.first is not None)
    if rest:
        table.caption = f"… {rest} more modules (--json lists all)"
    for module in shown:
        first = module.first
        if first is None:
            shown = Text("equal", style="green")
        elif first.what == "different op":
            shown = Text(f"{first.phase}: different op: {first.a.op} in A, {first.b.op} in B", style="red")
        elif first.kind == "structural":
            shown = Text(f"{first.phase}: {first.what}: {describe_node(first.a or first.b)}", style="red")
        else:
            shown = Text(f"{first.phase}: {first.what} of {describe_node(first.a)}", style="red")
        table.add_row(escape(module.scope), str(module.nodes_a), str(module.nodes_b), shown)
    return table
