"""Helpers for the CLI tests: run `gradscope` through typer's CliRunner, read its output and the schema doc."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from gradscope.cli import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_models"
TRACE_FORMAT_DOC = ROOT / "docs" / "trace-format.md"
GRADSCOPE_DIR = str(ROOT / "gradscope")


def _runner() -> CliRunner:
    env = {"COLUMNS": "200", "NO_COLOR": None}  # wide enough that rich never wraps a file:line
    try:
        return CliRunner(mix_stderr=False, env=env)
    except TypeError:  # click >= 8.2 always keeps stderr apart
        return CliRunner(env=env)


def gradscope(*args):
    """Run the CLI in-process; click's Result has stdout and stderr apart."""
    return _runner().invoke(app, [str(a) for a in args])


def sample(name: str) -> Path:
    return SAMPLES / f"{name}.py"


def line_of(path: Path, text: str) -> int:
    """The 1-based line of `path` containing `text` (exactly one)."""
    lines = [number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(lines) == 1, f"{text!r} occurs on lines {lines} of {path}"
    return lines[0]


def section(output: str, start: str, end: str | None) -> str:
    """The part of a report from the line starting with `start` up to the line starting with `end`."""
    lines = output.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    last = next((i for i, line in enumerate(lines) if end and i > first and line.startswith(end)), len(lines))
    return "\n".join(lines[first:last])


def parameter_rows(output: str) -> dict[str, list[str]]:
    """The report's parameter table: name → [shape, grad norm, grad/param, zero, non-finite]."""
    rows = {}
    for line in section(output, "parameters", None).splitlines():
        cells = [cell.strip() for cell in line.split("│")]
        if len(cells) == 8 and cells[1] and cells[1] != "name":
            rows[cells[1]] = cells[2:7]
    return rows


def documented_keys() -> dict[str, set[str]]:
    """For each section of docs/trace-format.md, the keys its table documents."""
    keys: dict[str, set[str]] = {}
    current = None
    for line in TRACE_FORMAT_DOC.read_text().splitlines():
        heading = re.match(r"#+ (.+)", line)
        if heading:
            current = heading.group(1).strip()
            continue
        row = re.match(r"\| `([a-z_]+)` \|", line)
        if row and current:
            keys.setdefault(current, set()).add(row.group(1))
    return keys


def traceback_files(text: str) -> list[str]:
    return re.findall(r'File "([^"]+)"', text)


def assert_input_error(result, *fragments: str) -> None:
    """Exit 2 with a short message on stderr naming `fragments`, never a crash through gradscope's code."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stderr.startswith("error: ")
    flat = " ".join(result.stderr.split())  # rich wraps a message longer than the width (a long tmp path)
    for fragment in fragments:
        assert " ".join(fragment.split()) in flat, result.stderr
    assert GRADSCOPE_DIR not in result.stdout + result.stderr
