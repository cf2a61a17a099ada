"""`gradscope browse`: the app runs (headless here, keys pressed by an auto-pilot) and exit codes come out right."""

import pytest
from tui_helpers import NAN_MODEL, recorded
from typer.testing import CliRunner

from gradscope.cli import app as cli
from gradscope.trace.tracefile import save_trace
from gradscope.tui.screens.error import ErrorScreen
from gradscope.tui.screens.main import MainScreen


def invoke(*args):
    return CliRunner().invoke(cli, ["browse", *map(str, args)])


def test_browsing_a_trace_file_and_quitting_exits_0(tmp_path, keys):
    pressed, seen = keys
    path = tmp_path / "run.gstrace"
    save_trace(recorded(NAN_MODEL), path)
    pressed.append("q")
    result = invoke(path)
    assert result.exit_code == 0, result.output
    assert seen == [MainScreen]


def test_a_script_is_recorded_with_its_entry(tmp_path, keys):
    pressed, seen = keys
    script = tmp_path / "two.py"
    script.write_text("import gradscope as torch\nw = torch.ones(2, requires_grad=True)\n"
                      "def other():\n    return (w * 3).sum()\n")
    pressed.append("q")
    result = invoke(script, "--entry", "other")
    assert result.exit_code == 0, result.output
    assert seen == [MainScreen]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.py", "def loss():\n    return undefined_name\n", "loss() raised NameError"),
    ("bad.gstrace", "not a zip", "not a gradscope trace file"),
    ("missing.gstrace", None, "No such file or directory"),
])
def test_bad_input_is_shown_then_reported_with_exit_code_2(tmp_path, keys, name, content, message):
    pressed, _ = keys
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    pressed.append("enter")
    result = invoke(path)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and message in " ".join(result.stderr.split())  # wraps after a long path


def test_a_timeout_is_shown_then_reported_with_exit_code_2_and_the_scripts_line(tmp_path, keys):
    pressed, seen = keys
    flag = tmp_path / "flag"
    flag.touch()
    script = tmp_path / "loop.py"
    script.write_text(f"import os\nwhile os.path.exists({str(flag)!r}): pass\n")
    pressed.append("enter")
    try:
        result = invoke(script, "--timeout", "5")
    finally:
        flag.unlink()
    assert result.exit_code == 2 and seen == [ErrorScreen]
    expected = f"error: {script}: timed out after 5 s; the script was at {script}:2 in <module>()"
    assert "".join(result.stderr.split()) == "".join(expected.split())  # the console wraps, even folds, long lines


def test_ctrl_c_quits_with_exit_code_130(tmp_path, keys):
    pressed, _ = keys
    script = tmp_path / "model.py"
    script.write_text("import gradscope as torch\nw = torch.ones(2, requires_grad=True)\n"
                      "def loss():\n    return (w * 3).sum()\n")
    pressed.append("ctrl+c")
    result = invoke(script)
    assert result.exit_code == 130 and result.stderr == "interrupted\n"
