"""The user's call stack where an op ran, kept cheaply: (code, line) pairs captured by anomaly mode and
the recorder, formatted into text only when someone looks (node.metadata['traceback_'], error reports)."""

from __future__ import annotations

import linecache
import os
import sys

_MAX_STACK = 64
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def capture_stack() -> tuple:
    """The stack of the user's call that made the op as (code, line) pairs, innermost last: gradscope's
    own innermost frames are left out, as PyTorch's C++ frames are. Formatted only on demand."""
    frame = sys._getframe(1)
    package = _PACKAGE_DIR
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame = frame.f_back
    stack = []
    while frame is not None and len(stack) < _MAX_STACK:
        stack.append((frame.f_code, frame.f_lineno))
        frame = frame.f_back
    stack.reverse()
    return tuple(stack)


def format_stack(stack) -> list[str]:
    """Like traceback.format_list: '  File "f.py", line 3, in g\\n    code\\n' per frame."""
    lines = []
    for code, line in stack:
        text = f'  File "{code.co_filename}", line {line}, in {code.co_name}\n'
        source = linecache.getline(code.co_filename, line).strip()
        if source:
            text += f"    {source}\n"
        lines.append(text)
    return lines


def user_location(stack) -> str | None:
    """'file.py:LINE' of the innermost frame outside gradscope."""
    for code, line in reversed(stack):
        if not code.co_filename.startswith(_PACKAGE_DIR):
            return f"{code.co_filename}:{line}"
    return None
