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
from gradscope.cli.errors import EXIT_OK, EXIT_PROBLEM, report_output, reported_errors
from gradscope.cli.options import Timeout
from gradscope.trace.isolate import run_in_child

JOB = "gradscope.trace.gradcheck:gradcheck_job"


def _render(outcome: dict, console: Console) -> None:
    mode = "fast" if outcome["fast_mode"] else "slow"
    title = Text("✓ gradcheck passed" if outcome["passed"] else "✗ gradcheck failed",
                 style="bold green" if outcome["passed"] else "bold red")
    dtypes = outcome["dtypes"] or ["float64"]
    count = len(outcome["parameters"])
    title.append(f"  ({mode} mode, {', '.join(dtypes)}, {outcome['evaluations']} evaluations, "
                 f"{count} parameter{'s' if count != 1 else ''})", style="dim")
    console.print(title)
    if any(d != "float64" for d in dtypes):
        console.print(Text("note           some parameters are not float64: finite differences in single precision "
                           "are too coarse to judge gradients (create them without an explicit dtype; gradscope "
                           "runs the script with float64 as the default)", style="yellow"))
    worst = outcome["worst"]
    if worst is not None:
        name = worst["parameter"] or f"input {worst['input_index']}"
        console.print(Text.assemble(("worst element  ", "bold"), (f"{name}{worst['input_element']}", "cyan"),
                                    f": numerical {worst['numerical']:.6g}, analytical {worst['analytical']:.6g} "
                                    f"(abs error {worst['abs_error']:.3g}, rel error {worst['rel_error']:.3g})"))
    culprit = outcome["culprit"]
    if culprit is not None:
        line = Text.assemble(("culprit        ", "bold"), (culprit["node"], "bold red"), f" (op {culprit['op']})")
        if culprit["location"]:
            line.append(f" at {culprit['location']}", style="cyan")
        if culprit["scope"]:
            line.append(f" in {culprit['scope']}", style="magenta")
        console.print(line)
        console.print(f"               its backward gives vᵀJu = {culprit['analytical']:.6g}; finite differences on "
                      f"its own inputs give {culprit['numerical']:.6g}")
    elif not outcome["passed"] and all(d == "float64" for d in dtypes):
        console.print("culprit        no single node's backward disagrees on its own inputs: the mismatch comes "
                      "from how the graph combines them, from a non-smooth point (relu at 0, max ties), or from "
                      "finite differences losing precision at large magnitudes (try a larger --eps)")
    if outcome["second_order"] is not None:
        console.print("second order   passed" if outcome["second_order"] else "second order   failed: "
                      + (outcome["second_order_message"] or "").splitlines()[0])


def _as_json(outcome: dict) -> str:
    return json_module.dumps({k: v for k, v in outcome.items() if k != "second_order_message"}, indent=1)


def gradcheck(
    script: Annotated[Path, typer.Argument(help="Model script defining the entry (runs its code).")],
    entry: Annotated[str | None, typer.Option(help="Function returning the scalar to check.")] = None,
    eps: Annotated[float, typer.Option(help="Finite-difference step.")] = 1e-6,
    atol: Annotated[float, typer.Option(help="Absolute tolerance.")] = 1e-5,
    rtol: Annotated[float, typer.Option(help="Relative tolerance.")] = 1e-3,
    fast: Annotated[bool, typer.Option("--fast/--slow", help="Random projections, or every element.")] = False,
    second_order: Annotated[bool, typer.Option("--second-order", help="Also run gradgradcheck.")] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    timeout: Timeout = None,
) -> None:
    """Compare the entry's analytical gradients with finite differences (float64) and name the op at fault."""
    console = make_console()
    args = {"script": str(script), "entry": entry, "eps": eps, "atol": atol, "rtol": rtol, "fast_mode": fast,
            "second_order": second_order}
    with reported_errors():
        if json or not console.is_terminal:
            outcome = run_in_child(JOB, args, script=script, timeout=timeout)
        else:
            with Progress(TextColumn("gradcheck"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                          TimeElapsedColumn(), console=console, transient=True) as progress:
                task = progress.add_task("gradcheck", total=None)
                outcome = run_in_child(JOB, args, script=script, timeout=timeout, progress=lambda message: (
                    progress.update(task, completed=message["done"], total=message["total"])))
    with report_output(EXIT_OK if outcome["passed"] else EXIT_PROBLEM):
        if json:
            print(_as_json(outcome))
        else:
            _render(outcome, console)
