"""Running a PyTorch script in this process twice, with the real `torch` and with `torch` resolving to gradscope
(test_outsider_scripts.py and test_outsider_tutorial_scripts.py share it)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
from collections.abc import Iterator
from pathlib import Path

from gradscope.trace.torch_alias import TorchAlias


@contextlib.contextmanager
def torch_is_gradscope() -> Iterator[None]:
    """`import torch…` gives gradscope's modules inside the block; the real torch afterwards."""
    real = {name: module for name, module in sys.modules.items() if name == "torch" or name.startswith("torch.")}
    for name in real:
        del sys.modules[name]
    finder = TorchAlias()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if n == "torch" or n.startswith("torch.")]:
            del sys.modules[name]
        sys.modules.update(real)


def load_script(path: Path, on_gradscope: bool, name: str | None = None):
    """`path` imported as a module (its top level runs), with torch being gradscope or PyTorch."""
    spec = importlib.util.spec_from_file_location(name or f"outsider_{path.stem}_{on_gradscope}", path)
    module = importlib.util.module_from_spec(spec)
    with torch_is_gradscope() if on_gradscope else contextlib.nullcontext():
        spec.loader.exec_module(module)
    return module


def printed_by(path: Path, on_gradscope: bool) -> list[str]:
    """The lines `path` prints when run, the library's default dtype restored after it."""
    import gradscope  # noqa: PLC0415 - the library whose defaults a script may change, with torch's
    libraries = [gradscope] + ([sys.modules["torch"]] if "torch" in sys.modules else [])
    defaults = [(library, library.get_default_dtype()) for library in libraries]
    stdout = io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout):
            load_script(path, on_gradscope)
    finally:
        for library, dtype in defaults:
            library.set_default_dtype(dtype)
    return stdout.getvalue().splitlines()
