"""`torch.backends.mkl`: gradscope has no oneMKL build of its own; `verbose(...)` is a block that logs nothing."""

from __future__ import annotations

VERBOSE_OFF = 0
VERBOSE_ON = 1


def is_available() -> bool:
    return False


class verbose:  # noqa: N801 - PyTorch's name
    """`with torch.backends.mkl.verbose(torch.backends.mkl.VERBOSE_ON):` — no oneMKL, so nothing to log."""

    def __init__(self, enable) -> None:
        self.enable = enable

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> bool:
        return False
