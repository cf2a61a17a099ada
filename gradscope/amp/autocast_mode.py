"""`torch.autocast`: a context manager (and decorator) that enables autocast for a device type."""

from __future__ import annotations

import functools
import warnings

from gradscope import _dtypes

# device types PyTorch's device parser knows, in its error message's order
_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
                 "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
_DEFAULT_DTYPE = {"cpu": "bfloat16"}  # every other device: float16

_enabled: dict[str, bool] = {}
_dtype: dict[str, _dtypes.dtype] = {}
_warned_full_precision = False


def _check_device_type(device_type) -> str:
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type not in _DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device string: "
                           f"{device_type}")
    return device_type


def is_autocast_available(device_type: str) -> bool:
    return _check_device_type(device_type) == "cpu"


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for `device_type` (CUDA's when none is named, as in PyTorch)."""
    return _enabled.get("cuda" if device_type is None else _check_device_type(device_type), False)


def get_autocast_dtype(device_type: str) -> _dtypes.dtype:
    device_type = _check_device_type(device_type)
    default = getattr(_dtypes, _DEFAULT_DTYPE.get(device_type, "float16"))
    return _dtype.get(device_type, default)


class autocast:  # noqa: N801 - named as torch.autocast
    """`with torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None):`, or a decorator."""

    def __init__(self, device_type: str, dtype: _dtypes.dtype | None = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        self.device = _check_device_type(device_type)
        self.fast_dtype = get_autocast_dtype(self.device) if dtype is None else dtype
        self._enabled = bool(enabled)
        self._cache_enabled = True if cache_enabled is None else bool(cache_enabled)
        if self.device == "cpu":
            if self._enabled and self.fast_dtype not in (_dtypes.bfloat16, _dtypes.float16):
                warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                              "CPU Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.",
                              UserWarning, stacklevel=2)
                self._enabled = False
        elif self._enabled:
            message = ("CUDA is not available or torch_xla is imported. Disabling autocast." if self.device == "cuda"
                       else f"User specified an unsupported autocast device_type '{self.device}'")
            warnings.warn(message, UserWarning, stacklevel=2)
            self._enabled = False

    def __enter__(self) -> autocast:
        global _warned_full_precision
        self._previous = (_enabled.get(self.device, False), _dtype.get(self.device))
        _enabled[self.device] = self._enabled
        _dtype[self.device] = self.fast_dtype
        if self._enabled and not _warned_full_precision:
            _warned_full_precision = True
            warnings.warn(f"gradscope runs autocast regions in full precision: its ops keep their inputs' dtypes "
                          f"where PyTorch would compute matrix products and convolutions in {self.fast_dtype}, so "
                          "results differ from PyTorch's in their low bits", UserWarning, stacklevel=2)
        return self

    def __exit__(self, *exc_info) -> None:
        was_enabled, dtype = self._previous
        _enabled[self.device] = was_enabled
        if dtype is None:
            _dtype.pop(self.device, None)
        else:
            _dtype[self.device] = dtype

    def __call__(self, function):
        @functools.wraps(function)
        def autocast_wrapper(*args, **kwargs):
            with self:
                return function(*args, **kwargs)
        return autocast_wrapper
