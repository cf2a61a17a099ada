"""transpose_/swapaxes_/swapdims_/t_/squeeze_/unsqueeze_: the tensor itself takes the new shape over the same
memory, as in PyTorch: same object, version + 1, the op's own node, PyTorch's errors, views staying views.
(Values, gradients and node names of each op are in the sample table, samples_torch.py.)"""

from __future__ import annotations

import pytest

import gradscope


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _story(lib) -> list:
    """Every observable of a few in-place view ops, as one list to compare between libraries."""
    seen = []
    a = lib.arange(6.0).reshape(2, 1, 3).requires_grad_()
    b = a * 1
    seen += [b.swapaxes_(0, 2) is b, tuple(b.shape), b.stride(), b._version, b.grad_fn.name(),
             b.grad_fn.next_functions[0][0].name()]
    base = lib.arange(6.0).reshape(2, 3).requires_grad_() * 1
    view, sibling = base[0:1], base[1]
    view.transpose_(0, 1)
    seen += [view.grad_fn.name(), view._version, base._version, sibling.grad_fn.name(), base.grad_fn.name()]
    view.mul_(2)  # an in-place op on the transposed view writes through to the base
    seen += [base.grad_fn.name(), view.grad_fn.name(), base.tolist()]
    plain = lib.ones(2, 3)
    plain.t_().add_(1)
    seen += [tuple(plain.shape), plain.stride(), plain._version, plain.unsqueeze_(0).squeeze_().shape == (3, 2)]
    leaf = lib.ones(2, 3, requires_grad=True)
    with lib.no_grad():
        leaf.swapdims_(0, 1)
    seen += [tuple(leaf.shape), leaf.is_leaf, leaf._version]
    return seen


def test_story_matches_torch(torch):
    assert _story(gradscope) == _story(torch)


def _error(fn) -> str:
    with pytest.raises(RuntimeError) as caught:
        fn()
    return str(caught.value)


ERRORS = {
    "leaf": lambda lib: lib.ones(2, 3, requires_grad=True).swapaxes_(0, 1),
    "view_made_a_leaf": lambda lib: lib.arange(6.0).reshape(2, 3).requires_grad_().transpose_(0, 1),
    "t_of_3d": lambda lib: lib.ones(2, 2, 2).t_(),
    "saved_result_moved": lambda lib: lib.ones(2, 3, requires_grad=True).exp().t_().sum().backward(),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_match_torch(torch, name):
    ours, theirs = (_error(lambda lib=lib: ERRORS[name](lib)) for lib in (gradscope, torch))
    # the "modified by an inplace operation" text is compared up to the op it names, which PyTorch takes
    # from the tensor's node at save time
    assert ours.split(", which is output")[0] == theirs.split(", which is output")[0]
