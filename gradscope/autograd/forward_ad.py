"""Forward-mode AD (torch.autograd.forward_ad): dual tensors carry a tangent through every op.

    >>> with dual_level():
    ...     y = (make_dual(x, v) * 2).sin()
    ...     jvp = unpack_dual(y).tangent          # J·v, in one forward pass

No op has a JVP formula of its own: a primitive's VJP rule is linear in the output's gradient g, so
J·t = ∂/∂g ⟨Jᵀg, t⟩, taken with the engine's double-backward support (rules are differentiable ops) on a
node built from the op's own outputs (the forward never runs twice, so random ops draw nothing more). A
view's tangent is the same view of its input's tangent, and an in-place op writes the new tangent into the
target's, so writes through a view and through its base meet, as in PyTorch.

While a level is entered it is a process-wide observer (PyTorch's levels are process-wide too): the
dispatcher takes its general path and hands the level every op it runs (`observers.dual_level`). With no
level nothing here runs, and the dispatcher's fast paths stay as they are.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import NamedTuple

import numpy as np

from gradscope.autograd import engine, observers
from gradscope.autograd.complex_functions import conj, real
from gradscope.autograd.dispatch import _record, apply
from gradscope.autograd.grad_mode import _DecoratorContextManager, enable_grad, grad_enabled, inference_enabled
from gradscope.autograd.node import Node
from gradscope.autograd.saved import SavedTensor
from gradscope.autograd.tensor import Tensor
from gradscope.ops import shape as S

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual"]

_current_level = -1


class UnpackedDualTensor(NamedTuple):
    """What `unpack_dual` returns: the primal and its tangent (None when it has none)."""

    primal: Tensor
    tangent: Tensor | None


class _Level:
    """The entered level: the tensors given a tangent (to drop them all when it exits), and whether tangents
    flow now (not while a custom Function's forward runs, nor inside this module's own computations)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.duals: dict[int, weakref.ref] = {}  # id -> the tensor given a tangent (an entry goes with its tensor)
        self.enabled = True

    def set_tangent(self, tensor: Tensor, tangent: Tensor, laid_out: bool = False) -> None:
        """Give `tensor` its tangent. A new one (`laid_out` False) is copied to the tensor's memory layout when it
        has another, as PyTorch does: a view of the tensor must be possible as the same view of its tangent. (A
        view's tangent, the same view of its input's, is laid out like the view already.)"""
        data = tangent._data
        if not laid_out:
            like = np.empty_like(tensor._data, dtype=data.dtype)
            if type(data) is not np.ndarray or data.strides != like.strides:
                like[...] = data
                tangent = Tensor._make(like)
        tensor._tangent = tangent
        key = id(tensor)
        duals = self.duals
        # NOTE: the entry goes when its tensor does: a long loop inside one level keeps no dead entries
        duals[key] = weakref.ref(tensor, lambda ref: duals.pop(key) if duals.get(key) is ref else None)

    def drop_tangents(self) -> None:
        for ref in list(self.duals.values()):
            tensor = ref()
            if tensor is not None:
                tensor.__dict__.pop("_tangent", None)
        self.duals.clear()

    def unpacked_output(self, saved, tensor: Tensor, node) -> None:
        """A backward under create_graph unpacked a saved output of `node`: it has the output's tangent, so that
        forward AD over the backward (gradgradcheck's check_fwd_over_rev) sees the output depend on the inputs."""
        kept = node.__dict__.get("_output_tangents") if node is not None else None
        if kept is not None and kept[0] is self:  # kept at this level, not an exited one
            tangent = kept[1].get(saved._output_nr)
            if tangent is not None:
                self.set_tangent(tensor, tangent, laid_out=True)

    @contextlib.contextmanager
    def paused(self):
        enabled, self.enabled = self.enabled, False
        try:
            yield
        finally:
            self.enabled = enabled

    def tangent_of(self, tensor: Tensor) -> Tensor | None:
        """The tensor's tangent; a view of a base that has one (given after the view was made) gets that view
        of the base's tangent."""
        tangent = tensor._tangent
        if tangent is None and _shares_base_tangent(tensor):
            base_tangent = tensor._base._tangent
            if base_tangent is not None:
                with self.paused():
                    tangent = _replay(tensor._view_chain, base_tangent)
                self.set_tangent(tensor, tangent, laid_out=True)
        return tangent

    # ------------------------------------------------------------------ what the dispatcher hands over
    def propagate(self, op, inputs, params: tuple, arrays, outputs: tuple) -> None:
        """Give `outputs` their tangents, if any input of `op` has one (none in inference mode, as in PyTorch)."""
        if not self.enabled or inference_enabled.get():
            return
        tangents = [self.tangent_of(x) if isinstance(x, Tensor) else None for x in inputs]
        if all(t is None for t in tangents):
            return
        indices = op.differentiable_outputs or range(len(outputs))
        differentiable = [k for k in indices if outputs[k]._data.dtype.kind in "fc"]
        if not differentiable:  # integer and boolean outputs get no tangent
            return
        # NOTE: no observer sees the ops and passes computing tangents (a recording would show them as the user's,
        # anomaly mode would call a NaN tangent from 0·∞ an error, which PyTorch doesn't)
        with self.paused(), observers.muted(self):
            if op.view:  # the same view of the input's tangent
                if tangents[0] is not None:
                    views = apply(op, (tangents[0],), params)
                    for k in differentiable:
                        self.set_tangent(outputs[k], views if op.n_outputs == 1 else views[k], laid_out=True)
                return
            try:
                if _linear_in_its_inputs(op, params):
                    jvps = [_jvp_of_linear(op, inputs, params, tangents)]
                else:
                    jvps = _jvp(op, inputs, params, arrays, outputs, tangents, differentiable)
            except (NotImplementedError, RuntimeError) as error:
                if "not implemented" not in str(error):
                    raise
                raise NotImplementedError(
                    f"Trying to use forward AD with {op.name} that does not support it because it has not been "
                    "implemented yet.\n(gradscope derives forward AD from the op's backward formula, and that "
                    f"formula is not differentiable: {error})") from error
            for k, tangent in zip(differentiable, jvps):
                self.set_tangent(outputs[k], tangent)
        node = outputs[differentiable[0]]._node
        if any(isinstance(entry, SavedTensor) and entry._is_output for entry in getattr(node, "_saved", None) or ()):
            # the node saved an output: it keeps the outputs' tangents (as long as it lives) for `unpacked_output`
            node._output_tangents = (self, {k: outputs[k]._tangent for k in differentiable})

    def written(self, target: Tensor, result: Tensor) -> None:
        """`result` was written into `target` in place: its tangent goes into the target's (made, as zeros, for
        the target or its base when they had none: `base[1:].add_(dual)` gives the base a tangent)."""
        if not self.enabled or inference_enabled.get():
            return
        new = result._tangent if result._data.dtype.kind in "fc" else None
        tangent = self.tangent_of(target)
        if new is None and tangent is None:
            return
        if tangent is None:
            owner = target._base if _shares_base_tangent(target) else target
            self.set_tangent(owner, Tensor._make(np.zeros_like(owner._data)))
            tangent = self.tangent_of(target)
        _overwrite(tangent, 0 if new is None else new._data)

    def function_jvp(self, function, ctx, args: tuple, outputs: tuple) -> None:
        """A custom Function's outputs get the tangents its `jvp` gives (PyTorch's errors when it has none, or
        gives the wrong number, kinds or sizes)."""
        tangents = [self.tangent_of(a) if isinstance(a, Tensor) else None for a in args]
        if all(t is None for t in tangents) or inference_enabled.get():
            return
        # NOTE: as PyTorch, a tensor argument without a tangent gets zeros, any other argument None
        tangents = [Tensor._make(np.zeros_like(a._data)) if t is None and isinstance(a, Tensor) else t
                    for a, t in zip(args, tangents)]
        ctx._in_jvp = True
        try:
            with self.paused():
                results = function.jvp(ctx, *tangents)
        finally:
            ctx._in_jvp = False
        results = results if isinstance(results, tuple) else (results,)
        if len(results) != len(outputs):
            raise RuntimeError(f"Function's jvp returned an invalid number of forward gradients (expected "
                               f"{len(outputs)} but got {len(results)})")
        for i, (output, tangent) in enumerate(zip(outputs, results)):
            if tangent is None:
                continue
            if not isinstance(tangent, Tensor):
                raise RuntimeError(f"expected Variable or None (got {type(tangent).__name__}) for grad output {i}.")
            if isinstance(output, Tensor) and output._data.dtype.kind in "fc":
                _check_size(output, tangent)
                if output._tangent is not None:  # an input modified in place (mark_dirty): its tangent, in place
                    _overwrite(output._tangent, tangent._data)
                else:
                    self.set_tangent(output, tangent)

    def carry(self, target: Tensor, snapshot: Tensor) -> None:
        """`snapshot` stands for `target`'s old value in an in-place op: it has the same tangent."""
        tangent = self.tangent_of(target)
        if tangent is not None:
            self.set_tangent(snapshot, tangent, laid_out=True)

    def restrided(self, tensor: Tensor, view_op, params: tuple) -> None:
        """`tensor` became a new view of its memory (transpose_, squeeze_ …): its tangent, the same view."""
        tangent = tensor._tangent
        if tangent is not None and self.enabled:
            with self.paused():
                self.set_tangent(tensor, apply(view_op, (tangent,), params), laid_out=True)


