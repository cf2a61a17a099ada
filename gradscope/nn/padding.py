"""Padding layers (constant, zero, reflection, replication, circular) over F.pad."""

from __future__ import annotations

from gradscope.autograd.tensor import Tensor
from gradscope.nn import functional as F
from gradscope.nn.module import Module


def _sides(padding, dims: int) -> tuple:
    return tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * (2 * dims)


class _PadNd(Module):
    _mode = "constant"
    _dims = 1

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _sides(padding, self._dims)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with `value`: `padding` is an int or (left, right)."""


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dims with `value`: `padding` is an int or (left, right, top, bottom)."""

    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last three dims with `value`: `padding` is an int or a 6-tuple, last dim first."""

    _dims = 3


class ZeroPad1d(ConstantPad1d):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    _mode = "reflect"


class ReflectionPad2d(_PadNd):
    _mode = "reflect"
    _dims = 2


class ReflectionPad3d(_PadNd):
    _mode = "reflect"
    _dims = 3


class ReplicationPad1d(_PadNd):
    _mode = "replicate"


class ReplicationPad2d(_PadNd):
    _mode = "replicate"
    _dims = 2


class ReplicationPad3d(_PadNd):
    _mode = "replicate"
    _dims = 3


class CircularPad1d(_PadNd):
    _mode = "circular"


class CircularPad2d(_PadNd):
    _mode = "circular"
    _dims = 2


class CircularPad3d(_PadNd):
    _mode = "circular"
    _dims = 3
