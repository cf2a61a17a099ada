"""The browser outlives the script it records (issue 10): quitting while a script loops forever is prompt and
leaves no process behind, `r` starts a looping script again, a timeout is shown with the script's line, and
saving never destroys a file without asking, nor the script at all.

The looping scripts loop while a flag file exists, and every test removes it in the end: if the browser ever
again ran scripts in its own process, a test would fail instead of hanging the suite.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest
from textual.widgets import Static
from tui_helpers import NAN_MODEL, drive, plain, recorded, sample

from gradscope.trace import load_trace
from gradscope.trace.isolate import ScriptTimeout
from gradscope.trace.output import is_trace_file
from gradscope.trace.tracefile import save_trace
from gradscope.tui import make_app
from gradscope.tui.screens.error import ErrorScreen
from gradscope.tui.screens.loading import LoadingScreen
from gradscope.tui.screens.main import MainScreen
from gradscope.tui.screens.overwrite import OverwriteScreen
from gradscope.tui.screens.save import SaveScreen
from gradscope.tui.source import ScriptOutput, TraceSource

MODEL = "import gradscope as torch\nw = torch.ones(2, requires_grad=True)\ndef loss():\n    return (w * 2).sum()\n"


@pytest.fixture
def looping(tmp_path):
    """A script that notes its process id in `pids`, prints a line, then loops until `flag` is removed."""
    flag, pids = tmp_path / "flag", tmp_path / "pids"
    flag.touch()
    script = tmp_path / "loop.py"
    script.write_text(f"import os\nopen({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n')\nprint('epoch 1')\n"
                      f"while os.path.exists({str(flag)!r}): pass\n{MODEL}")
    yield script, pids
    flag.unlink(missing_ok=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def started(pids: Path, count: int = 1) -> list[int]:
    """The process ids of the first `count` runs of the script, once they are running it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lines = pids.read_text().split() if pids.exists() else []
        if len(lines) >= count:
            return [int(line) for line in lines]
        await asyncio.sleep(0.05)
    raise AssertionError("the script never started")


