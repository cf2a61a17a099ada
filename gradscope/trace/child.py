"""The child process of `gradscope.trace.isolate`: `python -m gradscope.trace.child WORK MESSAGES LIFELINE`.

Runs the job described in `WORK/job.json` and writes `WORK/result.json` (`{"result": …}` or
`{"error": …}`). MESSAGES is a pipe for progress messages (one JSON document a line); LIFELINE is a
pipe whose other end the parent holds: when it closes, the parent has gone and the child exits.
SIGUSR1 makes faulthandler dump the stack to `WORK/where.txt` (how a timeout names the script's line).
"""

from __future__ import annotations

import faulthandler
import importlib
import json
import os
import shlex
import signal
import sys
import threading
import traceback
from pathlib import Path

from gradscope.trace import torch_alias
from gradscope.trace.isolate import describe_error
from gradscope.trace.script import script_arguments


def main(argv: list[str]) -> None:
    work, messages, lifeline = Path(argv[0]), int(argv[1]), int(argv[2])
    threading.Thread(target=_exit_when_orphaned, args=(lifeline,), daemon=True).start()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops us
    where = open(work / "where.txt", "w")  # noqa: SIM115 - faulthandler writes to it until we exit
    faulthandler.register(signal.SIGUSR1, file=where, all_threads=True)  # any thread may take the signal
    crash = open(work / "crash.txt", "w")  # noqa: SIM115 - where a crash of the interpreter dumps the stack
    faulthandler.enable(file=crash, all_threads=False)
    os._exit = _noting_exit(work / "exit.txt")
    job = json.loads((work / "job.json").read_text(encoding="utf-8"))
    torch_alias.install(on_first_use=lambda: print(
        "gradscope: the script imports torch; it runs on gradscope's engine, with gradscope's modules under "
        "torch's names (PyTorch itself is not used)", file=sys.stderr, flush=True))
    channel = os.fdopen(messages, "w", encoding="utf-8", buffering=1)
    if job.get("argv"):  # said, so that a mistyped option of gradscope's (taken for the script's) is seen
        print(f"gradscope: the script's arguments: {shlex.join(job['argv'])}", file=sys.stderr, flush=True)

    def report(message) -> None:
        channel.write(json.dumps(message) + "\n")

    try:
        module_name, _, function_name = job["target"].partition(":")
        function = getattr(importlib.import_module(module_name), function_name)
        with script_arguments(job.get("argv", ())):
            outcome = {"result": function(job["args"], work, report)}
    except Exception as error:  # noqa: BLE001 - every failure is handed back to the parent
        if type(error).__module__.startswith("gradscope."):
            outcome = {"error": describe_error(error)}
        else:
            details = "".join(traceback.format_exception(error))
            outcome = {"error": {"module": "gradscope.trace.isolate", "class": "ChildFailed",
                                 "args": [f"gradscope failed: {type(error).__name__}: {error}"],
                                 "state": {"message": f"gradscope failed: {type(error).__name__}: {error} "
                                                      "(a bug in gradscope: please report it)",
                                           "details": details}}}
    temp = work / "result.json.tmp"
    temp.write_text(json.dumps(outcome), encoding="utf-8")
    os.replace(temp, work / "result.json")
    for stream in (sys.stdout, sys.stderr, channel):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    _real_exit(0)  # not sys.exit: threads the script left running must not keep the process alive


def _exit_when_orphaned(lifeline: int) -> None:
    try:
        os.read(lifeline, 1)
    finally:
        _real_exit(70)


_real_exit = os._exit


def _noting_exit(note: Path):
    """os._exit that first notes who called it, so the parent can say where the script ended."""

    def _exit(status: int) -> None:
        caller = sys._getframe(1)
        note.write_text(json.dumps({"file": caller.f_code.co_filename, "line": caller.f_lineno,
                                    "function": caller.f_code.co_name, "status": status}))
        _real_exit(status)
    return _exit


if __name__ == "__main__":
    main(sys.argv[1:])
