"""Helpers for the checks tests: sample scripts, live gradients computed without the checks, results by target."""

from __future__ import annotations

import runpy
import textwrap
from pathlib import Path

import numpy as np

from gradscope.checks import CheckReport, CheckResult
from gradscope.trace.recorder import named_parameters

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_models"


def sample(name: str) -> Path:
    return SAMPLES / f"{name}.py"


def live_gradients(name: str) -> dict[str, np.ndarray | None]:
    """Run the sample's loss() once with the plain engine (no recorder) and read every `.grad`."""
    namespace = runpy.run_path(str(sample(name)), run_name="live_gradients")
    namespace["loss"]().backward()
    return {name: None if tensor.grad is None else tensor.grad.numpy().copy()
            for name, _, tensor in named_parameters(namespace)}


def by_target(report: CheckReport, rule: str) -> dict[str, CheckResult]:
    return {result.target: result for result in report.results if result.rule == rule}


def failing(report: CheckReport, rule: str) -> set[str]:
    return {target for target, result in by_target(report, rule).items() if result.failed}


def write_script(directory: Path, name: str, source: str) -> Path:
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(source).lstrip())
    return path


def line_of(path: Path, text: str) -> int:
    (number,) = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return number
