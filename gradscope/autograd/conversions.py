"""torch.asarray, scalar_tensor, empty_strided, empty_permuted, frombuffer, from_dlpack and the deprecated
set_default_tensor_type: tensors made from Python objects, buffers, NumPy arrays and other tensors, with PyTorch
2.13's sharing, copying and requires_grad rules.

    >>> a = np.ones(3)
    >>> t = gradscope.asarray(a)   # shares a's memory, as PyTorch's does
    >>> t[0] = 5; a[0]
    5.0
"""

from __future__ import annotations

import numbers

import numpy as np

from gradscope import _dtypes
from gradscope.autograd import errors, factories
from gradscope.autograd.factories import _finish, _size, from_numpy, tensor
from gradscope.autograd.tensor import Tensor

ASARRAY_REQUIRES_GRAD = ("torch.asarray: unspecified requires_grad now defaults to obj.requires_grad instead of False. "
                         "Pass requires_grad=False explicitly to get the old behavior and silence this warning.")


def c_type_name(dtype: np.dtype) -> str:
    """How PyTorch's C++ messages name a dtype ('float', 'double', 'int64_t', 'c10::complex<float>')."""
    names = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "int64_t", "int32": "int",
             "int16": "short", "int8": "int8_t", "uint8": "uint8_t", "bool": "bool", "complex64": "c10::complex<float>",
             "complex128": "c10::complex<double>"}
    return names.get(str(dtype), str(dtype))


def _alias_error(source: str, dtype) -> ValueError:
    return ValueError(f"can't alias tensor with dtype '{source}' into dtype '{dtype.legacy_name[: -len('Tensor')]}'.")


def _from_tensor(obj: Tensor, dtype, copy) -> Tensor:
    """`obj` itself, or its copy (CloneBackward0, or ToCopyBackward0 into another dtype, in the graph)."""
    wrong_dtype = dtype is not None and dtype != obj.dtype
    if copy or (copy is None and wrong_dtype):
        return obj.to(dtype) if wrong_dtype else obj.clone()
    if wrong_dtype:
        raise _alias_error(obj.dtype.legacy_name[: -len("Tensor")], dtype)
    return obj


def _from_array(obj: np.ndarray, dtype, copy) -> Tensor:
    """A tensor sharing `obj`'s memory when neither a copy nor another dtype is asked for."""
    if any(step < 0 for step in obj.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with negative strides "
                         "are not currently supported. (You can probably work around this by making a copy of your "
                         "array  with array.copy().) ")
    target = obj.dtype if dtype is None else _dtypes.to_numpy_dtype(dtype)
    if copy is False and target != obj.dtype:
        raise _alias_error(_dtypes.from_numpy_dtype(obj.dtype).legacy_name[: -len("Tensor")], dtype)
    if copy or target != obj.dtype:
        return tensor(obj, dtype=dtype)
    return from_numpy(obj)


def asarray(obj, *, dtype=None, device=None, copy: bool | None = None, requires_grad: bool | None = None) -> Tensor:
    """`obj` as a tensor, sharing memory with a tensor or ndarray unless `copy=True` or another `dtype` asks for a
    copy (`copy=False` then raises); a sequence or number is always copied, its dtype inferred as torch.tensor's.

    As PyTorch 2.13, an unspecified `requires_grad` is `obj`'s (warning once when that is True): a tensor comes back
    as it is, in its graph; `requires_grad=False` detaches a non-leaf and sets a leaf's flag in place, as PyTorch's
    does.

    >>> gradscope.asarray([1, 2]).dtype, gradscope.asarray(np.ones(2, dtype=np.float64)).dtype
    (torch.int64, torch.float64)
    """
    if isinstance(obj, Tensor):
        if requires_grad is None:
            requires_grad = obj.requires_grad
            if requires_grad:
                errors.warn_once("asarray_requires_grad", ASARRAY_REQUIRES_GRAD)
        result = _from_tensor(obj, dtype, copy)
    elif isinstance(obj, np.ndarray):
        result = _from_array(obj, dtype, copy)
    else:
        if copy is False:
            raise ValueError("can't alias arbitrary sequence into a tensor.")
        if obj is None or isinstance(obj, (str, bytes)):
            raise (RuntimeError("Could not infer dtype of NoneType") if obj is None
                   else TypeError(f"new(): invalid data type '{type(obj).__name__}'"))
        result = tensor(list(obj) if isinstance(obj, range) else obj, dtype=dtype)
    if not requires_grad:
        return result.detach() if result.grad_fn is not None else result.requires_grad_(False)
    if result.grad_fn is None:
        result._set_requires_grad(True, errors.INT_REQUIRES_GRAD)
    return result


