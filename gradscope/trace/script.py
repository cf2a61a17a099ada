"""Model scripts (DESIGN §5): run a user's script under the recorder.

A script that defines `loss()` (or the `--entry` name) is imported without running its
`__main__` block, and the entry's scalar result is differentiated; the entry can be called again
(gradcheck does). Any other script runs as `__main__` and every backward it performs is recorded.
Running a script executes its code, exactly like `python script.py`; its `sys.argv[1:]` are the arguments
given with `script_arguments` (the CLI's `gradscope watch train.py --epochs 2`), none by default.
"""

from __future__ import annotations

import ast
import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import gradscope
from gradscope.autograd.tensor import DeviceError, Tensor
from gradscope.trace.model import Trace
from gradscope.trace.output import is_trace_file
from gradscope.trace.recorder import DEFAULT_KEEP, Recorder
from gradscope.trace.torch_alias import unsupported_api

_PACKAGE_DIR = os.path.dirname(os.path.abspath(gradscope.__file__)) + os.sep
DEFAULT_ENTRY = "loss"
# the arguments a script runs with, after its path in sys.argv (`python train.py --epochs 2`)
_ARGUMENTS: ContextVar[tuple[str, ...]] = ContextVar("gradscope_script_arguments", default=())


@contextlib.contextmanager
def script_arguments(argv: Sequence[str]):
    """Scripts run inside the block get `argv` as their `sys.argv[1:]`."""
    if isinstance(argv, str) or not all(isinstance(arg, str) for arg in argv):
        raise TypeError(f"script arguments must be a sequence of strings, got {argv!r}")
    token = _ARGUMENTS.set(tuple(argv))
    try:
        yield
    finally:
        _ARGUMENTS.reset(token)


class ScriptError(Exception):
    """The model script could not be run or gave nothing to differentiate.

    `details` holds the script's own traceback lines (gradscope's frames left out).
    """

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.details = details


@dataclass
class ScriptRun:
    """A recorded script: its trace, its globals and, for entry scripts, the entry function."""

    path: Path
    trace: Trace
    namespace: dict = field(repr=False)
    entry: Callable | None = None


