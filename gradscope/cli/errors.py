"""Library errors → messages and exit codes, in one place.

0 ok · 1 a check found a problem · 2 bad input, a usage error, or user code that failed (a script
that raised, exited, crashed or timed out) · 3 inconclusive (`gradcheck`: every mismatch is within
the finite-difference noise) · 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import contextlib
import os
import sys

import typer
from rich.markup import escape

from gradscope.checks import CheckConfigError
from gradscope.cli.console import make_console
from gradscope.trace.output import OutputError
from gradscope.trace.script import ScriptError
from gradscope.trace.tracefile import TraceFormatError
from gradscope.watching.history import WatchRunError

EXIT_OK, EXIT_PROBLEM, EXIT_INPUT, EXIT_INCONCLUSIVE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


@contextlib.contextmanager
def reported_errors():
    """Turn gradscope's input errors into a short message on stderr and exit code 2, Ctrl-C into
    "interrupted" and 130, and a closed stdout (`gradscope … | head`) into a quiet exit."""
    console = make_console(stderr=True)
    try:
        yield
    except ScriptError as error:
        console.print(f"[bold red]error:[/] {escape(error.message)}", highlight=False)
        if error.details:
            console.print(error.details, highlight=False, markup=False)
        raise typer.Exit(EXIT_INPUT) from None
    except (TraceFormatError, OutputError, CheckConfigError, WatchRunError) as error:
        console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(EXIT_INPUT) from None
    except (FileNotFoundError, IsADirectoryError, PermissionError, NotADirectoryError) as error:
        console.print(f"[bold red]error:[/] {escape(str(error.filename))}: {error.strerror}", highlight=False)
        raise typer.Exit(EXIT_INPUT) from None
    except KeyboardInterrupt:
        console.print("interrupted", highlight=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None


@contextlib.contextmanager
def report_output(exit_code: int):
    """Print a report; if the reader goes away (`| head`), stop quietly and keep `exit_code`: a closed
    pipe says nothing about the gradients."""
    try:
        yield
    except BrokenPipeError:
        _silence_stdout()
        raise typer.Exit(exit_code) from None
    except KeyboardInterrupt:
        make_console(stderr=True).print("interrupted", highlight=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    raise typer.Exit(exit_code)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so Python's final flush doesn't fail again on the closed pipe."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