def scalar_tensor(s, *, dtype=None, layout=None, device=None, pin_memory: bool = False,
                  requires_grad: bool = False) -> Tensor:
    """A 0-dim tensor holding the number `s`, in the default dtype unless `dtype` says otherwise (an integer too:
    scalar_tensor(1) is tensor(1.)).

    >>> gradscope.scalar_tensor(3)
    tensor(3.)
    """
    if isinstance(s, Tensor):
        s = s.item()
    if not isinstance(s, numbers.Number):
        raise TypeError(f"scalar_tensor(): argument 's' (position 1) must be Number, not {type(s).__name__}")
    target = _dtypes.get_default_dtype().numpy if dtype is None else _dtypes.to_numpy_dtype(dtype)
    if isinstance(s, complex) and target.kind != "c":
        raise RuntimeError(f"value cannot be converted to type {c_type_name(target)} without overflow")
    return _finish(np.array(s).astype(target), requires_grad)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
                  pin_memory: bool = False) -> Tensor:
    """An uninitialised (here: zero) tensor of `size` whose elements lie `stride` elements apart in its memory,
    as PyTorch lays it out (`.stride()` gives `stride` back; a 0 stride repeats one element).

    >>> gradscope.empty_strided((2, 3), (1, 2)).stride()
    (1, 2)
    """
    for name, position, value in (("size", 1, size), ("stride", 2, stride)):
        if not isinstance(value, (tuple, list)):
            raise TypeError(f"empty_strided(): argument '{name}' (position {position}) must be tuple of ints, not "
                            f"{type(value).__name__}")
    size, stride = _size((size,), "empty_strided"), _size((stride,), "empty_strided")
    if len(size) != len(stride):
        raise RuntimeError(f"dimensionality of sizes ({len(size)}) must match dimensionality of strides "
                           f"({len(stride)})")
    for extent in size:
        if extent < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {extent}: {list(size)}")
    if any(step < 0 for step in stride):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and strides={list(stride)}")
    target = _dtypes.get_default_dtype().numpy if dtype is None else _dtypes.to_numpy_dtype(dtype)
    # the storage PyTorch allocates: one past the last element's offset
    storage = 0 if 0 in size else 1 + sum((extent - 1) * step for extent, step in zip(size, stride))
    memory = np.zeros(storage, dtype=target)
    data = np.lib.stride_tricks.as_strided(memory, size, tuple(step * target.itemsize for step in stride),
                                           writeable=True)
    return _finish(data, requires_grad)