def _shares_base_tangent(tensor: Tensor) -> bool:
    """Whether `tensor`'s tangent is its view of its base's: a view, not made from an unpacked primal."""
    return tensor._base is not None and bool(tensor._view_chain) and not any(
        step is _PRIMAL for step in tensor._view_chain)


def _overwrite(tangent: Tensor, values) -> None:
    """Write new values into a tangent in place: the views of it (other tensors' tangents) see them."""
    data = tangent._data
    np.copyto(data, np.broadcast_to(values, data.shape), casting="unsafe")
    tangent._version_counter[0] += 1


def _replay(chain, tensor: Tensor) -> Tensor:
    for op, params, index in chain:
        tensor = apply(op, (tensor,), params)
        if index is not None:
            tensor = tensor[index]
    return tensor


def _linear_in_its_inputs(op, params: tuple) -> bool:
    """The scatters that add or write (`scatter_reduce` by sum or mean): their JVP is the op on the tangents,
    PyTorch's formula. The VJP can't give it when `src` is larger than the index: only the corner the index
    covers is read, and the VJP returns that corner's gradient, which the engine refuses as the wrong shape
    (PyTorch's backward refuses it too; its forward AD computes it)."""
    name = op.name
    return name == "scatter" or name == "scatter_add" or name == "scatter_reduce" and params[2] in ("sum", "mean")


