"""Running one call on gradscope and on torch and comparing what came out: graphs node by node, values, dtypes,
gradients (of a fixed weighted sum of every floating output), errors and warnings."""

from __future__ import annotations

import warnings

import numpy as np


def graph(tensor) -> list:
    """Node names depth first through next_functions (None for a null edge), each node once."""
    names, seen = [], set()

    def walk(node, depth):
        names.append((depth, None if node is None else type(node).__name__))
        if node is None or id(node) in seen:
            return
        seen.add(id(node))
        for next_node, _ in node.next_functions:
            walk(next_node, depth + 1)

    walk(tensor.grad_fn, 0)
    return names


def _array(lib, t) -> np.ndarray:
    t = t.detach()
    return t.resolve_conj().numpy() if hasattr(t, "resolve_conj") and lib.__name__ == "torch" else t.numpy()


def outcome(lib, call, arrays, create_graph: bool = False):
    """What `call(lib, *inputs)` gives: per output (type name of a named result, graph, dtype, values) and the
    gradients of Σ wᵢ·outputᵢ over the floating outputs; or the error's type and text."""
    inputs = [lib.tensor(a, requires_grad=a.dtype.kind in "fc") for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = call(lib, *inputs)
        except (RuntimeError, ValueError, TypeError, NotImplementedError) as error:
            return type(error).__name__, str(error).split(" (Triggered internally")[0]
    outputs = list(result) if isinstance(result, tuple) else [result]
    described = [type(result).__name__ if isinstance(result, tuple) else None]
    loss = 0
    for output in outputs:
        described.append((graph(output), str(output.dtype), _array(lib, output)))
        if output.requires_grad:
            values = _array(lib, output)
            weights = np.linspace(-1, 1, values.size).reshape(values.shape)
            parts = (output.real, output.imag) if values.dtype.kind == "c" else (output,)
            for part, scale in zip(parts, (1.0, 0.5)):
                loss = loss + (part * lib.tensor(scale * weights, dtype=part.dtype)).sum()
    leaves = [t for t in inputs if t.requires_grad]
    if isinstance(loss, int) or not leaves:
        return described
    try:
        grads = lib.autograd.grad(loss, leaves, allow_unused=True, create_graph=create_graph)
    except RuntimeError as error:
        return described + [str(error)]
    described.append([None if g is None else _array(lib, g) for g in grads])
    if create_graph:
        second = sum((g * g).sum() for g in grads if g is not None and g.requires_grad)
        if not isinstance(second, int):
            described.append([None if g is None else _array(lib, g)
                              for g in lib.autograd.grad(second, leaves, allow_unused=True)])
    return described


def assert_same(ours, theirs, rtol=1e-9, atol=1e-10) -> None:
    if isinstance(theirs, tuple) and isinstance(theirs[0], str):  # an error
        assert ours == theirs
        return
    assert not (isinstance(ours, tuple) and isinstance(ours[0], str)), ours
    assert len(ours) == len(theirs) and ours[0] == theirs[0]
    for mine, reference in zip(ours[1:], theirs[1:]):
        if isinstance(reference, tuple):  # an output
            assert mine[:2] == reference[:2]
            _close(mine[2], reference[2], rtol, atol)
        elif isinstance(reference, str):  # the backward's error
            assert mine == reference
        else:  # gradients
            for a, b in zip(mine, reference, strict=True):
                assert (a is None) == (b is None)
                if a is not None:
                    _close(a, b, rtol, atol)


def _close(a, b, rtol, atol) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
