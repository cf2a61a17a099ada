"""Analytic VJPs through either library, and the central differences they are checked against.

Everything here takes `lib` (see `samples.Lib`) so the same code drives gradscope and torch.
Inputs and cotangents are float64 ndarrays; results are lists of ndarrays, one per input.
"""

from __future__ import annotations

import zlib

import numpy as np
from samples import Sample


class Lib:
    """gradscope or torch, with its functional namespace (mse_loss, nll_loss …) as `F`."""

    def __init__(self, module, functional) -> None:
        self.module = module
        self.F = functional

    def __getattr__(self, name: str):
        return getattr(self.module, name)


def rng_for(sample: Sample, purpose: str) -> np.random.Generator:
    """A generator seeded by the sample and what it is used for: reruns draw the same numbers."""
    return np.random.default_rng(zlib.crc32(f"{sample.name}/{purpose}".encode()))


def differentiable_outputs(result) -> list:
    """The floating outputs of a call (a max(dim) call also returns integer indices)."""
    outputs = list(result) if isinstance(result, tuple) else [result]
    return [out for out in outputs if out.dtype.is_floating_point]


def as_array(tensor) -> np.ndarray:
    return np.array(tensor.detach().numpy(), dtype=np.float64)


def evaluate(lib: Lib, sample: Sample, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """The sample's floating outputs at `arrays`, without recording a graph."""
    with lib.no_grad():
        result = sample.fn(lib, *[lib.tensor(a) for a in arrays])
        return [as_array(out) for out in differentiable_outputs(result)]


def cotangents(sample: Sample, outputs: list[np.ndarray], purpose: str = "u") -> list[np.ndarray]:
    rng = rng_for(sample, purpose)
    return [rng.standard_normal(out.shape) for out in outputs]


def _grads_or_zeros(grads, like) -> list[np.ndarray]:
    return [np.zeros_like(a) if g is None else as_array(g) for g, a in zip(grads, like, strict=True)]


def vjp(lib: Lib, sample: Sample, arrays: list[np.ndarray], cotangent: list[np.ndarray]) -> list[np.ndarray]:
    """u^T J at `arrays` by reverse mode: one backward pass with `cotangent` as grad_outputs."""
    inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
    outputs = differentiable_outputs(sample.fn(lib, *inputs))
    assert all(out.requires_grad for out in outputs), f"{sample.name}: a floating output does not require grad"
    grads = lib.autograd.grad(outputs, inputs, [lib.tensor(u) for u in cotangent], allow_unused=True)
    return _grads_or_zeros(grads, arrays)


def _inner(us: list[np.ndarray], vs: list[np.ndarray]) -> float:
    return float(sum(np.vdot(u, v) for u, v in zip(us, vs, strict=True)))


def numeric_vjp(function, arrays: list[np.ndarray], cotangent: list[np.ndarray], eps: float) -> list[np.ndarray]:
    """u^T J by central differences, one input element at a time (`function` maps arrays to arrays)."""
    grads = []
    for i, array in enumerate(arrays):
        grad = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            shifted = [a.copy() for a in arrays]
            shifted[i][index] = array[index] + eps
            plus = function(shifted)
            shifted[i][index] = array[index] - eps
            minus = function(shifted)
            grad[index] = (_inner(cotangent, plus) - _inner(cotangent, minus)) / (2 * eps)
        grads.append(grad)
    return grads


def numeric_directional(function, arrays: list[np.ndarray], direction: list[np.ndarray], eps: float) -> list:
    """J v by a central difference along `direction`."""
    plus = function([a + eps * v for a, v in zip(arrays, direction, strict=True)])
    minus = function([a - eps * v for a, v in zip(arrays, direction, strict=True)])
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus, strict=True)]


def second_order(lib: Lib, sample: Sample, arrays: list[np.ndarray], cotangent: list[np.ndarray],
                 weights: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The first-order VJP computed with create_graph=True, and the gradient of <weights, VJP>
    with respect to the inputs and the cotangent (a double backward)."""
    inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
    grad_outputs = [lib.tensor(u, requires_grad=True) for u in cotangent]
    outputs = differentiable_outputs(sample.fn(lib, *inputs))
    first = lib.autograd.grad(outputs, inputs, grad_outputs, create_graph=True, allow_unused=True)
    differentiable = [(g, lib.tensor(w)) for g, w in zip(first, weights, strict=True)
                      if g is not None and g.requires_grad]
    wrt = inputs + grad_outputs
    if not differentiable:  # a constant gradient: its own gradient is zero
        return _grads_or_zeros(first, arrays), [np.zeros_like(a) for a in arrays + cotangent]
    second = lib.autograd.grad([g for g, _ in differentiable], wrt, [w for _, w in differentiable],
                               allow_unused=True)
    return _grads_or_zeros(first, arrays), _grads_or_zeros(second, arrays + cotangent)
