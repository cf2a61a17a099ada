"""Helpers for the diff tests: the sample pairs, and the CLI run in-process."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from gradscope.cli import app

ROOT = Path(__file__).resolve().parents[2]
PAIRS = ROOT / "sample_models" / "diff"


def pair(name: str) -> Path:
    return PAIRS / f"{name}.py"


def line_of(path: Path, text: str) -> int:
    """The 1-based line of `path` containing `text` (exactly one)."""
    lines = [number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(lines) == 1, f"{text!r} occurs on lines {lines} of {path}"
    return lines[0]


def gradscope(*args):
    """Run the CLI in-process, 200 columns wide, no colour; stdout and stderr apart."""
    env = {"COLUMNS": "200", "NO_COLOR": "1"}
    try:
        runner = CliRunner(mix_stderr=False, env=env)
    except TypeError:  # click >= 8.2 always keeps stderr apart
        runner = CliRunner(env=env)
    return runner.invoke(app, [str(a) for a in args])
