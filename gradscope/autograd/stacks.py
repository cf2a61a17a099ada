"""The user's call stack where an op ran, kept cheaply for anomaly mode and formatted into text only when
someone looks (node.metadata['traceback_'], error reports).

A stack is a chain of links `(code, instruction offset, outer link or None)`, innermost first. Nodes made
one after another share the outer part of their stacks: the frames that called them are still running at
the same instruction, so the links made for them last time still hold, and capturing a stack costs a walk
to the first such frame rather than to the bottom of the stack.
"""

from __future__ import annotations

import inspect
import linecache
import os
import sys
import threading

_MAX_STACK = 64  # frames formatted, innermost first
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# a resumable frame (generator, coroutine) may be resumed from elsewhere: its callers are not fixed
_RESUMABLE = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE


class _Recent(threading.local):
    """The frames of this thread's last captured stack, outermost first, and the link made for each.

    NOTE: a frame found here at the instruction it was at then has the same callers as then (a running,
    non-resumable frame stays suspended in the call it made), so its link is reused as it is. Only the
    last stack's frames are held, so that frames which have returned are let go at the next capture.
    """

    def __init__(self) -> None:
        self.frames: list = []
        self.links: dict = {}  # frame -> (its instruction offset, its link, its depth from the outermost)


_recent = _Recent()
_PACKAGE_FILES: set = set()  # the source files of gradscope's own frames met so far


def capture_stack(skip: int = 1) -> tuple:
    """The stack of the user's call that made the op, as a chain of links: gradscope's own innermost frames
    are left out, as PyTorch's C++ frames are (the first `skip` unexamined: callers that know they are called
    from gradscope say so). Formatted only on demand (`format_stack`)."""
    frame = sys._getframe(skip)
    package_files = _PACKAGE_FILES
    while True:  # NOTE: a set lookup per frame (strings keep their hash): a dozen frames for every node
        while frame is not None and frame.f_code.co_filename in package_files:
            frame = frame.f_back
        if frame is None or not frame.f_code.co_filename.startswith(_PACKAGE_DIR):
            break
        package_files.add(frame.f_code.co_filename)
    recent = _recent
    links = recent.links
    walked = []
    link = None
    depth = 0
    while frame is not None:
        lasti = frame.f_lasti
        known = links.get(frame)
        if known is not None and known[0] == lasti:
            link, depth = known[1], known[2] + 1
            if not walked and depth == len(recent.frames):  # where the last stack was made: nothing to update
                return link
            break
        walked.append((frame, lasti))
        frame = frame.f_back
    frames = recent.frames
    for stale in frames[depth:]:  # the last stack's frames inside the one found: not on this stack
        links.pop(stale, None)
    del frames[depth:]
    for frame, lasti in reversed(walked):
        code = frame.f_code
        link = (code, lasti, link)
        if not code.co_flags & _RESUMABLE:
            links[frame] = (lasti, link, depth)
        frames.append(frame)
        depth += 1
    return link if link is not None else ()


def forget_stacks() -> None:
    """Let go of the frames of this thread's last captured stack (anomaly mode is over)."""
    _recent.frames.clear()
    _recent.links.clear()


def _frames(stack) -> list:
    """(code, line) of each frame of `stack`, innermost first, at most _MAX_STACK of them."""
    frames = []
    while stack and len(frames) < _MAX_STACK:
        code, lasti, stack = stack
        frames.append((code, _line(code, lasti)))
    return frames


def _line(code, lasti: int) -> int | None:
    """The source line of the instruction at byte offset `lasti`, as frame.f_lineno gives it."""
    for start, end, number in code.co_lines():
        if start <= lasti < end:
            return number
    return None


def format_stack(stack) -> list[str]:
    """Like traceback.format_list: '  File "f.py", line 3, in g\\n    code\\n' per frame, outermost first."""
    lines = []
    for code, line in reversed(_frames(stack)):
        text = f'  File "{code.co_filename}", line {line}, in {code.co_name}\n'
        source = linecache.getline(code.co_filename, line).strip() if line is not None else ""
        if source:
            text += f"    {source}\n"
        lines.append(text)
    return lines


def user_location(stack) -> str | None:
    """'file.py:LINE' of the innermost frame outside gradscope."""
    for code, line in _frames(stack):
        if not code.co_filename.startswith(_PACKAGE_DIR):
            return f"{code.co_filename}:{line}"
    return None
