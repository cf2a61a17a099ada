"""Running a PyTorch script in this process twice, with the real `torch` and with `torch` resolving to gradscope
(test_outsider_scripts.py and test_outsider_tutorial_scripts.py share it), and a snippet's outcome on either library
(the test_outsider_*_vs_torch.py snippet tests)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

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


def snippet_outcome(code: str, lib):
    """What a snippet's last expression gives with `T` (and `F`, its nn.functional) being `lib` (gradscope or torch):
    tensors as (dtype, shape, values, grad_fn name, requires_grad), or the exception's type and message."""
    def described(value):
        if isinstance(value, lib.Tensor):
            node = type(value.grad_fn).__name__ if value.grad_fn is not None else None
            data = value.detach().resolve_conj() if value.is_complex() else value.detach()
            return "tensor", str(value.dtype), tuple(value.shape), np.asarray(data.numpy()), node, value.requires_grad
        if isinstance(value, (tuple, list)):
            return [described(v) for v in value]
        if isinstance(value, dict):
            return {k: described(v) for k, v in value.items()}
        if isinstance(value, lib.dtype):
            return "dtype", str(value)
        return value

    *statements, last = code.strip().split("\n")
    scope = {"T": lib, "F": lib.nn.functional}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec("\n".join(statements), scope)
            return described(eval(last, scope))
    except Exception as error:  # noqa: BLE001 - the exception is the outcome compared
        return type(error).__name__, str(error)


def same_outcome(ours, theirs) -> bool:
    """Equal, but for arrays: float16 values to one rounding, float32 to float32 rounding, float64 to 1e-12."""
    if isinstance(ours, np.ndarray) and isinstance(theirs, np.ndarray):
        if ours.shape != theirs.shape or ours.dtype != theirs.dtype:
            return False
        tolerance = {np.float16: 1e-3, np.float32: 1e-6, np.complex64: 1e-6}.get(ours.dtype.type, 1e-12)
        if ours.dtype.kind not in "fc":
            return bool(np.array_equal(ours, theirs))
        return bool(np.allclose(ours, theirs, rtol=tolerance, atol=tolerance, equal_nan=True))
    if isinstance(ours, (tuple, list)) and isinstance(theirs, (tuple, list)):
        return len(ours) == len(theirs) and all(same_outcome(a, b) for a, b in zip(ours, theirs, strict=True))
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(same_outcome(ours[k], theirs[k]) for k in ours)
    return ours == theirs