def _jvp_of_linear(op, inputs, params, tangents) -> Tensor:
    """J·t of an op linear in its inputs: the op on their tangents (zeros for an input without one). In grad mode
    it is differentiable in the tangents, as PyTorch's is."""
    tangents = [Tensor._make(np.zeros_like(x._data)) if t is None else t for x, t in zip(inputs, tangents)]
    return apply(op, tuple(tangents), params)


def _jvp(op, inputs, params, arrays, outputs, tangents, differentiable) -> list:
    """J·t for the outputs `differentiable`, by differentiating ⟨VJP(g), t⟩ in g. The node runs on stand-ins
    for the inputs: leaves for the ones with a tangent (what the VJP is taken for), aliases of the ones that
    require grad (so that, in grad mode, the tangent is differentiable in them as PyTorch's is)."""
    track = grad_enabled.get() and any(
        isinstance(x, Tensor) and x._requires_grad or t is not None and t._requires_grad
        for x, t in zip(inputs, tangents))
    with enable_grad():
        stand_ins = []
        for x, tangent in zip(inputs, tangents):
            if not isinstance(x, Tensor):
                stand_ins.append(x)
            elif track and x._requires_grad:
                stand_ins.append(apply(S.alias, (x,)))
            else:
                stand_ins.append(Tensor._make(x._data, tangent is not None))
        results = [Tensor._make(o._data) for o in outputs]
        _record(op, stand_ins, params, arrays, results)
        wrt = [s for s, t in zip(stand_ins, tangents) if t is not None]
        # NOTE: ones, not zeros: the rules are linear in the gradient, but some compute it through its logarithm
        # (logcumsumexp), undefined at zero
        cotangents = [Tensor._make(np.ones_like(results[k]._data), True) for k in differentiable]
        vjps = engine.grad([results[k] for k in differentiable], wrt, cotangents, create_graph=True,
                           allow_unused=True)
        total = None
        for vjp, tangent in zip(vjps, [t for t in tangents if t is not None]):
            if vjp is not None:
                if vjp._data.dtype.kind == "c" or tangent._data.dtype.kind == "c":
                    # ⟨VJP(g), t⟩ over the reals, Re Σ conj(VJP(g))·t: its gradient in g is J·t in PyTorch's convention
                    term = real(conj(vjp) * tangent).sum()
                else:
                    term = (vjp * tangent).sum()
                total = term if total is None else total + term
        if total is None or not total._requires_grad:
            jvps = [None] * len(cotangents)
        else:
            jvps = engine.grad((total,), cotangents, allow_unused=True, create_graph=track)
    return [Tensor._make(np.zeros_like(g._data)) if jvp is None else jvp if track else Tensor._make(jvp._data)
            for g, jvp in zip(cotangents, jvps)]


