"""`gradscope check SCRIPT`: gradient rules for CI, with exit codes, JSON and JUnit XML."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from gradscope.checks import (
    FAIL,
    PASS,
    SKIP,
    CheckConfigError,
    CheckReport,
    find_pyproject,
    read_pyproject,
    to_json,
    to_junit_xml,
)
from gradscope.checks.job import check_in_child
from gradscope.cli.console import make_console
from gradscope.cli.errors import EXIT_INPUT, EXIT_OK, EXIT_PROBLEM, report_output, reported_errors
from gradscope.cli.options import Force, ScriptArgs, Timeout
from gradscope.trace.output import check_output, write_output

STATUS = {PASS: Text("✓ pass", style="green"), FAIL: Text("✗ FAIL", style="bold red"),
          SKIP: Text("– skip", style="dim")}


@contextlib.contextmanager
def _config_errors():
    """A bad rule name, threshold or config file: a short message and exit code 2."""
    try:
        yield
    except CheckConfigError as error:
        make_console(stderr=True).print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(EXIT_INPUT) from None


def _table(report: CheckReport) -> Table:
    steps = {result.step for result in report.results if result.step is not None}
    one_step = f"  (step {steps.pop()})" if report.steps > 1 and len(steps) == 1 else ""
    table = Table(title=f"gradscope check {report.script}" + (f"  entry {report.entry}()" if report.entry else "")
                  + one_step, title_justify="left")
    locations = [_location(result, report.script) for result in report.results]
    # rule names and results never wrap; the rest wrap between words (a number is one word, never cut) and fold
    # a name longer than its column
    for column, justify in (("rule", "left"), ("target", "left"), ("result", "left"), ("measured", "right"),
                            ("threshold", "left")):
        table.add_column(column, justify=justify, no_wrap=column in ("rule", "result"), overflow="fold")
    if report.steps > 1 and not one_step:
        table.add_column("step", justify="right", no_wrap=True)
    table.add_column("location", justify="left", style="cyan", overflow="fold")
    for result, location in zip(report.results, locations):
        row = [result.rule, result.target, STATUS[result.status], result.shown, result.threshold]
        if report.steps > 1 and not one_step:
            row.append("" if result.step is None else str(result.step))
        table.add_row(*row, location)
    return table


def _location(result, script) -> str:
    """Where the result points, without repeating the script's path (the title names it): 'model.fc at line 22'."""
    if result.file and result.line and Path(result.file) == Path(script):
        return " ".join(part for part in (result.scope, f"at line {result.line}") if part)
    return result.location


def _render(report: CheckReport, console: Console) -> None:
    console.print(_table(report))
    for result in report.results:
        if result.status == FAIL:
            console.print(Text.assemble(("✗ ", "bold red"), (f"{result.rule} {result.target}", "bold"),
                                        f": {result.message}"))
    for result in report.results:
        if result.status == SKIP:
            console.print(Text(f"– {result.rule} {result.target} skipped: {result.message}", style="dim"))
    counts = f"{report.count(PASS)} passed, {report.count(FAIL)} failed, {report.count(SKIP)} skipped " \
             f"in {report.duration:.2f} s"
    console.print(Text(counts, style="bold green" if report.passed else "bold red"))


def _list(values: list[str] | None) -> list[str] | None:
    return values or None  # typer gives [] for a repeatable option that was not used


