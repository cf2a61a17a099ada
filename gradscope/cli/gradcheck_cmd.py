"""`gradscope gradcheck SCRIPT`: numerical against analytical gradients of the entry, in float64."""

from __future__ import annotations

import json as json_module
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from gradscope._format import NONFINITE_STYLE, format_number
from gradscope.cli.console import make_console
from gradscope.cli.errors import EXIT_INCONCLUSIVE, EXIT_OK, EXIT_PROBLEM, report_output, reported_errors
from gradscope.cli.options import ScriptArgs, Timeout
from gradscope.trace.isolate import run_in_child

JOB = "gradscope.trace.gradcheck:gradcheck_job"


TITLES = {"passed": ("✓ gradcheck passed", "bold green"), "failed": ("✗ gradcheck failed", "bold red"),
          "inconclusive": ("? gradcheck inconclusive at this scale", "bold yellow")}
EXIT_CODES = {"passed": EXIT_OK, "failed": EXIT_PROBLEM, "inconclusive": EXIT_INCONCLUSIVE}


def _number(value) -> str:
    """A JSON figure (a number, or "nan"/"inf"/"-inf") in gradcheck's 6 significant digits."""
    value = float(value)
    return format_number(value) if not math.isfinite(value) or value == 0 else f"{value:.6g}"


def _render(outcome: dict, console: Console) -> None:
    mode = "fast" if outcome["fast_mode"] else "slow"
    text, style = TITLES[outcome["verdict"]]
    title = Text(text, style=style)
    dtypes = outcome["dtypes"] or ["float64"]
    count = len(outcome["parameters"])
    title.append(f"  ({mode} mode, {', '.join(dtypes)}, {outcome['evaluations']} evaluations, "
                 f"{count} parameter{'s' if count != 1 else ''})", style="dim")
    console.print(title)
    if any(d != "float64" for d in dtypes):
        console.print(Text("note           some parameters are not float64: finite differences in single precision "
                           "are too coarse to judge gradients (create them without an explicit dtype; gradscope "
                           "runs the script with float64 as the default)", style="yellow"))
    if outcome["nonfinite"] is not None:
        _render_nonfinite(outcome["nonfinite"], console)
    else:
        _render_mismatch(outcome, dtypes, console)
    if outcome["second_order"] is not None:
        console.print("second order   " + outcome["second_order_verdict"] + (
            "" if outcome["second_order"] else ": " + (outcome["second_order_message"] or "").splitlines()[0]))


def _render_nonfinite(nonfinite: dict, console: Console) -> None:
    name = nonfinite["parameter"] or f"input {nonfinite['input_index']}"
    side, other = ("analytical", "numerical") if nonfinite["side"] == "analytical" else ("numerical", "analytical")
    count = nonfinite["count"]
    console.print(Text.assemble(("non-finite     ", "bold"), f"{side} gradient of ",
                                (f"{name}{nonfinite['input_element']}", "cyan"), " is ",
                                (format_number(float(nonfinite[side])), NONFINITE_STYLE),
                                f" ({other} {_number(nonfinite[other])}; {count} non-finite entr"
                                f"{'y' if count == 1 else 'ies'})"))
    if nonfinite["node"] is not None:
        line = Text.assemble(("made by        ", "bold"), (nonfinite["node"], "bold red"), f" (op {nonfinite['op']})")
        if nonfinite["location"]:
            line.append(f" at {nonfinite['location']}", style="cyan")
        if nonfinite["scope"]:
            line.append(f" in {nonfinite['scope']}", style="magenta")
        console.print(line)
        console.print(f"               {nonfinite['reason']}", highlight=False)
    if side == "analytical":
        console.print("next           run `gradscope inspect` on the script: it shows where the non-finite values "
                      "start and what they reach", highlight=False)
    else:
        console.print("               the function is not finite within --eps of the point: finite differences "
                      "can't judge its gradient there", highlight=False)


def _render_mismatch(outcome: dict, dtypes: list[str], console: Console) -> None:
    worst = outcome["worst"]
    if worst is not None:
        name = worst["parameter"] or f"input {worst['input_index']}"
        noise = "" if worst["noise"] is None else f", finite-difference noise {_number(worst['noise'])}"
        errors = f"abs error {format_number(float(worst['abs_error']))}, rel error " \
                 f"{format_number(float(worst['rel_error']))}{noise}"
        console.print(Text.assemble(("worst element  ", "bold"), (f"{name}{worst['input_element']}", "cyan"),
                                    f": numerical {_number(worst['numerical'])}, analytical "
                                    f"{_number(worst['analytical'])} ({errors})"))
    if outcome["verdict"] == "inconclusive":
        hint = f" (try --eps {format_number(outcome['suggested_eps'])})" if outcome["suggested_eps"] else ""
        console.print("               the mismatch is not larger than what finite differences can resolve at "
                      f"these magnitudes: neither a pass nor a failure{hint}", highlight=False)
        return
    culprit = outcome["culprit"]
    if culprit is not None:
        line = Text.assemble(("culprit        ", "bold"), (culprit["node"], "bold red"), f" (op {culprit['op']})")
        if culprit["location"]:
            line.append(f" at {culprit['location']}", style="cyan")
        if culprit["scope"]:
            line.append(f" in {culprit['scope']}", style="magenta")
        console.print(line)
        console.print(f"               its backward gives vᵀJu = {_number(culprit['analytical'])}; finite differences "
                      f"on its own inputs give {_number(culprit['numerical'])}")
    elif outcome["verdict"] == "failed" and worst is not None and all(d == "float64" for d in dtypes):
        console.print("culprit        no single node's backward disagrees on its own inputs: the mismatch comes "
                      "from how the graph combines them, or from a non-smooth point (relu at 0, max ties)")


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
    args: ScriptArgs = None,
) -> None:
    """Compare the entry's analytical gradients with finite differences (float64) and name the op at fault.

    Exit 0 passed, 1 failed (beyond the noise or NaN/inf), 3 inconclusive (within finite-difference noise), 2 bad input.
    """
    console = make_console()
    job = {"script": str(script), "entry": entry, "eps": eps, "atol": atol, "rtol": rtol, "fast_mode": fast,
           "second_order": second_order}
    with reported_errors():
        if json or not console.is_terminal:
            outcome = run_in_child(JOB, job, script=script, timeout=timeout, argv=args or ())
        else:
            with Progress(TextColumn("gradcheck"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                          TimeElapsedColumn(), console=console, transient=True) as progress:
                task = progress.add_task("gradcheck", total=None)
                outcome = run_in_child(JOB, job, script=script, timeout=timeout, argv=args or (),
                                       progress=lambda message: progress.update(
                                           task, completed=message["done"], total=message["total"]))
    with report_output(EXIT_CODES[outcome["verdict"]]):
        if json:
            print(_as_json(outcome))
        else:
            _render(outcome, console)
