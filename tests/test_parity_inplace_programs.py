"""Random programs of in-place ops, views and ops that save their inputs, against PyTorch 2.13.

Each seed builds the same program on both libraries from the same float64 inputs: out-of-place ops
(most save an input or their result), views, and in-place ops (most often on a tensor some op saved;
some under no_grad, some on views, some detaching in place), then one backward over everything that
requires grad. Whatever PyTorch does, gradscope must do: the same error word for word (in-place
errors name the node that last wrote the tensor: `Fill2`, `Clamp1`, `AsStrided`,
`torch::autograd::CopySlices`, `torch::autograd::CopyBackwards` …), or the same loss and gradients.
"""

from __future__ import annotations

import contextlib
import functools
import random
import re
import warnings

import numpy as np
import pytest

import gradscope
from tests.conftest import reference_torch

SAVING = ("sin", "exp", "sigmoid", "tanh", "relu", "abs", "square", "clamp", "clamp_min", "pow", "div")
OTHER = ("neg", "clone", "add")
VIEWS = ("select", "slice", "t", "view", "unsqueeze", "full_slice", "transpose")
IN_PLACE = ("add_", "mul_", "sub_", "div_", "add_tensor", "mul_tensor", "fill_", "fill_tensor", "zero_", "copy_",
            "copy_constant", "clamp_", "clamp_min_", "relu_", "sigmoid_", "exp_", "tanh_", "neg_", "abs_sqrt_", "pow_",
            "setitem_int", "setitem_slice", "setitem_tensor", "setitem_list", "setitem_mask", "masked_fill_",
            "detach_")
PROGRAMS = 400


def _plan(seed: int) -> list:
    rng = random.Random(seed)
    steps = []
    for _ in range(rng.randint(3, 8)):
        r = rng.random()
        kind = "inplace" if r < 0.5 else "view" if r < 0.7 else "saving" if r < 0.9 else "other"
        name = rng.choice({"inplace": IN_PLACE, "view": VIEWS, "saving": SAVING, "other": OTHER}[kind])
        # in-place ops mostly hit a tensor an op saved; nothing builds a view under no_grad (see the note below)
        steps.append((kind, name, rng.random() < 0.6, rng.randrange(1000), rng.randrange(1000),
                      kind != "view" and rng.random() < 0.15))
    return steps


def _view(kind, t):
    if t.dim() == 0:
        return t.unsqueeze(0)
    return {"select": lambda: t[0], "slice": lambda: t[1:] if t.shape[0] > 1 else t[:],
            "t": lambda: t.t() if t.dim() <= 2 else t.transpose(0, 1), "view": lambda: t.view(-1),
            "unsqueeze": lambda: t.unsqueeze(0), "full_slice": lambda: t[:], "transpose": lambda: t.transpose(0, -1),
            }[kind]()


def _like(t, o):
    """`o` as an operand of t's shape: itself, or its sum broadcast."""
    return o if o.shape == t.shape else o.sum()


def _out_of_place(lib, kind, t, o):
    if kind == "square":
        return t * t
    if kind == "clamp":
        return t.clamp(-0.5, 0.5)
    if kind == "clamp_min":
        return t.clamp(min=0.1)
    if kind == "pow":
        return t.pow(2)
    if kind == "div":
        return t / (_like(t, o) * _like(t, o) + 1)
    if kind == "add":
        return t + _like(t, o)
    return getattr(t, kind)()


def _in_place(lib, kind, t, o):
    if kind in ("add_", "mul_", "sub_", "div_"):
        return getattr(t, kind)(1.5)
    if kind in ("add_tensor", "mul_tensor"):
        return getattr(t, kind[:3] + "_")(_like(t, o))
    if kind == "fill_":
        return t.fill_(0.25)
    if kind == "fill_tensor":
        return t.fill_(o.sum())
    if kind == "copy_":
        return t.copy_(o if o.shape == t.shape else o.sum().expand(t.shape))
    if kind == "copy_constant":
        return t.copy_(lib.ones(t.shape, dtype=lib.float64))
    if kind == "clamp_":
        return t.clamp_(-0.5, 0.5)
    if kind == "clamp_min_":
        return t.clamp_(min=0.0)
    if kind == "abs_sqrt_":
        return t.abs_().sqrt_()
    if kind == "pow_":
        return t.pow_(2)
    if kind.startswith("setitem"):
        index = {"setitem_int": 0, "setitem_slice": slice(None, 1), "setitem_list": [0], "setitem_mask": t > 0,
                 "setitem_tensor": 0}[kind] if t.dim() else ...
        t[index] = (o.sum() * 2) if kind == "setitem_tensor" else 0.5
        return t
    if kind == "masked_fill_":
        return t.masked_fill_(t < 0, 0.0)
    return getattr(t, kind)()


