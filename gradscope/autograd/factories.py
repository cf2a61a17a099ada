"""Tensor factories and the default random generator (`manual_seed`), PyTorch's CPU stream."""

from __future__ import annotations

import functools
import math
import operator

import numpy as np

from gradscope import _dtypes
from gradscope._quiet import loud, quiet
from gradscope._shapes import first_non_int, int_argument
from gradscope.autograd import legacy, writes
from gradscope.autograd.functions import _infer_dtype, _to_array
from gradscope.autograd.generator import Generator
from gradscope.autograd.tensor import Tensor, check_device
from gradscope.ops import ranges

default_generator = Generator()  # torch.default_generator: like PyTorch's, seeded at random when the process starts
default_generator.seed()
_new_tensor = object.__new__


def manual_seed(seed: int) -> Generator:
    """Seed the default generator behind rand/randn/uniform_/normal_/nn.init/…: after the same seed these give
    PyTorch's CPU values (see gradscope.autograd.generator for what is exact and what only seeded)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state: PyTorch's bytes (uint8), see Generator.get_state."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    default_generator.set_state(new_state)


def draw_seed(generator: Generator | None) -> int:
    """`int(torch.empty((), dtype=torch.int64).random_(generator=generator))`: the seed PyTorch's data loading
    draws (each DataLoader iterator, an unseeded RandomSampler), two words of the stream."""
    return int((generator or default_generator).integers_fill((), np.dtype(np.int64), 0, 2**63))


def _size(size, name: str = "") -> tuple:
    """A shape given as numbers or as one sequence, each an int (or anything with __index__: a NumPy integer, a 0-dim
    integer tensor); a float is PyTorch's TypeError, where int() truncated it (zeros(2, 3.5) was 2 x 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    try:
        return tuple(map(operator.index, size))
    except TypeError:
        raise _not_ints(size, name) from None


def _not_ints(size, name: str) -> TypeError:
    """PyTorch's parser's words for a size element that isn't an int: its first element decides whether the size is
    a list of ints at all (that element named at pos 0); a later one fails to unpack (named by 1-based position)."""
    position, kind = first_non_int(size)
    if position == 0:
        return TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, but found element of type "
                         f"{kind} at pos 0")
    return TypeError(f"{name}(): argument 'size' failed to unpack the object at pos {position + 1} with error "
                     f'"type must be tuple of ints,but got {kind}"')


def _finish(data: np.ndarray, requires_grad: bool) -> Tensor:
    """A new tensor on `data`, memory just allocated for it: private to gradscope (writes.allocated)."""
    t = _wrap(writes.allocated(data))
    if requires_grad:
        t._set_requires_grad(True, "Only Tensors of floating point and complex dtype can require gradients")
    return t


def _wrap(data: np.ndarray) -> Tensor:
    t = _new_tensor(Tensor)
    t._init(data)
    return t