# ------------------------------------------------------------------------------- the API
def enter_dual_level() -> int:
    """Enter a new forward grad level (only one at a time); returns its index."""
    global _current_level
    if observers.dual_level is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    level = _Level(_current_level + 1)
    observers.dual_level = level
    observers.add_global(level)
    _current_level = level.index
    return level.index


def exit_dual_level(*, level: int | None = None) -> None:
    """Exit the level entered last: every tangent it holds is dropped."""
    global _current_level
    if level is None:
        level = _current_level
    if level != _current_level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. This is "
                           "not supported.")
    entered = observers.dual_level
    if entered is None or level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    observers.dual_level = None
    observers.remove_global(entered)
    entered.drop_tangents()
    _current_level = level - 1


class dual_level(_DecoratorContextManager):  # noqa: N801 - PyTorch's name
    """The block where forward AD computes: tangents made inside are dropped when it ends.

    >>> with dual_level():
    ...     out = f(make_dual(x, v))
    ...     _, jvp = unpack_dual(out)
    """

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc) -> None:
        exit_dual_level()




def _check_size(tensor: Tensor, tangent: Tensor) -> None:
    if tangent._data.shape != tensor._data.shape:
        raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                           f"Tensor, this is not supported. Tensor is of size {list(tensor._data.shape)} while the "
                           f"given forward gradient is of size {list(tangent._data.shape)}.")


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of `tensor` carrying `tangent` (kept as it is): differentiable in reverse mode too."""
    entered = observers.dual_level
    if level is None and entered is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    for name, value in (("primal", tensor), ("tangent", tangent)):
        if not isinstance(value, Tensor):
            raise AttributeError(f"'{type(value).__name__}' object has no attribute 'is_floating_point'")
        if value._data.dtype.kind not in "fc":
            raise ValueError(f"Expected {name} to be floating point or complex, but got: {value.dtype}")
    if level is not None and entered is None:
        raise RuntimeError("Trying to access a forward AD level with an invalid index. This index was either not "
                           "created or is already deleted.")
    if level is not None and level != entered.index:
        raise RuntimeError("Invalid level given to _make_dual")
    _check_size(tensor, tangent)
    if entered.tangent_of(tensor) is not None:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward gradient at the same "
                           f"level {entered.index} is not supported.")
    with entered.paused():
        dual = apply(S.view, (tensor,), (tensor._data.shape,))
    entered.set_tangent(dual, tangent)
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """`(primal, tangent)`: in a level, the primal is a view of `tensor` without its tangent, the tangent is as
    it is (None when it has none); outside any (or for another level), `tensor` itself and None."""
    entered = observers.dual_level
    if level is None and entered is None:
        return UnpackedDualTensor(tensor, None)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"_unpack_dual(): argument 'dual' (position 1) must be Tensor, not {type(tensor).__name__}")
    if entered is None or level is not None and level != entered.index:
        return UnpackedDualTensor(tensor, None)
    tangent = entered.tangent_of(tensor)
    if not entered.enabled:  # inside a custom Function's forward or jvp, tensors show no tangent
        tangent = None
    with entered.paused():
        primal = apply(S.alias, (tensor,))
    if primal._view_chain:  # the primal, and every view of it, takes no tangent from `tensor`: PyTorch's
        primal._view_chain = primal._view_chain[:-1] + (_PRIMAL,)  # is a view that isn't forward-differentiable
    alias = primal._node
    if alias is not None:  # PyTorch's node for the primal
        primal._node = node = Identity()
        node._next, node._seq, node._input_meta = alias._next, alias._seq, alias._input_meta
    return UnpackedDualTensor(primal, tangent)


# the step of an unpacked primal's view chain: an alias, told from others by identity
_PRIMAL = (S.alias, (), None)


class Identity(Node):
    """grad_fn of an unpacked primal: the gradient passes through."""

    def name(self) -> str:
        return "torch::autograd::Identity"

    def _apply(self, grads, xp, needs):
        return [grads[0]]