def _run(lib, seed: int):
    """The program's outcome: ("error", type, message) or ("ok", loss, gradients of the two leaves)."""
    rng = random.Random(seed)
    x = lib.tensor(np.random.default_rng(seed).standard_normal((2, 3)), requires_grad=True)
    w = lib.tensor(np.random.default_rng(seed + 1).standard_normal((2, 3)), requires_grad=rng.random() < 0.5)
    pool, saved = [x, w, x * 1.5], []
    try:
        for kind, name, on_saved, a, b, no_grad in _plan(seed):
            if kind != "inplace":
                t = pool[a % len(pool)]
            else:  # a saved tensor, or any but the leaf x (PyTorch refuses that one)
                t = saved[a % len(saved)] if on_saved and saved else pool[1 + a % (len(pool) - 1)]
            o = pool[b % len(pool)]
            with lib.no_grad() if no_grad else contextlib.nullcontext():
                if kind == "inplace":
                    out = _in_place(lib, name, t, o)
                elif kind == "view":
                    out = _view(name, t)
                else:
                    out = _out_of_place(lib, name, t, o)
            if kind == "saving":
                saved.append(t)
            pool.append(out)
        terms = [p.sum() * (i + 1) for i, p in enumerate(pool[1:]) if p.requires_grad]
        if not terms:
            return ("no graph",)
        loss = sum(terms)
        loss.backward()
    except (RuntimeError, TypeError, IndexError) as error:
        return ("error", type(error).__name__, str(error))
    grads = [None if leaf.grad is None else np.asarray(leaf.grad.numpy(), dtype=np.float64) for leaf in (x, w)]
    return ("ok", float(loss.detach()), grads)


@functools.cache
def _outcome(library: str, seed: int):
    lib = gradscope if library == "gradscope" else reference_torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _run(lib, seed)


def _named(outcome) -> bool:
    return outcome[0] == "error" and "which is output" in outcome[2]


@pytest.mark.parametrize("seed", range(PROGRAMS))
def test_random_in_place_program_matches_torch(seed):
    if reference_torch() is None:
        pytest.skip("needs torch")
    theirs, ours = _outcome("torch", seed), _outcome("gradscope", seed)
    assert ours[0] == theirs[0], (_plan(seed), ours, theirs)
    if ours[0] == "error":
        assert ours[1:] == theirs[1:], _plan(seed)
    elif ours[0] == "ok":
        assert ours[1] == pytest.approx(theirs[1], rel=1e-12), _plan(seed)
        for mine, reference in zip(ours[2], theirs[2], strict=True):
            assert (mine is None) == (reference is None), _plan(seed)
            if mine is not None:
                np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12, err_msg=str(_plan(seed)))


def test_the_programs_reach_in_place_errors_that_name_nodes():
    """The generator is worth its time only if many programs end in PyTorch's in-place error."""
    if reference_torch() is None:
        pytest.skip("needs torch")
    outcomes = [_outcome("torch", seed) for seed in range(PROGRAMS)]
    names = {re.search(r"which is output \d+ of ([^,]*),", o[2]).group(1) for o in outcomes if _named(o)}
    assert sum(map(_named, outcomes)) >= PROGRAMS // 10
    assert "torch::autograd::CopySlices" in names and any(name[-1].isdigit() for name in names)


def test_node_names_in_in_place_errors():
    """Names PyTorch gives the node that last wrote a saved tensor (they were type names with the whole
    "Backward…" suffix cut, or without the torch::autograd:: prefix)."""
    cases = {  # in-place op on b after `c = b * b` saved it -> the name in the error
        "b.fill_(2.0)": "Fill2", "b.fill_(torch.tensor(2.0))": "Fill3", "b.clamp_(0, 1)": "Clamp1",
        "b.clamp_(min=torch.zeros(3))": "Clamp", "b.copy_(torch.ones(2, 3))": "torch::autograd::CopyBackwards",
        "b[0] = 1.0": "torch::autograd::CopySlices", "b[0].mul_(2)": "torch::autograd::CopySlices",
        "b.pow_(torch.ones(2, 3))": "Pow1", "b.masked_fill_(b > 0, torch.tensor(1.0))": "MaskedFill1",
        "b.zero_()": "Zero", "b.uniform_()": "Uniform", "b[[0]] = 1.0": "IndexPut",
    }
    for lib in filter(None, (gradscope, reference_torch())):
        for op, name in cases.items():
            x = lib.ones(2, 3, requires_grad=True)
            b = x.clone()
            c = b * b
            exec(op, {"torch": lib, "b": b})  # noqa: S102 - the table above
            with pytest.raises(RuntimeError, match=f"which is output 0 of {re.escape(name)}, is at version"):
                c.sum().backward()
        x = lib.ones(2, 3, requires_grad=True)
        v = x.clone()[0]
        c = v * v
        v[0] = 2.0  # the view's node is now AsStridedBackward0
        with pytest.raises(RuntimeError, match="which is output 0 of AsStrided, is at version"):
            c.sum().backward()


def test_view_of_a_base_changed_in_place_takes_part_in_the_graph():
    """w.add_(x) makes w, and its views taken before, require grad: (v * 2) reached no graph (an error, or
    gradients silently lost when mixed with other inputs)."""
    for lib in filter(None, (gradscope, reference_torch())):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.zeros(3)
        v = w[1:]
        w.add_(x)
        assert v.requires_grad
        (v * 2 + x[1:]).sum().backward()
        assert x.grad.tolist() == [0.0, 3.0, 3.0], lib.__name__


def test_leaf_detached_in_place_gets_no_gradient():
    """PyTorch's AccumulateGrad does nothing for a leaf that no longer requires grad."""
    for lib in filter(None, (gradscope, reference_torch())):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        x.detach_()
        y.backward()
        assert x.grad is None, lib.__name__
