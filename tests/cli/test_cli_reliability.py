"""Issue 10: user code can't fake a result or hang the tool, and no output ever destroys a user's file.

The script runs in a child process; these tests break it every way a script can (sys.exit, os._exit,
a crash, an endless loop, prints under --json, hooks raising) and try every way an output path can
go wrong. The Ctrl-C and closed-pipe cases run the real `gradscope` executable in a subprocess.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from cli_helpers import GRADSCOPE_DIR, assert_input_error, gradscope, line_of, sample

from gradscope.trace.output import OutputError, check_output, is_trace_file, write_atomically

SCRIPT_ENTRIES = ("inspect", "gradcheck", "check")


def write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source).lstrip())
    return path


HEALTHY = """
    import gradscope as torch

    w = torch.tensor([0.5, -1.5, 2.0], requires_grad=True)


    def loss():
        {body}
        return (w.sin() * w).sum()
"""


def entry_script(tmp_path: Path, body: str, name: str = "model.py") -> Path:
    return write(tmp_path, name, HEALTHY.format(body=body))


# ----------------------------------------------------------------------------- never lose a user's data
def test_save_never_overwrites_the_script_being_run(tmp_path):
    script = entry_script(tmp_path, "pass")
    before = script.read_bytes()
    for extra in ((), ("--force",)):
        result = gradscope("inspect", script, "--save", script, *extra)
        assert_input_error(result, str(script), "is the script being run")
        assert script.read_bytes() == before


def test_save_refuses_a_file_that_is_not_a_trace_unless_forced(tmp_path):
    script = entry_script(tmp_path, "pass")
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    result = gradscope("inspect", script, "--save", notes)
    assert_input_error(result, str(notes), "not a gradscope trace", "--force")
    assert notes.read_text() == "my notes"

    result = gradscope("inspect", script, "--save", notes, "--force")
    assert result.exit_code == 0, result.stderr
    assert is_trace_file(notes)


def test_save_replaces_a_trace_without_asking(tmp_path):
    script = entry_script(tmp_path, "pass")
    trace = tmp_path / "run.gstrace"
    assert gradscope("inspect", script, "--save", trace).exit_code == 0
    first = trace.stat().st_mtime_ns
    time.sleep(0.01)
    assert gradscope("inspect", script, "--save", trace).exit_code == 0
    assert trace.stat().st_mtime_ns != first and is_trace_file(trace)


def test_a_zip_that_is_not_a_trace_is_not_a_trace(tmp_path):
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("manifest.json", '{"format": "something-else"}')
    assert not is_trace_file(archive)
    with pytest.raises(OutputError, match="not a gradscope trace"):
        check_output(archive, "trace")


OWN_OUTPUT = {"dot": "digraph gradscope {\n}\n", "json": '{\n "format": "gradscope-trace"}'}


@pytest.mark.parametrize("fmt, own", OWN_OUTPUT.items())
def test_export_output_replaces_only_its_own_kind(tmp_path, fmt, own):
    script = sample("mlp")
    target = tmp_path / f"graph.{fmt}"
    target.write_text("precious")
    assert_input_error(gradscope("export", script, "--format", fmt, "-o", target), str(target), "--force")
    assert target.read_text() == "precious"
    target.write_text(own)  # what gradscope itself wrote there before
    result = gradscope("export", script, "--format", fmt, "-o", target)
    assert result.exit_code == 0, result.stderr
    assert target.read_text() != own


def test_export_never_overwrites_its_source_script(tmp_path):
    script = entry_script(tmp_path, "pass")
    before = script.read_bytes()
    assert_input_error(gradscope("export", script, "-o", script, "--force"), "is the script being run")
    assert script.read_bytes() == before


def test_junit_xml_refuses_a_foreign_file_and_replaces_its_own(tmp_path):
    report = tmp_path / "report.xml"
    report.write_text("<project/>")
    assert_input_error(gradscope("check", sample("mlp"), "--junit-xml", report), str(report), "--force")
    assert report.read_text() == "<project/>"
    report.unlink()
    assert gradscope("check", sample("mlp"), "--junit-xml", report).exit_code == 0
    assert gradscope("check", sample("mlp"), "--junit-xml", report).exit_code == 0  # its own: replaced


@pytest.mark.parametrize("option", ["--save", "-o", "--junit-xml"])
@pytest.mark.parametrize("case", ["parent is a file", "missing directory", "name too long", "empty name"])
def test_unwritable_outputs_name_the_users_path(tmp_path, option, case):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    target = {"parent is a file": blocker / "out.bin", "missing directory": tmp_path / "nowhere" / "out.bin",
              "name too long": tmp_path / ("x" * 300), "empty name": ""}[case]
    command = {"--save": ("inspect", sample("mlp")), "-o": ("export", sample("mlp")),
               "--junit-xml": ("check", sample("mlp"))}[option]
    result = gradscope(*command, option, target)
    expected = {"parent is a file": f"{blocker} is a file", "missing directory": "does not exist",
                "name too long": "file name too long", "empty name": "empty file name"}[case]
    assert_input_error(result, expected)
    assert ".tmp" not in result.stderr and ".out.bin." not in result.stderr  # never the temporary file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # nothing left behind


@pytest.mark.parametrize("errno_name, words", [("ENOSPC", "no space left"), ("EACCES", "permission denied")])
def test_write_failures_name_the_users_path_and_leave_the_old_file(tmp_path, errno_name, words):
    import errno

    target = tmp_path / "run.gstrace"
    target.write_bytes(b"old")

    def failing(stream):
        stream.write(b"partial")
        raise OSError(getattr(errno, errno_name), os.strerror(getattr(errno, errno_name)))

    with pytest.raises(OutputError) as caught:
        write_atomically(target, failing)
    assert str(caught.value).startswith(f"{target}: ") and words in str(caught.value)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.gstrace"]


# ----------------------------------------------------------------------------- user code can't fake a result
@pytest.mark.parametrize("command", SCRIPT_ENTRIES)
def test_os_exit_in_the_entry_is_reported_never_a_silent_pass(tmp_path, command):
    script = entry_script(tmp_path, "import os; os._exit(0)")
    extra = ("--json", "--junit-xml", tmp_path / "r.xml") if command == "check" else ()
    result = gradscope(command, script, *extra)
    assert_input_error(result, f"called os._exit(0) at {script}:{line_of(script, 'os._exit')}")
    assert result.stdout == ""
    assert not (tmp_path / "r.xml").exists()


@pytest.mark.parametrize("command", SCRIPT_ENTRIES)
def test_sys_exit_anywhere_is_an_input_error(tmp_path, command):
    inside = entry_script(tmp_path, "import sys; sys.exit(0)", "inside.py")
    assert_input_error(gradscope(command, inside), "loss() raised SystemExit")
    at_import = write(tmp_path, "at_import.py", """
        import sys
        sys.exit(0)

        def loss():
            pass
    """)
    assert_input_error(gradscope(command, at_import), "called sys.exit(0) at line 2 while being imported")


def test_a_crash_of_the_interpreter_is_reported_with_the_scripts_line(tmp_path):
    script = entry_script(tmp_path, "import ctypes; ctypes.string_at(0)")
    result = gradscope("inspect", script)
    assert_input_error(result, "crashed (SIGSEGV)", f"{script}:{line_of(script, 'ctypes')}")


@pytest.mark.parametrize("command", [*SCRIPT_ENTRIES, "export"])
def test_timeout_stops_an_endless_script_and_names_its_line(tmp_path, command):
    script = entry_script(tmp_path, "while True:\n            pass")
    for seconds in (5, 20):  # 5 s is ample to start; on a loaded machine (a worker per core) it may not be
        started = time.monotonic()
        result = gradscope(command, script, "--timeout", seconds)
        assert time.monotonic() - started < seconds + 20
        assert_input_error(result, f"timed out after {seconds} s")
        flat = " ".join(result.stderr.split())  # rich wraps the message after a long tmp path
        if "it had not started yet" not in flat:
            break
    loop = line_of(script, "while True")  # the loop runs its two lines by turns: either is where it was
    assert re.search(rf"the script was at {re.escape(str(script))}:({loop}|{loop + 1}) in", flat), result.stderr


def test_timeout_must_be_positive(tmp_path):
    result = gradscope("inspect", sample("mlp"), "--timeout", "0")
    assert result.exit_code == 2 and "positive" in result.stderr


@pytest.mark.parametrize("command", [("inspect", "--json"), ("gradcheck", "--json"),
                                     ("check", "--json", "--rule", "gradcheck"), ("export", "--format", "json")])
def test_json_stdout_is_one_document_whatever_the_script_prints(tmp_path, command):
    script = entry_script(tmp_path, "print('{not json'); import sys; sys.stderr.write('noise\\n')")
    result = gradscope(command[0], script, *command[1:])
    assert result.exit_code == 0, result.stderr
    json.loads(result.stdout)
    assert "{not json" in result.stderr and "noise" in result.stderr


@pytest.mark.parametrize("error", ["ValueError('bad hook')", "KeyError('missing')", "SystemExit(4)"])
@pytest.mark.parametrize("command", SCRIPT_ENTRIES)
def test_hooks_raising_anything_are_reported_with_the_scripts_frames(tmp_path, command, error):
    script = write(tmp_path, "hooked.py", f"""
        import gradscope as torch

        w = torch.tensor([0.5, -1.5, 2.0], requires_grad=True)


        def hook(grad):
            raise {error}


        def loss():
            y = w.sin()
            y.register_hook(hook)
            return (y * w).sum()
    """)
    result = gradscope(command, script)
    name = error.split("(")[0]
    assert_input_error(result, name, f'File "{script}", line {line_of(script, "raise")}, in hook')
    assert GRADSCOPE_DIR not in result.stderr


# ----------------------------------------------------------------------------- the real executable
def run_cli(*args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gradscope", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def children_running(script: Path) -> list[str]:
    """Pids of gradscope child processes recording `script` (their job file names it)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            work = argv[argv.index(b"gradscope.trace.child") + 1].decode()
            if str(script) in Path(work, "job.json").read_text():
                found.append(entry.name)
        except (OSError, IndexError, ValueError):
            continue
    return found