def drive_within(seconds: float, app, scenario, size=(120, 40)):
    """`drive`, failing (rather than hanging) if the app and its threads haven't ended after `seconds`."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = drive(app, scenario, size)
        except BaseException as error:  # noqa: BLE001 - raised again in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"the browser was still running after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def screen_text(app) -> str:
    return "\n".join(plain(static.content, width=400) for static in app.screen.query(Static))


@pytest.mark.parametrize(("key", "code"), [("q", 0), ("ctrl+c", 130)])
def test_quitting_while_the_script_loops_forever_is_prompt_and_stops_it(looping, key, code):
    script, pids = looping
    app = make_app(source=script)

    async def scenario(pilot):
        (pid,) = await started(pids)
        assert isinstance(app.screen, LoadingScreen) and alive(pid)
        await pilot.press(key)
        return pid, time.monotonic()

    pid, pressed = drive_within(15, app, scenario)
    assert time.monotonic() - pressed < 3  # ~0.1 s to stop the child, plus Textual's own shutdown
    assert app.return_code == code and app.error is None
    assert not alive(pid)


def test_r_while_recording_stops_the_script_and_starts_it_again(looping):
    script, pids = looping
    app = make_app(source=script)

    async def scenario(pilot):
        (first,) = await started(pids)
        script.write_text(MODEL)  # fixed: the next run returns
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and len(app.screen_stack) == 2  # no loading screen left behind
        return first

    first = drive_within(30, app, scenario)
    assert not alive(first)


def test_a_timeout_shows_the_error_with_the_scripts_line_and_what_it_printed(looping):
    script, _ = looping
    for seconds in (6, 20):  # 6 s is ample to reach the loop; on a loaded machine (a worker per core) it may not be
        app = make_app(source=TraceSource(script, timeout=seconds))

        async def scenario(pilot, app=app, seconds=seconds):
            assert f"(stopped after {seconds} s)" in screen_text(app)
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, ErrorScreen)
            text = screen_text(app)
            await pilot.press("q")
            return text

        text = drive_within(seconds + 24, app, scenario)
        if "it had not started yet" not in text:
            break
    assert f"error: {script}: timed out after {seconds} s; the script was at {script}:4 in <module>()" in text
    assert "the script's output:\n\nepoch 1\n" in text
    assert isinstance(app.error, ScriptTimeout) and app.return_code == 2


def test_only_the_end_of_a_long_output_is_kept():
    output = ScriptOutput(limit=10)
    output.write("0123456789")
    assert output.tail() == "0123456789"
    output.write("abc")
    assert output.tail() == "… (only its last 10 characters are kept)\n3456789abc"


# ------------------------------------------------------------------------------ saving
def saving(app, target: Path, *answer: str):
    """A scenario: s, type `target`, enter, then the keys of `answer`; returns the notifications and
    whether the overwrite question was asked."""
    notes: list[tuple[str, str]] = []
    app.notify = lambda message, **options: notes.append((message, options.get("severity", "information")))

    async def scenario(pilot):
        await app.workers.wait_for_complete()
        for _ in range(200):  # the recording's result reaches the screen a message later (slower under load)
            if isinstance(app.screen, MainScreen):
                break
            await pilot.pause(0.05)
        await pilot.press("s")
        assert isinstance(app.screen, SaveScreen)
        app.screen.query_one("#save-path").value = str(target)
        await pilot.press("enter")
        asked = isinstance(app.screen, OverwriteScreen)
        await pilot.press(*answer)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        return notes, asked

    return drive(app, scenario)


def test_saving_never_overwrites_the_script(tmp_path):
    script = tmp_path / "model.py"
    script.write_text(MODEL)
    notes, asked = saving(make_app(source=script), script, "y")
    assert not asked
    assert notes == [(f"not saved: {script}: is the script being run; gradscope never overwrites it", "error")]
    assert script.read_text() == MODEL


@pytest.mark.parametrize(("answer", "overwritten"), [("y", True), ("n", False), ("escape", False)])
def test_saving_over_a_file_that_is_not_a_trace_asks_first(tmp_path, answer, overwritten):
    target = tmp_path / "notes.txt"
    target.write_text("my notes")
    notes, asked = saving(make_app(recorded(NAN_MODEL)), target, answer)
    assert asked
    if overwritten:
        assert is_trace_file(target) and notes == [(f"trace saved to {target}", "information")]
    else:
        assert target.read_text() == "my notes" and notes == [(f"not saved: {target} kept as it was", "information")]


def test_saving_over_a_trace_asks_too(tmp_path):
    trace, other = recorded(NAN_MODEL), recorded(sample("mlp"))
    target = tmp_path / "old.gstrace"
    save_trace(other, target)
    notes, asked = saving(make_app(trace), target, "y")
    assert asked and notes == [(f"trace saved to {target}", "information")]
    assert len(load_trace(target).nodes) == len(trace.nodes) != len(other.nodes)


def test_a_save_that_fails_names_the_path(tmp_path):
    target = tmp_path / "missing" / "run.gstrace"
    notes, asked = saving(make_app(recorded(NAN_MODEL)), target)
    assert not asked
    assert notes == [(f"not saved: {target}: directory {target.parent} does not exist", "error")]


def test_help_tells_how_to_quit_and_how_saving_treats_existing_files():
    app = make_app(recorded(NAN_MODEL))

    async def scenario(pilot):
        await pilot.press("question_mark")
        return screen_text(app)

    text = drive(app, scenario)
    assert "\n ^c " in text and "Quit (exit code 130" in text
    assert "while recording" in text and "\n r               Stop the script and run it again" in text
    assert "Save; over an existing file only if you answer y, never over the script" in text
    assert "\n y " in text and "Overwrite the file" in text and "\n n / esc " in text