def _float_dtype(dtype) -> np.dtype:
    return _dtypes.to_numpy_dtype(dtype) if dtype is not None else _dtypes.get_default_dtype().numpy


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor copying `data` (nested lists, numbers, ndarrays or tensors)."""
    try:
        array = np.array(_to_array(data), copy=True)
    except ValueError as error:
        raise _uneven(data) or error from None
    if dtype is not None:
        target = _dtypes.to_numpy_dtype(dtype)
        if target.kind in "iu" and array.dtype.kind in "fiuO" and array.size and not isinstance(
                data, (np.ndarray, Tensor, np.generic)):
            if array.dtype.kind != "i" and _python_ints(data):
                _check_int64(array)
            _check_integers(array, target)
    elif isinstance(data, (np.ndarray, Tensor, np.generic)):
        target = array.dtype  # arrays keep their dtype; only Python numbers get the defaults
    else:
        try:
            target = (_sequence_dtype(data) if isinstance(data, (list, tuple)) else _INT64 if type(data) is int
                      else None) or _infer_dtype(array)
        except TypeError:
            if array.dtype.kind in "US":
                raise _strings(data) from None
            raise
        if target == _INT64 and array.dtype.kind in "uOf":  # NumPy held an int past int64's range: uint64,
            _check_int64(array)  # object, or float64 beside other ints
    token = quiet()  # a value out of the dtype's range becomes inf as in PyTorch, without NumPy's warning
    try:
        array = array.astype(target, copy=False)
    finally:
        loud(token)
    return _finish(array, requires_grad)


_BOOL, _INT64 = np.dtype(np.bool_), np.dtype(np.int64)


def _python_ints(data) -> bool:
    """Whether `data` is a Python int or a (nested) sequence of Python ints and bools."""
    return type(data) is int or (isinstance(data, (list, tuple)) and _sequence_dtype(data) == _INT64)


def _check_int64(array: np.ndarray) -> None:
    """Python ints that make an int64 tensor: PyTorch's parser unpacks each as a C long long, and refuses one out of
    its range (NumPy's cast would wrap 2**63 to -2**63, silently)."""
    if any(not -(1 << 63) <= int(value) < 1 << 63 for value in array.flat):
        raise ValueError("Overflow when unpacking long long")


def _strings(data) -> Exception:
    """PyTorch's error for strings in tensor data: its parser takes a string met where it reads sizes (down the
    first elements) for a sequence of too many dimensions, one met among the values for a value of the wrong type."""
    probe = data
    while isinstance(probe, (list, tuple)) and probe:
        probe = probe[0]
    if isinstance(probe, str) and probe is not data:
        return ValueError("too many dimensions 'str'")
    return TypeError("new(): invalid data type 'str'")


def _uneven(data) -> Exception | None:
    """PyTorch's error for nested sequences that aren't a block: the sizes are read down the first elements, then
    every sequence is checked against its dim's, depth first (None when `data` is a block)."""
    sizes, probe = [], data
    while isinstance(probe, (list, tuple)):
        sizes.append(len(probe))
        if not probe:
            break
        probe = probe[0]

    def check(sequence, dim: int) -> Exception | None:
        if dim == len(sizes) or sizes[dim] == 0:  # NOTE: PyTorch looks no deeper than an empty first sequence
            return None
        if not isinstance(sequence, (list, tuple)):
            return TypeError("not a sequence")
        if len(sequence) != sizes[dim]:
            return ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} (got {len(sequence)})")
        return next((found for item in sequence if (found := check(item, dim + 1)) is not None), None)

    return check(data, 0)


def _sequence_dtype(data: list | tuple) -> np.dtype | None:
    """The dtype PyTorch infers for a sequence: each element's own (a NumPy scalar's, an array's or a tensor's
    dtype; bool, int64 or the default float or complex dtype for a Python number), promoted with
    torch.promote_types. `torch.tensor([np.float64(2)])` is float64 and `[np.int32(1)]` int32, where the whole
    list's NumPy dtype would give float32 and int64. None for an empty sequence or an element of another type
    (the caller's inference then decides, or NumPy refuses it). Elements are grouped by type, so a long list of
    Python floats costs one pass in C."""
    result = None
    for kind in set(map(type, data)):
        if issubclass(kind, (list, tuple)):
            found = [_sequence_dtype(item) for item in data if type(item) is kind]
            if any(d is None for d in found) and any(len(item) for item in data if type(item) is kind):
                return None
            found = [d for d in found if d is not None]
        elif issubclass(kind, (np.ndarray, np.generic)):
            found = {item.dtype for item in data if type(item) is kind}
        elif kind is Tensor:
            found = {item._data.dtype for item in data if type(item) is kind}
        elif issubclass(kind, bool):
            found = (_BOOL,)
        elif issubclass(kind, int):
            found = (_INT64,)
        elif issubclass(kind, float):
            found = (_dtypes.get_default_dtype().numpy,)
        elif issubclass(kind, complex):
            found = (np.dtype(np.complex64 if _dtypes.get_default_dtype().numpy == np.float32 else np.complex128),)
        else:
            return None
        for d in found:
            result = d if result is None else _dtypes.promote_types(result, d)
    return result


def _check_integers(values: np.ndarray, target: np.dtype) -> None:
    """PyTorch's conversion of Python numbers into an integer dtype: NaN, ±inf and values out of its range refused (an
    unsigned one takes negative ints down to -max, wrapped, and no negative float), where a cast would wrap them
    silently."""
    info = np.iinfo(target)
    # an unsigned type takes ints down to -max (wrapped), floats from 0 only (a list mixing the two: floats' rule)
    low = (0 if values.dtype.kind == "f" else -int(info.max)) if target.kind == "u" else int(info.min)
    with np.errstate(invalid="ignore"):
        outside = (values < low) | (values > int(info.max))
        if values.dtype.kind == "f":
            outside |= ~np.isfinite(values)
    if outside.any():
        raise RuntimeError(f"value cannot be converted to type {target.name} without overflow")


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """`data` itself when it is a tensor (or an ndarray, sharing its memory) of `dtype` or no dtype is asked
    for; a tensor of another dtype goes through `.to(dtype)`, in the graph as in PyTorch (ToCopyBackward0).

    >>> torch.as_tensor(torch.ones(2, requires_grad=True), dtype=torch.float64).grad_fn
    <ToCopyBackward0 object at 0x...>
    """
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or _dtypes.to_numpy_dtype(dtype) == data.dtype):
        return from_numpy(data)
    return tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing `array`'s memory (the caller's: not private, see gradscope.autograd.writes)."""
    _dtypes.from_numpy_dtype(array.dtype)
    return _wrap(array)


def _shape(dims: tuple, size, name: str) -> tuple:
    """The shape a factory is given: as numbers or one sequence (`zeros(2, 3)`, `zeros((2, 3))`), or as the keyword
    `size=` (`torch.empty(size=(n, m))`, as the GAT example writes it), in PyTorch's words when it is neither."""
    if size is None:
        if not dims:
            raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
        return _size(dims, name)
    if dims:
        raise TypeError(f"{name}() got multiple values for argument 'size'")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"{name}(): argument 'size' must be tuple of ints, not {type(size).__name__}")
    return _size((size,), name)


