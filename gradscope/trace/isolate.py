"""Run user code in a child process, so that gradscope outlives it (DESIGN §5).

A model script can call `sys.exit` or `os._exit`, crash the interpreter, loop forever or print
anything. The commands therefore never run it in their own process: `run_in_child` starts
`python -m gradscope.trace.child`, which runs one *job* (a function of gradscope's, named
`"module:function"`) and hands back its JSON-able result; a recording comes back as a trace file.
The parent process renders, writes JSON and JUnit, and owns the exit code, so:

- a script that ends the process, or crashes it, is reported (`ScriptError`), never a silent pass;
- `timeout` stops the child and names the line the script was running (`ScriptTimeout`);
- `cancel` (an event another thread sets, e.g. the browser quitting) stops it within ~0.1 s;
- Ctrl-C stops it and raises `KeyboardInterrupt` in the parent;
- everything the child writes to stdout or stderr is passed on to the parent's stderr as it comes,
  so the parent's stdout holds only gradscope's own output (one JSON document under `--json`).

Errors a job raises come back as the same gradscope exception (`ScriptError`, `CheckConfigError` …).
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from gradscope.trace.recorder import DEFAULT_KEEP
from gradscope.trace.script import ScriptError, run_script
from gradscope.trace.tracefile import load_trace, save_trace

POLL_SECONDS = 0.1
WHERE_WAIT_SECONDS = 1.0  # how long a timed-out child gets to report where it is
_PACKAGE_DIR = str(Path(__file__).resolve().parents[1]) + os.sep
_SOURCE_ROOT = str(Path(__file__).resolve().parents[2])  # the directory holding the gradscope package


class ScriptTimeout(ScriptError):
    """The script ran longer than `--timeout` allowed."""


class ScriptCancelled(ScriptError):
    """The run was stopped from outside (the browser quit, or re-ran the script)."""


class ChildFailed(ScriptError):
    """gradscope itself failed inside the child process (a bug: the details hold its traceback)."""


def run_in_child(target: str, args: dict, *, script: str | os.PathLike, timeout: float | None = None,
                 progress: Callable[[dict], None] | None = None, cancel: threading.Event | None = None,
                 output=None, keep: Callable[[Path, dict], object] | None = None, argv: Sequence[str] = ()):
    """Run the job `target` ("gradscope.module:function") on `args` in a child process.

    The job is called as `function(args, work, report)`: `work` is a private directory for files it
    hands back, `report(message)` sends a JSON-able message to `progress` in this process. Returns
    the job's result, or `keep(work, result)` when given (called before `work` is removed, e.g. to
    open a trace file the job wrote there). `output` receives the child's stdout and stderr
    (default: this process's stderr). Scripts the job runs get `argv` as their `sys.argv[1:]`.
    """
    if not target.startswith("gradscope."):
        raise ValueError(f"a child job must be one of gradscope's functions, not {target!r}")
    script = Path(script)
    work = Path(tempfile.mkdtemp(prefix="gradscope-"))
    try:
        (work / "job.json").write_text(json.dumps({"target": target, "args": args, "argv": list(argv)}),
                                       encoding="utf-8")
        child = _Child(work, output if output is not None else sys.stderr)
        try:
            child.wait(script, timeout, progress, cancel)
        finally:
            child.stop()
        result = _read_result(work, child.returncode, script)
        return keep(work, result) if keep is not None else result
    finally:
        shutil.rmtree(work, ignore_errors=True)


class _Child:
    """The child process, the thread passing its output on, and the pipes that tie it to this one."""

    def __init__(self, work: Path, output) -> None:
        self.work = work
        messages_read, messages_write = os.pipe()
        lifeline_read, self._lifeline = os.pipe()  # the child exits when this end closes (we died)
        # the child imports this very gradscope, and nothing from the current directory that could shadow
        # a module it needs (-P, Python >= 3.11); the script's own directory is added when it runs
        paths = [_SOURCE_ROOT, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=os.pathsep.join(paths))
        env.pop("PYTHONSTARTUP", None)
        python = [sys.executable, "-P"] if sys.version_info >= (3, 11) else [sys.executable]
        try:
            self.process = subprocess.Popen(
                [*python, "-m", "gradscope.trace.child", str(work), str(messages_write), str(lifeline_read)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                pass_fds=(messages_write, lifeline_read), env=env, cwd=os.getcwd())
        finally:
            os.close(messages_write)
            os.close(lifeline_read)
        self._messages = os.fdopen(messages_read, "rb", buffering=0)
        self._relay = threading.Thread(target=_relay, args=(self.process.stdout, output), daemon=True)
        self._relay.start()
        self.returncode: int | None = None

    def wait(self, script: Path, timeout: float | None, progress, cancel: threading.Event | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        selector = selectors.DefaultSelector()
        selector.register(self._messages, selectors.EVENT_READ)
        pending = b""
        try:
            while True:
                for _ in selector.select(POLL_SECONDS):
                    chunk = self._messages.read(65536)
                    if not chunk:  # the child closed its end: it has exited or is exiting
                        selector.unregister(self._messages)
                        break
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        if progress is not None and line:
                            progress(json.loads(line))
                if self.process.poll() is not None:
                    self.returncode = self.process.returncode
                    return
                if cancel is not None and cancel.is_set():
                    raise ScriptCancelled(f"{script}: stopped")
                if deadline is not None and time.monotonic() > deadline:
                    where = self._where(script)
                    raise ScriptTimeout(f"{script}: timed out after {timeout:g} s"
                                        + (f"; the script was at {where}" if where else
                                           " (the script's own code was not running at that moment: it had not "
                                           "started yet, or gradscope was working on its results)"))
        finally:
            selector.close()

    def _where(self, script: Path) -> str | None:
        """Ask the child for its stack (faulthandler answers even inside C code) and find the user's line."""
        dump = self.work / "where.txt"
        try:
            self.process.send_signal(signal.SIGUSR1)
        except (OSError, ValueError):
            return None
        deadline = time.monotonic() + WHERE_WAIT_SECONDS
        size = 0
        while time.monotonic() < deadline:
            time.sleep(0.02)
            current = dump.stat().st_size if dump.exists() else 0
            if current and current == size:  # written, and no longer growing
                return user_line(dump.read_text(errors="replace"), script)
            size = current
        return None

    def stop(self) -> None:
        """Kill the child if it still runs, and close every pipe (idempotent)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.returncode is None:
            self.returncode = self.process.returncode
        self._relay.join(timeout=1.0)
        for stream in (self._messages, self.process.stdout):
            stream.close()
        if self._lifeline is not None:
            os.close(self._lifeline)
            self._lifeline = None


def _relay(source, output) -> None:
    """Pass the child's output on, chunk by chunk, as it comes."""
    binary = getattr(output, "buffer", None)
    try:
        while True:
            chunk = source.read1(65536) if hasattr(source, "read1") else source.read(65536)
            if not chunk:
                return
            try:
                if binary is not None:
                    binary.write(chunk)
                    binary.flush()
                else:
                    output.write(chunk.decode("utf-8", errors="replace"))
                    output.flush()
            except (OSError, ValueError):  # our stderr closed: keep draining so the child never blocks
                binary = output = _Discard()
    except (OSError, ValueError):
        return


class _Discard:
    def write(self, _) -> None:
        pass

    def flush(self) -> None:
        pass


_FRAME = re.compile(r'^\s*File "(.+)", line (\d+) in (\S+)', re.MULTILINE)


def user_line(dump: str, script: Path) -> str | None:
    """From a faulthandler dump (most recent call first), the innermost frame in the script — else in
    any file that isn't gradscope's or Python's — as 'file:line in function'."""
    frames = _FRAME.findall(dump)
    try:
        script_path = str(script.resolve())
    except OSError:
        script_path = str(script)
    for file, line, function in frames:
        if os.path.abspath(file) == script_path:
            return f"{script}:{line} in {function}()"
    stdlib = os.path.dirname(os.__file__) + os.sep
    for file, line, function in frames:
        path = os.path.abspath(file)
        if not path.startswith((_PACKAGE_DIR, stdlib)) and not file.startswith("<"):
            return f"{file}:{line} in {function}()"
    return None


def _read_result(work: Path, returncode: int | None, script: Path):
    path = work / "result.json"
    if not path.exists():
        message, details = _how_it_ended(work, returncode, script)
        raise ScriptError(f"{script}: {message} before gradscope had a result", details)
    outcome = json.loads(path.read_text(encoding="utf-8"))
    if "error" in outcome:
        raise rebuild_error(outcome["error"])
    return outcome["result"]


def _how_it_ended(work: Path, returncode: int | None, script: Path) -> tuple[str, str]:
    """Why the child stopped without a result, and where the script was, from the notes it left."""
    exit_note = _read(work / "exit.txt")
    if exit_note:
        note = json.loads(exit_note)
        return (f"the script called os._exit({note['status']}) at {_shown(note['file'], script)}:{note['line']}",
                "os._exit ends the process at once: gradscope can't report on a run that never finishes")
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        dump = _read(work / "crash.txt")
        where = user_line(dump, script) if dump else None
        frames = "\n".join(line for line in dump.splitlines()
                           if not line.strip().startswith(f'File "{_PACKAGE_DIR}') and "<frozen " not in line)
        return f"the script's process crashed ({name})" + (f" at {where}" if where else ""), frames.strip()
    status = "vanished" if returncode is None else f"exited with status {returncode}"
    return f"the script's process {status}", ""


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _shown(file: str, script: Path) -> str:
    try:
        return str(script) if os.path.samefile(file, script) else file
    except OSError:
        return file


# ------------------------------------------------------------------------- errors across the process boundary
def describe_error(error: BaseException) -> dict:
    """A gradscope exception as JSON, to be raised again in the parent by `rebuild_error`."""
    cls = type(error)
    state = {k: v for k, v in vars(error).items() if _json_able(v)}
    return {"module": cls.__module__, "class": cls.__qualname__, "args": [a for a in error.args if _json_able(a)],
            "state": state}


def rebuild_error(data: dict) -> Exception:
    module, name = data.get("module", ""), data.get("class", "")
    cls = None
    if module.startswith("gradscope.") and "." not in name:
        imported = sys.modules.get(module)
        if imported is None:
            import importlib  # only gradscope's own modules, named by our own child process
            imported = importlib.import_module(module)
        cls = getattr(imported, name, None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        return ChildFailed(str(data.get("args", ["gradscope failed"])[0]))
    error = cls.__new__(cls)
    Exception.__init__(error, *data.get("args", []))
    vars(error).update(data.get("state", {}))
    return error


def _json_able(value) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


# ------------------------------------------------------------------------- recording a script
def record_script(path: str | os.PathLike, entry: str | None = None, *, keep_values: int | None = None,
                  max_passes: int | None = None, timeout: float | None = None,
                  cancel: threading.Event | None = None, output=None, argv: Sequence[str] = ()):
    """`run_script(...).trace`, recorded in a child process (see the module docstring).

    The trace comes back through a trace file that is opened and then removed: its arrays stay
    readable (lazily) through the open file for as long as the trace lives.
    """
    args = {"path": os.fspath(path), "entry": entry, "keep_values": keep_values, "max_passes": max_passes}
    return run_in_child("gradscope.trace.isolate:record_job", args, script=path, timeout=timeout, cancel=cancel,
                        output=output, keep=lambda work, result: load_trace(work / result["trace"]), argv=argv)


def record_job(args: dict, work: Path, report) -> dict:
    """In the child: record the script and write its trace to `work`."""
    keep = args["keep_values"] if args.get("keep_values") is not None else DEFAULT_KEEP
    trace = run_script(args["path"], args.get("entry"), keep_values=keep, max_passes=args.get("max_passes")).trace
    save_trace(trace, work / "trace.gstrace", compress=False)  # read once, by the parent, right away
    return {"trace": "trace.gstrace"}