def frombuffer(buffer, *, dtype=None, count: int = -1, offset: int = 0, requires_grad: bool = False) -> Tensor:
    """A 1-D tensor over `count` elements of `dtype` (all, by default) of an object with the buffer protocol
    (bytearray, array.array, memoryview …) from byte `offset` on, sharing its memory. A read-only buffer (bytes) is
    copied, with PyTorch's warning (PyTorch shares it, writable).

    >>> gradscope.frombuffer(bytearray(b"\\x01\\x02"), dtype=gradscope.uint8)
    tensor([1, 2], dtype=torch.uint8)
    """
    if dtype is None:  # PyTorch's argument parser's words
        raise TypeError('frombuffer() missing 1 required positional arguments: "dtype"')
    target = _dtypes.to_numpy_dtype(dtype)
    length = memoryview(buffer).nbytes
    if length == 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if offset < 0 or offset >= length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than buffer length ({length} "
                         "bytes) minus 1")
    if count < 0 and (length - offset) % target.itemsize:
        raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} bytes) must be a multiple of "
                         f"element size ({target.itemsize})")
    if count > 0 and length - offset < count * target.itemsize:
        raise ValueError(f"requested buffer length ({count} * {target.itemsize} bytes) after offset ({offset} bytes) "
                         f"must not be greater than actual buffer length ({length} bytes)")
    array = np.frombuffer(buffer, dtype=target, count=count, offset=offset)
    if not array.flags.writeable:
        errors.warn_once("frombuffer_read_only", "The given buffer is not writable, and PyTorch does not support "
                         "non-writable tensors. This means you can write to the underlying (supposedly non-writable) "
                         "buffer using the tensor. You may want to copy the buffer to protect its data or make it "
                         "writable before converting it to a tensor. This type of warning will be suppressed for the "
                         "rest of this program.")
        return _finish(array.copy(), requires_grad)
    result = from_numpy(array)
    if requires_grad:
        result._set_requires_grad(True, errors.INT_REQUIRES_GRAD)
    return result


def from_dlpack(ext_tensor) -> Tensor:
    """A tensor sharing the memory of an object that exports DLPack (`__dlpack__`: a NumPy array, another library's
    CPU tensor).

    >>> a = np.arange(3.0); gradscope.from_dlpack(a)[0] = 7; a[0]
    7.0
    """
    return from_numpy(np.from_dlpack(ext_tensor))


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
                   pin_memory: bool = False) -> Tensor:
    """An uninitialised (here: zero) tensor of `size` whose dims lie in memory in the order `physical_layout`
    (outermost first): empty_permuted((2, 3, 4), (0, 2, 1)) has strides (12, 1, 3).

    >>> gradscope.empty_permuted((2, 3, 4), (0, 2, 1)).stride()
    (12, 1, 3)
    """
    size, order = _size((size,), "empty_permuted"), _size((physical_layout,), "empty_permuted")
    if sorted(order) != list(range(len(size))):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the physical_layout; i.e. "
                           f"len(size) = {len(size)} is not equal to len(physical_layout) = {len(order)}"
                           if len(order) != len(size) else "physical_layout is not a permutation")
    target = _dtypes.get_default_dtype().numpy if dtype is None else _dtypes.to_numpy_dtype(dtype)
    memory = np.zeros(tuple(size[d] for d in order), dtype=target)
    return _finish(memory.transpose(np.argsort(order)), requires_grad)


DEFAULT_TENSOR_TYPE_DEPRECATION = ("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                                   "torch.set_default_dtype() and torch.set_default_device() as alternatives.")


def set_default_tensor_type(t) -> None:
    """The deprecated way to set the default dtype, by a legacy tensor type or its name: set_default_tensor_type(
    torch.DoubleTensor) is set_default_dtype(torch.float64) (CUDA types are not available)."""
    if isinstance(t, str):
        module, _, name = t.rpartition(".")
        if module not in ("torch", "gradscope"):
            if module.startswith(("torch.cuda", "gradscope.cuda")):
                raise TypeError(f"type {t} not available. Torch not compiled with CUDA enabled.")
            raise ModuleNotFoundError(f"No module named '{t.split('.')[0]}'")
        if not hasattr(factories, name):
            raise AttributeError(f"module 'torch' has no attribute '{name}'")
        t = getattr(factories, name)
    errors.warn_once("set_default_tensor_type", DEFAULT_TENSOR_TYPE_DEPRECATION)
    dtype = getattr(t, "dtype", None)
    if not isinstance(t, type) or dtype is None:
        raise TypeError("invalid type object: only floating-point types are supported as the default type")
    if not dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _dtypes.set_default_dtype(dtype)
