"""Helpers for the browser tests: recorded sample models and a way to drive an app with Pilot.

Scripts are recorded from the repository root with relative paths, so source lines and snapshots don't
depend on where the repository lives (the tests run from the root too, see conftest.py).
"""

from __future__ import annotations

import asyncio
import functools
import io
import os
from pathlib import Path

from rich.console import Console

from gradscope.trace.model import Trace
from gradscope.trace.script import run_script

ROOT = Path(__file__).resolve().parents[2]


NAN_MODEL = "tests/tui/models/nan_relu.py"  # the tests' own NaN model: exact lines and labels are checked on it
MASK_MODEL = "tests/tui/models/causal_mask.py"  # masked attention: -inf that is no anomaly


def sample(name: str) -> str:
    return f"sample_models/{name}.py"


@functools.cache
def recorded(script: str) -> Trace:
    """The trace of a model script given relative to the repository root, recorded once per session
    (don't mutate it)."""
    previous = os.getcwd()
    os.chdir(ROOT)
    try:
        return run_script(script).trace
    finally:
        os.chdir(previous)


def drive(app, scenario, size: tuple[int, int] = (120, 40)):
    """Run `app` headless at `size`, await `scenario(pilot)` once it has settled, and return its result."""

    async def main():
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            return await scenario(pilot)

    return asyncio.run(main())


def screen_lines(app) -> list[str]:
    """The text on the app's screen, line by line, as the terminal would show it."""
    update = app.screen._compositor.render_full_update(simplify=True)  # what Textual's own screenshots render
    return ["".join(strip.text for strip in line) for line in update.strips]


def plain(renderable, width: int = 120) -> str:
    """What a Rich renderable shows, as plain text."""
    console = Console(width=width, file=io.StringIO(), color_system=None, record=True)
    console.print(renderable)
    return console.export_text()