def _user_traceback(error: BaseException, path: Path) -> str:
    """The traceback of `error` restricted to the user's frames, then the exception line."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if not frame.filename.startswith(_PACKAGE_DIR) and "<frozen " not in frame.filename
              and not frame.filename.endswith(("runpy.py",))]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames else []
    lines += traceback.format_exception_only(type(error), error)
    return "".join(lines).rstrip()


def _failure(error: BaseException, path: Path, message: str) -> ScriptError:
    """The ScriptError for an exception from the script: `message`, unless the script reached for an API
    gradscope lacks, which is said as such ('model.py:12 uses torch.nn.CTCLoss, which gradscope does
    not implement'); the script's own traceback lines either way."""
    if isinstance(error, DeviceError):
        frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == str(path)]
        message = f"{path}:{frames[-1].lineno}: {error}" if frames else f"{path}: {error}"
    return ScriptError(unsupported_api(error, str(path)) or message, _user_traceback(error, path))


def read_script(path: Path) -> str:
    """The script's source text; a ScriptError for a path that isn't a readable script."""
    if not path.exists():
        raise ScriptError(f"{path}: no such file")
    if path.is_dir():
        raise ScriptError(f"{path}: is a directory, not a Python script")
    if is_trace_file(path):
        raise ScriptError(f"{path}: is a trace file, not a script: open it with `gradscope browse {path}`, or "
                          f"`gradscope export {path}`")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScriptError(f"{path}: can't read the script ({error})") from None


def _compile(path: Path):
    source = read_script(path)
    try:
        tree = ast.parse(source, filename=str(path))
        code = compile(tree, str(path), "exec")
    except SyntaxError as error:  # the error itself shows the line; no traceback frames belong to the script
        details = "".join(traceback.format_exception_only(type(error), error)).rstrip()
        raise ScriptError(f"{path}: syntax error at line {error.lineno}", details) from None
    return tree, code


def defines_function(tree: ast.Module, name: str) -> bool:
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name for node in tree.body)


@contextlib.contextmanager
def _script_environment(path: Path):
    """sys.path and sys.argv as `python script.py ARGS` would set them (ARGS from `script_arguments`); the
    script's prints go to stderr."""
    saved_path, saved_argv = list(sys.path), list(sys.argv)
    directory = str(path.parent.resolve())
    modules_before = set(sys.modules)
    sys.path.insert(0, directory)
    sys.argv = [str(path), *_ARGUMENTS.get()]
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.path[:], sys.argv[:] = saved_path, saved_argv
        # forget sibling modules the script imported, so the next script gets its own
        for name in set(sys.modules) - modules_before:
            file = getattr(sys.modules[name], "__file__", None) or ""
            if os.path.abspath(file).startswith(directory + os.sep):
                del sys.modules[name]


def _execute(code, path: Path, run_name: str) -> dict:
    namespace = {"__name__": run_name, "__file__": str(path), "__builtins__": __builtins__}
    try:
        exec(code, namespace)  # noqa: S102 - running the user's script is the point, as `python script.py`
    except SystemExit as error:
        where = _exit_line(error, path)
        if run_name != "__main__":  # imported for its entry: leaving now means there is nothing to call
            raise ScriptError(f"{path}: the script called sys.exit({error.code!r}){where} while being imported, "
                              "before gradscope could call its entry function") from None
        if error.code not in (None, 0):
            raise ScriptError(f"{path}: the script exited with status {error.code}{where}") from None
    except BaseException as error:  # noqa: BLE001 - any failure of the script is reported, not raised
        if isinstance(error, KeyboardInterrupt):
            raise
        raise _failure(error, path, f"{path}: the script raised {type(error).__name__}") from None
    return namespace


@contextlib.contextmanager
def user_code(path: Path, message: str):
    """Run a step that calls the user's code (hooks in backward, an optimizer() factory …): any
    exception it raises becomes a ScriptError saying `message` ("{error}" is replaced by the
    exception's type) with the user's own traceback frames."""
    try:
        yield
    except ScriptError:
        raise
    except BaseException as error:  # noqa: BLE001 - whatever user code raises is reported, not raised
        if isinstance(error, KeyboardInterrupt):
            raise
        raise _failure(error, path, f"{path}: " + message.format(error=type(error).__name__)) from None


def _exit_line(error: SystemExit, path: Path) -> str:
    """' at line 12', the script's line that called sys.exit, or ''."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == str(path)]
    return f" at line {frames[-1].lineno}" if frames else ""


def call_entry(entry: Callable, path: Path, name: str) -> Tensor:
    """Call the entry and check it returned a scalar tensor that requires grad."""
    try:
        result = entry()
    except BaseException as error:  # noqa: BLE001
        if isinstance(error, KeyboardInterrupt):
            raise
        raise _failure(error, path, f"{path}: {name}() raised {type(error).__name__}") from None
    if not isinstance(result, Tensor):
        if type(result).__module__.split(".")[0] == "torch":
            raise ScriptError(f"{path}: {name}() returned a PyTorch tensor: gradscope records its own engine's "
                              "graph (the gradscope commands run `import torch` scripts on it; from Python, use "
                              "`import gradscope as torch`)")
        raise ScriptError(f"{path}: {name}() must return a scalar tensor, got {type(result).__name__}")
    if result.numel() != 1:
        raise ScriptError(f"{path}: {name}() must return a scalar tensor, got shape {list(result.shape)} "
                          "(reduce it, e.g. with .sum() or .mean())")
    if not result.requires_grad:
        raise ScriptError(f"{path}: nothing requires grad: the tensor {name}() returned has no graph (create "
                          "parameters with requires_grad=True, or check for a no_grad block)")
    return result


def run_script(path: str | os.PathLike, entry: str | None = None, keep_values: int = DEFAULT_KEEP,
               max_passes: int | None = None, default_dtype=None) -> ScriptRun:
    """Record a model script; see the module docstring. Raises ScriptError for any problem.

    `default_dtype` (e.g. gradscope.float64) is set while the script's module code runs, as
    `torch.set_default_dtype` would: tensors made without an explicit dtype get it.
    """
    if default_dtype is not None:
        previous = gradscope.get_default_dtype()
        gradscope.set_default_dtype(default_dtype)
        try:
            return run_script(path, entry, keep_values, max_passes)
        finally:
            gradscope.set_default_dtype(previous)
    path = Path(path)
    tree, code = _compile(path)
    name = entry or DEFAULT_ENTRY
    if entry is not None and not defines_function(tree, entry):
        raise ScriptError(f"{path}: the script defines no function {entry}()")
    recorder = Recorder(keep_values=keep_values, max_passes=max_passes)
    with _script_environment(path):
        if defines_function(tree, name):
            namespace = _execute(code, path, "__gradscope_script__")
            function = namespace[name]
            with recorder:
                result = call_entry(function, path, name)
                with user_code(path, f"backward through {name}() failed"):
                    result.backward()
            trace = recorder.finish(namespace)
            trace.meta.update(script=str(path), entry=name)
            return ScriptRun(path, trace, namespace, function)
        with recorder:
            namespace = _execute(code, path, "__main__")
    trace = recorder.finish(namespace)
    trace.meta.update(script=str(path), entry=None)
    if not trace.passes:
        raise ScriptError(f"{path}: no backward happened: the script defines no {name}() function and never "
                          "called backward() (define loss() returning the scalar to differentiate)")
    return ScriptRun(path, trace, namespace)
