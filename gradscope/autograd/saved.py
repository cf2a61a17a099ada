"""Saved tensors: what a node keeps for backward, with version checks and pack/unpack hooks."""

from __future__ import annotations

import weakref

import numpy as np

from gradscope._quiet import loud, quiet
from gradscope.autograd import errors, observers
from gradscope.autograd.grad_mode import ModeSwitch, is_anomaly_enabled

# the innermost saved_tensors_hooks(pack, unpack) pair of this thread, or None
default_hooks = ModeSwitch("saved_hooks")

_NUMBERS = (int, float, bool, complex)

FLOAT64_SCALARS: dict = {}  # Python float -> its read-only 0-dim float64 array
FLOAT32_SCALARS: dict = {}


def scalar_array(value: float, dtype, arrays: dict):
    """`value` as a 0-dim array of `dtype` (float32 or float64), kept in `arrays` (FLOAT64_SCALARS or
    FLOAT32_SCALARS) for the next time, at most 256 values. NumPy's path for a Python number costs ~1.4k
    instructions a ufunc call more than for an array; the values are the same."""
    if value == 0 or value != value:  # NOTE: as keys 0.0 and -0.0 are one, and no nan finds another
        return value
    token = quiet()  # a float32 overflows to inf without a warning, as in the operation itself
    try:
        array = np.array(value, dtype)
    finally:
        loud(token)
    array.flags.writeable = False
    if len(arrays) >= 256:
        arrays.clear()
    arrays[value] = array
    return array


# A version counter is a one-element list `[n]`, shared by a tensor, its views and its detach()es and
# bumped by every in-place op: a list literal is the cheapest mutable cell to make once per tensor.


