"""Library errors → messages and exit codes, in one place (0 ok, 1 a check found a problem, 2 bad input)."""

from __future__ import annotations

import contextlib
import sys

import typer
from rich.markup import escape

from gradscope.cli.console import make_console
from gradscope.trace.script import ScriptError
from gradscope.trace.tracefile import TraceFormatError

EXIT_OK, EXIT_PROBLEM, EXIT_INPUT = 0, 1, 2


@contextlib.contextmanager
def reported_errors():
    """Turn gradscope's input errors into a short message on stderr and exit code 2."""
    console = make_console(stderr=True)
    try:
        yield
    except ScriptError as error:
        console.print(f"[bold red]error:[/] {escape(error.message)}", highlight=False)
        if error.details:
            console.print(error.details, highlight=False, markup=False)
        raise typer.Exit(EXIT_INPUT) from None
    except TraceFormatError as error:
        console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(EXIT_INPUT) from None
    except (FileNotFoundError, IsADirectoryError, PermissionError) as error:
        console.print(f"[bold red]error:[/] {escape(str(error.filename))}: {error.strerror}", highlight=False)
        raise typer.Exit(EXIT_INPUT) from None
    except BrokenPipeError:
        sys.stderr.close()
        raise typer.Exit(EXIT_OK) from None
