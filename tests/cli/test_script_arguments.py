"""A script's own command-line arguments: what follows the script on gradscope's command line is the script's
`sys.argv[1:]`, as with `python SCRIPT ARGS` (gradscope's options stay gradscope's wherever they stand, and after
`--` everything is the script's). Training scripts nearly always read arguments (argparse)."""

from __future__ import annotations

import json
import textwrap

import pytest
from cli_helpers import gradscope

from gradscope.trace.script import run_script, script_arguments

ARGPARSE_TRAINING = textwrap.dedent('''
    import argparse
    import sys
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--out")
    args = parser.parse_args()
    print("argv", sys.argv[1:], file=sys.stderr)
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    for step in range(args.steps):
        loss = (w * w).sum() * args.lr
        loss.backward()
        with torch.no_grad():
            w -= w.grad
        w.grad = None
''')

ENTRY_SCRIPT = textwrap.dedent('''
    import sys
    import gradscope as torch

    SCALE = float(sys.argv[1])
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)

    def loss():
        return (x * x).sum() * SCALE
''')


@pytest.fixture
def training(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(ARGPARSE_TRAINING)
    return path


def test_watch_passes_what_follows_the_script_to_it(training, tmp_path):
    result = gradscope("watch", training, "--steps", "3", "--lr", "0.5", "--out", tmp_path / "w", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["steps_run"] == 3
    # --out is gradscope's (where the history goes), not the script's
    assert "argv ['--steps', '3', '--lr', '0.5']" in result.stderr
    assert (tmp_path / "w" / "history.jsonl").exists()


def test_after_a_double_dash_every_argument_is_the_scripts(training, tmp_path):
    result = gradscope("watch", training, "--out", tmp_path / "w", "--json", "--", "--steps", "2", "--out", "x.pt")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["steps_run"] == 2
    assert "argv ['--steps', '2', '--out', 'x.pt']" in result.stderr


def test_a_script_that_needs_arguments_fails_without_them_as_under_python(training, tmp_path):
    result = gradscope("watch", training, "--out", tmp_path / "w")
    assert result.exit_code == 2
    assert "--steps" in result.stderr  # argparse's own message, passed on


def test_inspect_gradcheck_and_check_pass_arguments_too(tmp_path):
    path = tmp_path / "scaled.py"
    path.write_text(ENTRY_SCRIPT)
    inspected = gradscope("inspect", path, "--json", "3")
    assert inspected.exit_code == 0, inspected.stderr
    assert 15.0 in [tensor.get("values") for tensor in json.loads(inspected.stdout)["tensors"]]  # 5 · SCALE
    assert gradcheck_ok(gradscope("gradcheck", path, "--json", "2.5"))
    checked = gradscope("check", path, "--json", "--rule", "finite", "4")
    assert checked.exit_code == 0, checked.stderr
    # without the argument the script itself fails (IndexError on sys.argv[1]): exit 2, its traceback shown
    failed = gradscope("inspect", path)
    assert failed.exit_code == 2
    assert "IndexError" in failed.stderr


def gradcheck_ok(result) -> bool:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["verdict"] == "passed"


def test_a_trace_file_takes_no_script_arguments(tmp_path):
    path = tmp_path / "scaled.py"
    path.write_text(ENTRY_SCRIPT)
    trace = tmp_path / "run.gstrace"
    assert gradscope("inspect", path, "--save", trace, "2").exit_code == 0
    result = gradscope("export", trace, "--format", "json", "--", "2")
    assert result.exit_code == 2
    assert "trace file" in result.stderr


def test_run_script_in_process_takes_them_from_script_arguments(tmp_path):
    path = tmp_path / "scaled.py"
    path.write_text(ENTRY_SCRIPT)
    with script_arguments(["3"]):
        run = run_script(path)
    assert run.namespace["SCALE"] == 3.0
    with pytest.raises(TypeError):
        with script_arguments("3"):  # a string is not a list of arguments
            pass


def test_the_arguments_a_script_got_are_said_on_stderr(training, tmp_path):
    """A mistyped option of gradscope's (`--jsn`) goes to the script, as `python SCRIPT --jsn` would pass it:
    the line naming the script's arguments shows where it went."""
    result = gradscope("watch", training, "--out", tmp_path / "w", "--jsn", "--steps", "1")
    assert "gradscope: the script's arguments: --jsn --steps 1" in result.stderr
    assert result.exit_code == 2  # and argparse refuses it, as it would under python


def test_browse_hands_its_args_option_to_the_script(training):
    """browse's second positional is a run to compare with, so the script's arguments come quoted as one option."""
    from gradscope.tui.source import Load, TraceSource

    trace = Load(TraceSource(training, argv=("--steps", "3"))).run()
    assert len(trace.passes) == 3
    failed = Load(TraceSource(training)).run()  # argparse's own error, without the required option
    assert "the following arguments are required: --steps" in str(failed.error) + failed.output


def test_browse_refuses_args_for_traces_and_unbalanced_quotes(tmp_path, training):
    trace = tmp_path / "run.gstrace"
    assert gradscope("inspect", training, "--steps", "1", "--save", trace).exit_code == 0
    result = gradscope("browse", trace, "--args", "--steps 2")
    assert result.exit_code == 2 and f"--args was given (--steps 2), but {trace} is not a script" in result.stderr
    result = gradscope("browse", training, "--args", "--out 'unclosed")
    assert result.exit_code == 2 and "--args \"--out 'unclosed\": No closing quotation" in result.stderr
