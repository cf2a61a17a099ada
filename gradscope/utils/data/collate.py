"""PyTorch's default collate: a list of samples becomes one batch of the same structure."""

from __future__ import annotations

import collections.abc
import copy

import numpy as np

from gradscope import _dtypes
from gradscope.autograd.factories import as_tensor, tensor
from gradscope.autograd.shape_functions import stack
from gradscope.autograd.tensor import Tensor

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)
_NOT_NUMERIC = ("U", "S", "O")


def _is_numpy(value) -> bool:
    return type(value).__module__ == "numpy" and not isinstance(value, (np.str_, np.bytes_))


def _rebuild(elem, values):
    """A container of `elem`'s type holding `values`, or a plain list/dict when that type can't be built."""
    if isinstance(elem, collections.abc.MutableMapping):
        clone = copy.copy(elem)
        clone.update(values)
        return clone
    if isinstance(elem, collections.abc.Mapping):
        try:
            return type(elem)(values)
        except TypeError:
            return values
    if isinstance(elem, collections.abc.MutableSequence):
        clone = copy.copy(elem)
        clone[:] = values
        return clone
    try:
        return type(elem)(values)
    except TypeError:
        return values


def default_collate(batch):
    """Stack tensors, turn numbers and arrays into tensors, recurse into tuples, lists, dicts, namedtuples.

        default_collate([(torch.zeros(2), 1), (torch.ones(2), 0)])  # [tensor of shape (2, 2), tensor([1, 0])]
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if _is_numpy(elem):
        if isinstance(elem, np.ndarray):
            if elem.dtype.char in _NOT_NUMERIC:
                raise TypeError(default_collate_err_msg_format.format(elem.dtype))
            return default_collate([as_tensor(b) for b in batch])
        if elem.shape == ():
            return as_tensor(np.asarray(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=_dtypes.float64)
    if isinstance(elem, int):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if not all(len(sample) == size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = [default_collate(samples) for samples in zip(*batch)]  # tuples: strings stay a tuple
        if isinstance(elem, tuple):
            return transposed  # PyTorch returns a list for tuples, for backward compatibility
        return _rebuild(elem, transposed)
    raise TypeError(default_collate_err_msg_format.format(type(elem)))


def default_convert(data):
    """Without batching: NumPy arrays and scalars become tensors; containers are converted inside."""
    if isinstance(data, Tensor):
        return data
    if _is_numpy(data):
        if isinstance(data, np.ndarray) and data.dtype.char in _NOT_NUMERIC:
            return data
        if isinstance(data, (np.ndarray, np.generic)):
            return as_tensor(data)
        return data
    if isinstance(data, collections.abc.Mapping):
        return _rebuild(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild(data, [default_convert(d) for d in data])
    return data