def check(
    script: Annotated[Path, typer.Argument(help="Model script (runs its code, like `python SCRIPT`).")],
    entry: Annotated[str | None, typer.Option(help="Function returning the scalar to differentiate.")] = None,
    rule: Annotated[list[str] | None, typer.Option(
        "--rule", "-r", help="Rule to run (repeat for several): finite, connected, nonzero, grad-norm, vanishing, "
                             "dead-units, exploding, gradcheck, baseline. Default: all but exploding (unless --steps "
                             ">= 2), gradcheck and baseline (on with --baseline).")] = None,
    config: Annotated[Path | None, typer.Option(
        help="pyproject.toml with a \\[tool.gradscope.check] table (default: the nearest one upward "
             "from here).")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of a table.")] = False,
    junit_xml: Annotated[str | None, typer.Option("--junit-xml", metavar="FILE",
                                                  help="Also write a JUnit XML report.")] = None,
    steps: Annotated[int | None, typer.Option(help="Training steps: call the entry N times, optimizer step "
                                                      "between (the script's optimizer(), else SGD).")] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate of the default SGD. [default: 0.01]")] = None,
    grad_norm: Annotated[list[str] | None, typer.Option(
        "--grad-norm", help="Norm bound per parameter glob, e.g. 'model.fc1.*<=1e3', '*>=1e-8' (repeatable). "
                            "[default: '*<=1e4' '*>=1e-7']")] = None,
    allow_nonfinite: Annotated[list[str] | None, typer.Option(
        "--allow-nonfinite", help="Glob of parameter, module, op, node name or scope whose non-finite gradients "
                                  "the finite rule ignores (repeatable).")] = None,
    min_nonzero: Annotated[float | None, typer.Option(
        help="nonzero: fraction of nonzero gradient entries must be above this. [default: 0]")] = None,
    min_layer_ratio: Annotated[float | None, typer.Option(
        help="vanishing: smallest / largest layer gradient norm at least this. [default: 0.001]")] = None,
    max_dead_fraction: Annotated[float | None, typer.Option(
        help="dead-units: fraction of never-firing ReLU units at most this. [default: 0.5]")] = None,
    max_growth: Annotated[float | None, typer.Option(
        help="exploding: gradient norm at any step / at step 0 at most this. [default: 100]")] = None,
    gradcheck_mode: Annotated[str | None, typer.Option(
        help="gradcheck: 'fast' (random projections) or 'slow' (every element). [default: fast]")] = None,
    gradcheck_atol: Annotated[float | None, typer.Option(help="gradcheck: absolute tolerance.")] = None,
    gradcheck_rtol: Annotated[float | None, typer.Option(help="gradcheck: relative tolerance.")] = None,
    gradcheck_eps: Annotated[float | None, typer.Option(help="gradcheck: finite-difference step.")] = None,
    keep_values: Annotated[int | None, typer.Option(
        help="Keep the values of tensors up to this many elements (dead-units reads activations). "
             "[default: 65536]")] = None,
    baseline: Annotated[str | None, typer.Option(
        metavar="FILE", help="Golden gradients (a trace file): the baseline rule fails naming the first "
                             "divergence from them.")] = None,
    update_baseline: Annotated[str | None, typer.Option(
        metavar="FILE", help="Write this run's parameters' values and gradients to FILE as the baseline "
                             "(instead of comparing).")] = None,
    rtol: Annotated[float | None, typer.Option(
        "--rtol", "--baseline-rtol", help="baseline: relative tolerance. [default: the lower precision's, "
                                          "1.3e-06 for float32]")] = None,
    atol: Annotated[float | None, typer.Option(
        "--atol", "--baseline-atol", help="baseline: absolute tolerance. [default: the lower precision's, "
                                          "1e-05 for float32]")] = None,
    force: Force = False,
    timeout: Timeout = None,
    args: ScriptArgs = None,
) -> None:
    """Check SCRIPT's gradients against named rules; exit 0 if all pass, 1 if any fails, 2 on bad input."""
    flags = {"entry": entry, "rules": _list(rule), "steps": steps, "lr": lr, "grad-norm": _list(grad_norm),
             "allow-nonfinite": _list(allow_nonfinite), "min-nonzero": min_nonzero, "min-layer-ratio": min_layer_ratio,
             "max-dead-fraction": max_dead_fraction, "max-growth": max_growth, "gradcheck-mode": gradcheck_mode,
             "gradcheck-atol": gradcheck_atol, "gradcheck-rtol": gradcheck_rtol, "gradcheck-eps": gradcheck_eps,
             "keep-values": keep_values, "baseline": update_baseline or baseline, "baseline-rtol": rtol,
             "baseline-atol": atol}
    with _config_errors(), reported_errors():
        if baseline is not None and update_baseline is not None:
            raise CheckConfigError("--baseline compares with a baseline, --update-baseline writes one: give one")
        pyproject = config if config is not None else find_pyproject(Path.cwd())
        file_values = read_pyproject(pyproject) if pyproject else {}
        if junit_xml is not None:  # refuse before running anything
            check_output(junit_xml, "junit", force=force, protect=[script])
        if update_baseline is not None:
            check_output(update_baseline, "trace", force=force, protect=[script])

        def copy_baseline(written: Path) -> None:
            write_output(update_baseline, "trace", lambda stream: stream.write(written.read_bytes()), force=force,
                         protect=[script])

        report = check_in_child(script, file_values, flags, str(pyproject), timeout=timeout,
                                baseline_out=copy_baseline if update_baseline is not None else None, argv=args or ())
        if junit_xml is not None:
            write_output(junit_xml, "junit", lambda stream: stream.write(to_junit_xml(report).encode("utf-8")),
                         force=force, protect=[script])
    with report_output(EXIT_OK if report.passed else EXIT_PROBLEM):
        if json:
            print(to_json(report))
        else:
            _render(report, make_console())