def _filled(fill, shape, dtype, requires_grad, name: str = "") -> Tensor:
    try:
        return _finish(np.full(shape, fill, dtype=_float_dtype(dtype)), requires_grad)
    except ValueError as error:
        raise negative_size(shape, name) or error from None


def negative_size(shape: tuple, name: str = "") -> RuntimeError | None:
    """PyTorch's error for a size with a negative dimension (None when it has none): zeros words its own."""
    if not any(int(n) < 0 for n in shape):
        return None
    if name == "zeros":
        return RuntimeError("zeros: Dimension size must be non-negative.")
    first = next(int(n) for n in shape if int(n) < 0)
    return RuntimeError(f"Trying to create tensor with negative dimension {first}: {[int(n) for n in shape]}")


def check_std(std: float) -> None:
    """A number std must not be negative (PyTorch's words, its C++ formatting of the number)."""
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")


def zeros(*dims, size=None, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    if out is not None:
        return _filled_out("zeros", 0, _shape(dims, size, "zeros"), dtype, requires_grad, out)
    return _filled(0, _shape(dims, size, "zeros"), dtype, requires_grad, "zeros")


def ones(*dims, size=None, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    if out is not None:
        return _filled_out("ones", 1, _shape(dims, size, "ones"), dtype, requires_grad, out)
    return _filled(1, _shape(dims, size, "ones"), dtype, requires_grad)


def _filled_out(name: str, fill, shape, dtype, requires_grad, out: Tensor) -> Tensor:
    """zeros/ones written into `out` (resized to `shape`), in its dtype."""
    from gradscope.autograd.out_arg import write_made  # noqa: PLC0415 - out= is rare; out_arg sits above this

    return write_made(name, None, _filled(fill, shape, dtype or out.dtype, requires_grad, name), out)


def empty(*dims, size=None, dtype=None, device=None, requires_grad=False, memory_format=None, out=None) -> Tensor:
    # uninitialised in PyTorch; zeros here, which is one valid "uninitialised" content
    if out is not None:
        return _filled_out("empty", 0, _shape(dims, size, "empty"), dtype, requires_grad, out)
    return _filled(0, _shape(dims, size, "empty"), dtype, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    if dtype is not None:
        np_dtype = _dtypes.to_numpy_dtype(dtype)
    elif type(fill_value) is int:  # int64, where NumPy makes uint64 or object of an int past int64's range
        np_dtype = _INT64
    else:
        np_dtype = _infer_dtype(np.asarray(fill_value))
    fill_value = _dtypes.checked_scalar(fill_value, np_dtype)
    if not isinstance(size, (tuple, list)):  # full's size is one sequence: full(2, 3) is no 2-element fill
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    shape = _size((size,), "full")
    try:
        data = np.full(shape, fill_value, dtype=np_dtype)
    except ValueError as error:
        raise negative_size(shape) or error from None
    return _finish(data, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    for name, count in (("n", n), ("m", m)):
        if count is not None and count < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {count}")
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """[start, end) by step, as PyTorch's CPU kernel fills it (gradscope.ops.ranges): integer arguments give
    int64, any float the default dtype; an integer dtype truncates start, end and step first."""
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if dtype is None:
        np_dtype = np.dtype(np.int64) if all(isinstance(v, (int, np.integer)) for v in values) \
            else _dtypes.get_default_dtype().numpy
    else:
        np_dtype = _dtypes.to_numpy_dtype(dtype)
    if np_dtype.kind in "cb":
        name = _dtypes.from_numpy_dtype(np_dtype).legacy_name.removesuffix("Tensor")
        raise NotImplementedError(f'"arange_cpu" not implemented for \'{name}\'')
    start, end, step = (float(v) for v in values)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {_c_number(start)} -> {_c_number(end)}")
    integral = np_dtype.kind in "iub"
    if np_dtype == np.int64:  # PyTorch counts int64 ranges in int64, exactly (a double loses ints past 2**53)
        for value in values:
            _dtypes.checked_scalar(value, np_dtype)
        first, last, stride = (int(v) for v in values)  # a float truncated, as C's conversion
    elif integral:
        first, last, stride = (float(int(v)) for v in (start, end, step))
    else:
        first, last, stride = start, end, step
    if stride == 0:  # a fractional step an integer dtype truncates to 0
        if np_dtype == np.int64:
            raise ValueError("step must be nonzero")
    elif not ((stride > 0 and last >= first) or (stride < 0 and last <= first)):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if np_dtype == np.int64:  # counted in int64 from the truncated bounds
        sign = (stride > 0) - (stride < 0)
        span, stride_int = int(last) - int(first) + int(stride) - sign, int(stride)
        size = abs(span) // abs(stride_int) * (1 if (span >= 0) == (stride_int > 0) else -1)  # C's division
    else:
        size = math.ceil((end - start) / step)
    if not 0 <= size <= 2**63 - 1:
        raise RuntimeError("invalid size, possible overflow?")
    if integral:
        data = (int(first) + int(stride) * np.arange(size, dtype=np.int64)).astype(np_dtype)
    elif np_dtype.kind == "f":
        data = ranges.arange_values(start, step, size, np_dtype)
    else:
        data = (start + step * np.arange(size, dtype=np.float64)).astype(np_dtype)
    return _finish(data, requires_grad)


def _c_number(value: float) -> str:
    """A double as C++'s stream prints it (6 significant digits, no trailing zeros): 0, 2.5, inf."""
    return f"{value:g}"


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """`steps` values from start to end, both included, as PyTorch's CPU kernel computes them
    (gradscope.ops.ranges)."""
    steps = int(steps.item() if isinstance(steps, Tensor) else steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    for value in (start, end):
        if type(value) is int:
            _dtypes.scalar_int(value)  # PyTorch's Scalar: OverflowError beyond 64 bits
    np_dtype = _float_dtype(dtype)
    if dtype is None and any(isinstance(v, complex) for v in (start, end)):
        np_dtype = np.result_type(np_dtype, np.complex64)  # the default dtype's complex counterpart
    if np_dtype in (np.float16, np.float32, np.float64):
        data = ranges.linspace_values(start, end, steps, np_dtype)
    else:
        data = np.linspace(start, end, steps).astype(np_dtype)
    return _finish(data, requires_grad)


def rand(*dims, size=None, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    shape = _shape(dims, size, "rand")
    try:
        data = (generator or default_generator).uniform_fill(shape, _float_dtype(dtype), 0, 1)
    except ValueError as error:
        raise negative_size(shape) or error from None
    return _finish(data, requires_grad)


def randn(*dims, size=None, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    shape = _shape(dims, size, "randn")
    try:
        data = (generator or default_generator).normal_fill(shape, _float_dtype(dtype), 0, 1)
    except ValueError as error:
        raise negative_size(shape) or error from None
    return _finish(data, requires_grad)


_RANDINT_FORMS = "".join(
    f" * ({form}tuple of ints size, *, {generator}Tensor out = None, torch.dtype dtype = None, torch.layout layout = "
    f"None, torch.device device = None, bool pin_memory = False, bool requires_grad = False)\n"
    for form in ("int high, ", "int low, int high, ") for generator in ("torch.Generator generator, ", ""))


def randint(*args, low=None, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    # (low, high, size) by position or by name: only `low` tells them apart, as PyTorch's parser reads a `low`
    # keyword as the form randint(low, high, size), which then needs `high` (randint(high, size) has no low)
    if low is not None and high is None and not args:
        raise TypeError('randint() missing 2 required positional argument: "high", "size"')
    if len(args) > 3:
        raise TypeError(f"randint() takes from 1 to 3 positional arguments but {len(args)} were given")
    named = {"low": low, "high": high, "size": size}
    for name, value in zip(named, args):
        if named[name] is not None:
            raise TypeError(f"randint() got multiple values for argument '{name}'")
        named[name] = value
    low, high, size = named.values()
    if high is None and (low is None or size is None):
        got = type(low).__name__ if low is not None else f"size={type(size).__name__}, " if size is not None else ""
        raise TypeError(f"randint() received an invalid combination of arguments - got ({got}), but expected one "
                        f"of:\n{_RANDINT_FORMS}")
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
        position = 2
    else:
        if high is None:  # randint(high, size=size)
            low, high = 0, low
        elif low is None:  # randint(high=high, size=size)
            low = 0
        position = 3
    for value in (low, high):
        if type(value) is int and not -(1 << 63) <= value < 1 << 63:  # the parser's int64 arguments
            raise ValueError("Overflow when unpacking long long")
    if isinstance(size, int):  # PyTorch's parser wants a sequence: randint(5, 6) is no 6-element draw
        raise TypeError(f"randint(): argument 'size' (position {position}) must be tuple of ints, not int")
    np_dtype = _dtypes.to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    shape = _size((size,), "randint")
    if negative_size(shape):
        raise negative_size(shape)
    values = (generator or default_generator).integers_fill(shape, np_dtype, int(low), int(high))
    return _finish(values, requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    n = int_argument(n, "randperm", "n", 1)
    return _finish((generator or default_generator).permutation_fill(n), requires_grad)


def normal(mean, std, size, *, generator=None) -> Tensor:
    check_std(std)
    shape = _size((size,), "normal")
    if negative_size(shape):
        raise negative_size(shape)
    return _finish((generator or default_generator).normal_fill(shape, _float_dtype(None), mean, std), False)


def _like(values, input, dtype, requires_grad) -> Tensor:
    np_dtype = _dtypes.to_numpy_dtype(dtype) if dtype is not None else input._data.dtype
    return _finish(np.asarray(values, dtype=np_dtype), requires_grad)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    return _like(np.zeros(input._data.shape), input, dtype, requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    return _like(np.ones(input._data.shape), input, dtype, requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    return zeros_like(input, dtype=dtype, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    fill_value = _dtypes.checked_scalar(fill_value, _like_dtype(input, dtype))
    return _like(np.full(input._data.shape, fill_value), input, dtype, requires_grad)


def _like_dtype(input, dtype) -> np.dtype:
    return _dtypes.to_numpy_dtype(dtype) if dtype is not None else input._data.dtype


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    values = (generator or default_generator).uniform_fill(input._data.shape, _like_dtype(input, dtype), 0, 1)
    return _finish(values, requires_grad)


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    values = (generator or default_generator).normal_fill(input._data.shape, _like_dtype(input, dtype), 0, 1)
    return _finish(values, requires_grad)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, device=None, requires_grad=False,
                 memory_format=None) -> Tensor:
    if high is None:
        low, high = 0, low
    values = (generator or default_generator).integers_fill(input._data.shape, _like_dtype(input, dtype), int(low),
                                                            int(high))
    return _finish(values, requires_grad)


class _LegacyTensorType(type):
    """`torch.FloatTensor(2, 3)` makes a float32 Tensor; `isinstance(t, torch.FloatTensor)` checks the dtype."""

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and instance._data.dtype == cls.dtype.numpy

    def __call__(cls, *args, **kwargs):
        return legacy.new(Tensor, args, kwargs, cls.dtype.numpy, any_tensor=False)


class FloatTensor(metaclass=_LegacyTensorType):
    dtype = _dtypes.float32


class DoubleTensor(metaclass=_LegacyTensorType):
    dtype = _dtypes.float64


class LongTensor(metaclass=_LegacyTensorType):
    dtype = _dtypes.int64


class IntTensor(metaclass=_LegacyTensorType):
    dtype = _dtypes.int32


class BoolTensor(metaclass=_LegacyTensorType):
    dtype = _dtypes.bool


class ShortTensor(metaclass=_LegacyTensorType):
    dtype = _dtypes.int16


class CharTensor(metaclass=_LegacyTensorType):
    dtype = _dtypes.int8


class ByteTensor(metaclass=_LegacyTensorType):
    dtype = _dtypes.uint8


class HalfTensor(metaclass=_LegacyTensorType):
    dtype = _dtypes.float16


def _on_cpu(factory):
    """`factory` refusing a device other than the CPU (device='cuda' is an error with a hint, not ignored)."""
    @functools.wraps(factory)
    def checked(*args, **kwargs):
        check_device(kwargs.get("device"))
        return factory(*args, **kwargs)
    return checked


for _factory in (tensor, as_tensor, zeros, ones, empty, full, eye, arange, linspace, rand, randn, randint, randperm,
                 zeros_like, ones_like, empty_like, full_like, rand_like, randn_like, randint_like):
    globals()[_factory.__name__] = _on_cpu(_factory)