def _default_sigint() -> None:
    """In the CLI's process before it starts: Ctrl-C's default action. A process started with SIGINT ignored
    (the test suite run as a background job of a shell without job control) passes that on, and Python then
    installs no KeyboardInterrupt handler: the CLI couldn't be interrupted, as any Python program there."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="looks for the child process in /proc")
def test_ctrl_c_prints_interrupted_exits_130_and_stops_the_script(tmp_path):
    script = entry_script(tmp_path, "while True:\n            pass")
    process = run_cli("inspect", script, preexec_fn=_default_sigint)
    try:
        deadline = time.monotonic() + 20
        while not children_running(script) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert children_running(script), "the script's child process never started"
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=20)
    finally:
        process.kill()
        for pid in children_running(script):
            os.kill(int(pid), signal.SIGKILL)
    assert process.returncode == 130, (stdout, stderr)
    assert stderr.strip().endswith("interrupted") and "Traceback" not in stderr
    deadline = time.monotonic() + 5
    while children_running(script) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not children_running(script)


def test_a_closed_pipe_is_not_a_failed_check():
    reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    process = subprocess.Popen([sys.executable, "-m", "gradscope", "inspect", str(sample("mlp")), "--depth", "50"],
                               stdout=reader.stdin, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, COLUMNS="400"))
    reader.stdin.close()
    _, stderr = process.communicate(timeout=60)
    reader.wait(timeout=10)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


# ----------------------------------------------------------------------------- what a recording can hold
def test_complex_tensors_are_kept_as_statistics_so_the_trace_reads_back(tmp_path):
    script = write(tmp_path, "complex_model.py", """
        import gradscope as torch

        w = torch.tensor([0.5, -1.5], requires_grad=True)
        phase = torch.tensor([1 + 2j, 3j])


        def loss():
            print(phase.abs())
            return (w * w).sum()
    """)
    trace = tmp_path / "run.gstrace"
    result = gradscope("inspect", script, "--save", trace)
    assert result.exit_code == 0, result.stderr
    exported = gradscope("export", trace, "--format", "json")
    assert exported.exit_code == 0, exported.stderr
    assert json.loads(exported.stdout)["format"] == "gradscope-trace"


def test_a_script_path_with_markup_is_shown_as_it_is(tmp_path):
    folder = tmp_path / "[bold]odd"  # rich would take it as markup and drop it
    folder.mkdir()
    script = entry_script(folder, "pass")
    result = gradscope("inspect", script)
    assert result.exit_code == 0, result.stderr
    assert str(script) in result.stdout
