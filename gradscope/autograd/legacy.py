"""The legacy constructors `torch.Tensor(...)`, `torch.FloatTensor(...)` … and `Tensor.new(...)`.

PyTorch parses them against five signatures, first match wins:
`()`, `(Storage)`, `(Tensor other)` (an alias), `(tuple of ints size)` (uninitialised; zeros here)
and `(object data)` (a copy converted to the constructor's dtype), each with an optional `device=`.
`torch.Tensor(2, 3)` and `torch.Tensor(t.size())` are shapes; `torch.Tensor([2, 3])` and
`torch.Tensor((2, 3))` are data.
"""

from __future__ import annotations

import numpy as np

from gradscope import _dtypes
from gradscope.autograd.dispatch import apply
from gradscope.autograd.functions import _to_array
from gradscope.autograd.tensor import Size, Tensor, _c_type_name, device
from gradscope.ops import shape as S

_SIGNATURES = (  # PyTorch's, as its error lists them, with the argument count its matcher gives each
    ("(*, torch.device device = None)", 2),
    ("(torch.Storage storage)", 1),
    ("(Tensor other)", 1),
    ("(tuple of ints size, *, torch.device device = None)", 3),
    ("(object data, *, torch.device device = None)", 3),
)


def new(cls: type, args: tuple, kwargs: dict, np_dtype: np.dtype, any_tensor: bool) -> Tensor:
    """A tensor of class `cls` made by a legacy constructor whose dtype is `np_dtype`. `any_tensor`: an
    alias of a tensor of any dtype is allowed (torch.Tensor), not only of this one (FloatTensor, new)."""
    if set(kwargs) - {"device"}:
        raise TypeError(_invalid_combination(args, kwargs))
    device(kwargs.get("device") or "cpu")
    if not args:
        return _made(cls, np.zeros((0,), dtype=np_dtype))
    first = args[0]
    if len(args) == 1 and isinstance(first, Tensor):
        if not any_tensor and first._data.dtype != np_dtype:
            raise TypeError(f"expected {_options(np_dtype)} (got {_options(first._data.dtype)})")
        return apply(S.alias, (first,))
    if (isinstance(first, Size) and len(args) == 1) or _is_int(first):
        return _made(cls, np.zeros(_shape(args), dtype=np_dtype))
    if len(args) > 1:
        raise TypeError(_invalid_combination(args, kwargs))
    if isinstance(first, str):
        raise TypeError(f"new(): invalid data type '{type(first).__name__}'")
    if not isinstance(first, (list, tuple, range, np.ndarray)) or np.ndim(first) == 0:
        raise TypeError(f"new(): data must be a sequence (got {_type_name(first)})")
    return _made(cls, np.array(_to_array(first)).astype(np_dtype))


def _made(cls: type, data: np.ndarray) -> Tensor:
    t = object.__new__(cls)
    t._init(data)
    return t


def _is_int(value) -> bool:
    if isinstance(value, Tensor):
        return value._data.ndim == 0 and value._data.dtype.kind in "iu"
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _shape(args: tuple) -> tuple:
    sizes = tuple(args[0]) if isinstance(args[0], Size) and len(args) == 1 else args
    for position, size in enumerate(sizes, start=1):
        if not _is_int(size):
            raise TypeError(f"new(): argument 'size' failed to unpack the object at pos {position} with error "
                            f'"type must be tuple of ints,but got {_type_name(size)}"')
    shape = tuple(int(size) for size in sizes)
    if any(size < 0 for size in shape):
        negative = next(size for size in shape if size < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative}: {list(shape)}")
    return shape


def _options(np_dtype: np.dtype) -> str:
    return (f"TensorOptions(dtype={_c_type_name(np.dtype(np_dtype))}, device=cpu, layout=Strided, requires_grad=false "
            "(default), pinned_memory=false (default), memory_format=(nullopt))")


def _type_name(value) -> str:
    if isinstance(value, Size):
        return "torch.Size"
    if isinstance(value, Tensor):
        return "Tensor"
    if isinstance(value, _dtypes.dtype):
        return "torch.dtype"
    if isinstance(value, device):
        return "torch.device"
    module = type(value).__module__
    return type(value).__name__ if module == "builtins" else f"{module}.{type(value).__name__}"


def _described(value) -> str:
    """How PyTorch's argument matcher shows a value: containers with their element types."""
    if isinstance(value, list):
        return f"list of [{', '.join(_type_name(item) for item in value)}]"
    if isinstance(value, tuple):
        items = ", ".join(_type_name(item) for item in value)
        return f"{_type_name(value)} of ({items}{',' if len(value) == 1 else ''})"
    return _type_name(value)


def _invalid_combination(args: tuple, kwargs: dict) -> str:
    """PyTorch's "invalid combination of arguments" TypeError, reasons given where the counts match."""
    given = [_type_name(arg) for arg in args] + [f"{key}={_type_name(value)}" for key, value in kwargs.items()]
    got = ", ".join(given) if args else "".join(f"{item}, " for item in given)
    lines = [f"new() received an invalid combination of arguments - got ({got}), but expected one of:"]
    extra = [key for key in kwargs if key != "device"]
    for signature, count in _SIGNATURES:
        lines.append(f" * {signature}")
        if len(args) + len(kwargs) != count:
            continue
        if extra:
            lines.append(f"      didn't match because some of the keywords were incorrect: {', '.join(extra)}")
        else:
            marked = ", ".join(f"!{_described(arg)}!" for arg in args)
            lines.append(f"      didn't match because some of the arguments have invalid types: ({marked})")
    return "\n".join(lines) + "\n"


def tensor_new(cls, *args, **kwargs) -> Tensor:
    """Legacy constructor: `Tensor(2, 3)` and `Tensor(t.size())` are uninitialised (here: zeros) of that
    shape, `Tensor([1, 2])` copies data as float32, `Tensor(t)` is an alias of t."""
    return new(cls, args, kwargs, _dtypes.get_default_dtype().numpy, any_tensor=True)


def tensor_method_new(self, *args, **kwargs) -> Tensor:
    """The legacy constructor with this tensor's dtype: `x.new(2, 3)`, `x.new([1, 2])`."""
    return new(Tensor, args, kwargs, self._data.dtype, any_tensor=False)
