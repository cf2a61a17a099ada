"""`gradscope gradcheck SCRIPT`: numerical against analytical gradients of the entry, in float64."""

from __future__ import annotations

import json as json_module
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from gradscope.cli.console import make_console
from gradscope.cli.errors import EXIT_OK, EXIT_PROBLEM, reported_errors
from gradscope.trace.gradcheck import ScriptGradcheck, check_script


def _render(outcome: ScriptGradcheck, console: Console) -> None:
    result = outcome.result
    mode = "fast" if result.fast_mode else "slow"
    title = Text("✓ gradcheck passed" if outcome.passed else "✗ gradcheck failed",
                 style="bold green" if outcome.passed else "bold red")
    dtypes = result.extra.get("dtypes", ["float64"])
    count = len(outcome.parameters)
    title.append(f"  ({mode} mode, {', '.join(dtypes)}, {result.evaluations} evaluations, "
                 f"{count} parameter{'s' if count != 1 else ''})", style="dim")
    console.print(title)
    if any(d != "float64" for d in dtypes):
        console.print(Text("note           some parameters are not float64: finite differences in single precision "
                           "are too coarse to judge gradients (create them without an explicit dtype; gradscope "
                           "runs the script with float64 as the default)", style="yellow"))
    if result.worst is not None:
        worst = result.worst
        name = result.extra.get("input_name", f"input {worst.input_index}")
        console.print(Text.assemble(("worst element  ", "bold"), (f"{name}{list(worst.input_element)}", "cyan"),
                                    f": numerical {worst.numerical:.6g}, analytical {worst.analytical:.6g} "
                                    f"(abs error {worst.abs_error:.3g}, rel error {worst.rel_error:.3g})"))
    if result.culprit is not None:
        culprit = result.culprit
        line = Text.assemble(("culprit        ", "bold"), (culprit.name, "bold red"), f" (op {culprit.op})")
        if culprit.location:
            line.append(f" at {culprit.location}", style="cyan")
        if culprit.scope:
            line.append(f" in {culprit.scope}", style="magenta")
        console.print(line)
        console.print(f"               its backward gives vᵀJu = {culprit.analytical:.6g}; finite differences on "
                      f"its own inputs give {culprit.numerical:.6g}")
    elif not result.passed and all(d == "float64" for d in dtypes):
        console.print("culprit        no single node's backward disagrees on its own inputs: the mismatch comes "
                      "from how the graph combines them, from a non-smooth point (relu at 0, max ties), or from "
                      "finite differences losing precision at large magnitudes (try a larger --eps)")
    if outcome.second_order is not None:
        console.print("second order   passed" if outcome.second_order else "second order   failed: "
                       + result.extra.get("second_order_message", "").splitlines()[0])


def _as_json(outcome: ScriptGradcheck) -> str:
    result = outcome.result
    worst = result.worst
    culprit = result.culprit
    return json_module.dumps({
        "passed": outcome.passed, "fast_mode": result.fast_mode, "evaluations": result.evaluations,
        "dtypes": result.extra.get("dtypes"),
        "parameters": outcome.parameters, "second_order": outcome.second_order,
        "worst": None if worst is None else {
            "parameter": result.extra.get("input_name"), "output_index": worst.output_index,
            "input_index": worst.input_index, "input_element": list(worst.input_element),
            "output_element": list(worst.output_element), "numerical": worst.numerical,
            "analytical": worst.analytical, "abs_error": worst.abs_error, "rel_error": worst.rel_error},
        "culprit": None if culprit is None else {
            "node": culprit.name, "op": culprit.op, "scope": culprit.scope, "location": culprit.location,
            "numerical": culprit.numerical, "analytical": culprit.analytical},
        "message": result.message,
    }, indent=1)


def gradcheck(
    script: Annotated[Path, typer.Argument(help="Model script defining the entry (runs its code).")],
    entry: Annotated[str | None, typer.Option(help="Function returning the scalar to check.")] = None,
    eps: Annotated[float, typer.Option(help="Finite-difference step.")] = 1e-6,
    atol: Annotated[float, typer.Option(help="Absolute tolerance.")] = 1e-5,
    rtol: Annotated[float, typer.Option(help="Relative tolerance.")] = 1e-3,
    fast: Annotated[bool, typer.Option("--fast/--slow", help="Random projections, or every element.")] = False,
    second_order: Annotated[bool, typer.Option("--second-order", help="Also run gradgradcheck.")] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Compare the entry's analytical gradients with finite differences (float64) and name the op at fault."""
    console = make_console()
    with reported_errors():
        if json or not console.is_terminal:
            outcome = check_script(script, entry, eps=eps, atol=atol, rtol=rtol, fast_mode=fast,
                                   second_order=second_order)
        else:
            with Progress(TextColumn("gradcheck"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                          TimeElapsedColumn(), console=console, transient=True) as progress:
                task = progress.add_task("gradcheck", total=None)
                outcome = check_script(script, entry, eps=eps, atol=atol, rtol=rtol, fast_mode=fast,
                                       second_order=second_order,
                                       progress=lambda done, total: progress.update(task, completed=done,
                                                                                    total=total))
    if json:
        print(_as_json(outcome))
    else:
        _render(outcome, console)
    raise typer.Exit(EXIT_OK if outcome.passed else EXIT_PROBLEM)