class SavedTensor:
    """One tensor saved for backward (PyTorch's torch._C._autograd.SavedTensor).

    An input is kept by reference, so `_saved_self is x`. An output of the saving node keeps only
    its array (no reference cycle through the node); unpacking makes a new tensor whose grad_fn is
    that node, so `_saved_result` equals but is not the output. Methods that need the node take it
    as an argument: the node always knows itself.
    """

    # NOTE: `_view_node` (a weakref to the grad_fn of the view an in-place op wrote, for its saved output, set by
    # inplace._inplace_recorded) is set only there: read with getattr, so that no other saved value pays for it
    __slots__ = ("_array", "_tensor", "_counter", "_version", "_output_nr", "_creator", "_is_output",
                 "_requires_grad", "_packed", "_unpack", "_freed", "_owner", "_accumulator", "_view_node")

    def __init__(self, value, is_output: bool = False, output_nr: int = 0) -> None:
        self._freed = False
        self._unpack = None  # set with _packed by saved-tensor hooks
        self._owner = None  # weakref to the node, set when `_raw_saved_*` hands this out
        self._accumulator = None  # a leaf input's AccumulateGrad, kept once hooks replace the input
        self._is_output = is_output
        if type(value) in _NUMBERS:  # a Python number, e.g. the 2 in `x * 2`
            self._array, self._tensor, self._counter, self._creator, self._output_nr = value, None, None, None, 0
            self._requires_grad = False
            return
        if value._is_inference:
            raise RuntimeError(errors.INFERENCE_SAVED)
        self._array = value._data
        self._requires_grad = value._requires_grad
        self._counter = counter = value._version_counter
        self._version = counter[0]
        if is_output:
            self._tensor = self._creator = None
            self._output_nr = output_nr
        else:
            self._tensor = value
            self._creator = value._node
            self._output_nr = value._output_nr
        hooks = default_hooks.get()
        if hooks is not None:
            self._set_hooks(*hooks, value, value)

    def _set_hooks(self, pack, unpack, value, original) -> None:
        # NOTE: hooks replace the reference to the input; a leaf input keeps its AccumulateGrad (PyTorch's
        # grad_accumulator_), so what unpack returns under create_graph still leads back to the leaf
        if not self._is_output and original._node is None and original._requires_grad:
            self._accumulator = original._grad_accumulator()._handed_out()  # then it holds the leaf
        version = value._version_counter[0]
        self._packed = pack(value)
        if value._version_counter[0] != version:  # as PyTorch: the tensor the graph saved may not change under it
            raise RuntimeError(errors.PACK_HOOK_IN_PLACE)
        self._unpack = unpack
        self._array = self._tensor = None

    def register_hooks(self, pack_hook, unpack_hook) -> None:
        """Replace how this saved tensor is stored: `pack_hook` runs now, `unpack_hook` on every access."""
        if self._freed:
            raise RuntimeError(
                "Calling register_hooks on a saved tensor after it has been freed. Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need "
                "to backward through the graph a second time or if you need to access saved variables after calling "
                "backward.")
        if self._unpack is not None:
            raise RuntimeError(
                "Calling register_hooks on a saved tensor whose hooks have already been set. "
                "Hint: only one pair of hooks is allowed at a time."
            )
        # lazy: saved values sit below the tensor (nodes hold them); only hooks and unpacking meet tensors
        from gradscope.autograd.tensor import Tensor
        plain = Tensor._make(self._array if self._array is not None else np.asarray(self._array))
        plain._version_counter = self._counter or plain._version_counter
        self._set_hooks(pack_hook, unpack_hook, plain, self._tensor if self._tensor is not None else plain)

    def _raise_stale(self, node) -> None:
        if self._freed:
            raise RuntimeError(errors.FREED)
        # an input names its current producer: an in-place op since saving gave it a new grad_fn
        # (an output that needs no gradient, as max's indices, names none: PyTorch saved it as a leaf)
        creator = (node if self._requires_grad else None) if self._is_output else (
            self._tensor.grad_fn if self._tensor is not None else self._creator)
        name = creator._forward_name() if creator is not None else None
        data = self._array if self._array is not None else self.unpack_unchecked(node)._data
        raise RuntimeError(errors.modified_inplace(
            data.dtype, data.shape, name, self._output_nr, self._counter[0], self._version,
            anomaly=is_anomaly_enabled()))

    def check_attached(self) -> None:
        """Backward may not use an input that was not a leaf when saved and has since been detached in place:
        its history is gone (with hooks the node keeps it, and PyTorch lets that through)."""
        if self._creator is not None and self._tensor is not None and self._tensor._node is None:
            raise RuntimeError(errors.DETACHED_SAVED)

    def array(self, node=None):
        """The saved value as an ndarray (or Python number), for first-order backward. A value packed by
        saved-tensor hooks is what the unpack hook gives, not version-checked (the pack hook may have copied it),
        as in PyTorch."""
        if self._freed or (self._unpack is None and self._counter is not None and self._counter[0] != self._version):
            self._raise_stale(node)
        self.check_attached()
        if self._unpack is not None:
            return self.unpack_unchecked(node)._data
        return self._array

    def unpack(self, node=None):
        """The saved value as a Tensor (an input comes back as itself)."""
        if self._freed or (self._unpack is None and self._counter is not None and self._counter[0] != self._version):
            self._raise_stale(node)
        return self.unpack_unchecked(node)

    def unpack_unchecked(self, node=None):
        from gradscope.autograd.tensor import Tensor  # lazy: as in register_hooks
        if self._unpack is not None:
            value = self._unpack(self._packed)
            if not isinstance(value, Tensor):
                raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got result of "
                                f"type {type(value).__name__}")
            # the hook's tensor is re-wrapped with the saved tensor's autograd metadata, as in PyTorch
            out = Tensor._make(value._data, self._requires_grad or self._is_output)
            out._version_counter = value._version_counter
            out._node = self._output_node(node) if self._is_output else self._creator
            out._output_nr = self._output_nr
            if self._accumulator is not None:
                out._accumulator_ref = weakref.ref(self._accumulator)
            return out
        if self._tensor is not None:
            return self._tensor
        if self._is_output:
            differentiable = node is not None and self._requires_grad  # e.g. max's indices are not
            out = Tensor._make(self._array, differentiable)
            out._node = self._output_node(node) if differentiable else None
            out._output_nr, out._version_counter = self._output_nr, self._counter
            if observers.dual_level is not None:  # forward AD over a backward: the output's tangent comes too
                observers.dual_level.unpacked_output(self, out, node)
            return out
        if self._array is None:  # an optional tensor that was not given (PyTorch's undefined SavedVariable)
            return None
        return Tensor._make(np.asarray(self._array))

    def _output_node(self, node):
        """The grad_fn of this saved output of `node` when unpacked: `node`'s, or, for an in-place op's on a view,
        the view's (see inplace._inplace_recorded) while it lives."""
        view_node = getattr(self, "_view_node", None)
        if view_node is not None and (replay := view_node()) is not None:
            return replay
        return node

    def free(self) -> None:
        self._freed = True
        self._array = self._tensor = self._packed = self._accumulator = None


_new = object.__new__


def save_input(value):
    """What a node keeps of an input: a Python number as it is (the 2 in `x * 2`), an absent optional
    tensor as None (layer_norm without weight), a tensor as a SavedTensor (built here without the
    class call: this is the engine's hot path)."""
    if value is None or type(value) in _NUMBERS:
        return value
    if value._is_inference or default_hooks.get() is not None:
        return SavedTensor(value)
    saved = _new(SavedTensor)
    saved._freed = False
    saved._unpack = None
    saved._owner = saved._accumulator = None
    saved._is_output = False
    saved._array = value._data
    saved._requires_grad = value._requires_grad
    saved._counter = counter = value._version_counter
    saved._version = counter[0]
    saved._tensor = value
    saved._creator = value._node
    saved._output_nr = value._output_nr
    return saved
