"""Writing the user's output files without ever losing their data.

Every file gradscope writes (a trace from `--save` or the browser, `export -o`, `--junit-xml`) goes
through `write_output`:

- an existing file is replaced only when it is one gradscope wrote of the same kind (a trace file, a
  DOT graph, a JSON export, a JUnit report); anything else is refused unless `force` is given;
- the files in `protect` (the script being run) are never replaced, not even with `force`;
- the new content is written to a temporary file beside the target and renamed into place, so a
  reader never sees half a file and a failed write leaves the old one untouched;
- any failure is an `OutputError` naming the user's path, never the temporary file.

>>> write_output("run.gstrace", "trace", lambda stream: save_to(stream), protect=["model.py"])
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

# what each kind of output starts with when gradscope wrote it (JUnit: within its first bytes)
_SIGNATURES = {
    "dot": b"digraph gradscope {",
    "json": b'{\n "format": "gradscope-trace"',
    "junit": b'<testsuites name="gradscope check"',
}
KINDS = ("trace", *_SIGNATURES)
_DESCRIPTIONS = {"trace": "a gradscope trace", "dot": "a DOT graph written by gradscope",
                 "json": "a JSON trace written by gradscope", "junit": "a JUnit report written by gradscope"}


class OutputError(OSError):
    """An output file can't or mustn't be written. The message names the user's path."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        super().__init__(f"{os.fspath(path) or repr('')}: {reason}")
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return self.args[0]


def is_trace_file(path: str | os.PathLike) -> bool:
    """Whether `path` is a gradscope trace (a zip whose manifest says so), judged from a few bytes."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open("manifest.json") as manifest:
            head = manifest.read(64)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, EOFError, RuntimeError, NotImplementedError):
        return False
    return head.replace(b" ", b"").startswith(b'{"format":"gradscope-trace"')


def is_own_output(path: Path, kind: str) -> bool:
    """Whether the existing file at `path` is output of this `kind` that gradscope wrote."""
    if kind == "trace":
        return is_trace_file(path)
    try:
        with open(path, "rb") as stream:
            head = stream.read(512)
    except OSError:
        return False
    signature = _SIGNATURES[kind]
    return signature in head if kind == "junit" else head.startswith(signature)


def check_output(path: str | os.PathLike, kind: str, *, force: bool = False,
                 protect: Iterable[str | os.PathLike] = ()) -> Path:
    """Refuse, before any work is done, to write where it would destroy something; return the path."""
    if kind not in KINDS:
        raise ValueError(f"unknown output kind {kind!r}")
    if os.fspath(path) == "":
        raise OutputError(path, "empty file name")
    path = Path(path)
    try:
        exists = path.exists() or path.is_symlink()
        path.parent.stat()
    except OSError as error:  # a name too long, a parent that is a file …
        raise OutputError(path, _reason(error, path.parent)) from None
    for protected in protect:
        if _same_file(path, Path(protected)):
            raise OutputError(path, "is the script being run; gradscope never overwrites it")
    if path.is_dir():
        raise OutputError(path, "is a directory")
    if exists and not force and not is_own_output(path, kind):
        raise OutputError(path, f"exists and is not {_DESCRIPTIONS[kind]}; refusing to overwrite it "
                                "(use --force to replace it)")
    return path


def write_output(path: str | os.PathLike, kind: str, write: Callable[[BinaryIO], None], *, force: bool = False,
                 protect: Iterable[str | os.PathLike] = ()) -> Path:
    """Check `path` (see `check_output`), then write it atomically with `write(stream)`."""
    path = check_output(path, kind, force=force, protect=protect)
    write_atomically(path, write)
    return path


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Write through a temporary file in the same directory, renamed into place when complete."""
    path = Path(path)
    if os.fspath(path) == "":
        raise OutputError(path, "empty file name")
    directory = path.parent
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name[:64]}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise OutputError(path, _reason(error, directory)) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.chmod(temp, 0o644)  # mkstemp makes it private; an output file is an ordinary file
        os.replace(temp, path)
    except OSError as error:
        raise OutputError(path, _reason(error, directory)) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)


def _reason(error: OSError, directory: Path) -> str:
    """Why a write failed, in words about the user's path rather than the temporary file."""
    if error.errno == errno.ENOENT:
        return f"directory {directory} does not exist"
    if error.errno == errno.ENOTDIR:
        return f"{_first_file(directory)} is a file, not a directory"
    if error.errno == errno.ENAMETOOLONG:
        return "file name too long"
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on the device"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied ({error.strerror})"
    if error.errno == errno.EISDIR:
        return "is a directory"
    return error.strerror or str(error)


def _first_file(directory: Path) -> Path:
    """The component of `directory` that exists but is not a directory."""
    for parent in [*reversed(directory.parents), directory]:
        if parent.exists() and not parent.is_dir():
            return parent
    return directory


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False
