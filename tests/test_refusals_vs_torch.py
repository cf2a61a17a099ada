"""Calls PyTorch 2.13 refuses and gradscope took (computing something, or silently wrong): a Python number for
atan2's operands (its parser wants tensors), randint's `low` by keyword without `high`, -1 in a new leading
dimension of expand (NumPy's index wrapped to another dimension's size: ones(3).expand(-1, 3) was 3 x 3), and
arguments PyTorch has no derivative for requiring grad (BCE with logits' weight and pos_weight, multi_margin_loss's
weight, batch_norm's and instance_norm's running statistics: their gradients were silently None). Also the
dimension expand's and addmm's size errors name (the last that doesn't match, as PyTorch's). Every case runs on
both libraries and must agree: the same values or the same error type and text."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _outcome(L, call):
    L.manual_seed(0)
    try:
        result = call(L)
    except (RuntimeError, TypeError, ValueError) as error:
        return type(error).__name__, str(error)
    return result.tolist() if hasattr(result, "tolist") else result


def _x(L, requires_grad=True):
    return L.tensor([[0.5, -1.0, 2.0, 0.25], [1.5, 0.0, -0.5, 3.0]], requires_grad=requires_grad)


ATAN2 = {
    "int other": lambda L: L.atan2(_x(L), 5), "float other": lambda L: L.atan2(_x(L), 0.5),
    "bool other": lambda L: L.atan2(_x(L), True), "number input": lambda L: L.atan2(2, _x(L)),
    "arctan2": lambda L: L.arctan2(_x(L), 2), "tensors": lambda L: L.atan2(_x(L), _x(L) + 1),
    "0-dim tensor": lambda L: L.atan2(_x(L), L.tensor(2.0)), "keyword": lambda L: L.atan2(_x(L), other=_x(L)),
}
RANDINT = {
    "low by keyword alone": lambda L: L.randint(low=2, size=(2,)),
    "low, high by keyword": lambda L: L.randint(low=2, high=5, size=(3,)),
    "low by position, high by keyword": lambda L: L.randint(2, high=5, size=(3,)),
    "high by keyword": lambda L: L.randint(high=5, size=(3,)), "high, size": lambda L: L.randint(5, (3,)),
    "low, high, size": lambda L: L.randint(2, 9, (2, 2)), "size by keyword": lambda L: L.randint(2, 9, size=(4,)),
    "a number for size": lambda L: L.randint(5, 6), "high alone": lambda L: L.randint(5),
    "nothing": lambda L: L.randint(),
    "generator": lambda L: L.randint(3, 10, (2, 2), generator=L.Generator().manual_seed(1)),
}
EXPAND = {
    "-1 in a leading dim": lambda L: L.ones(3).expand(-1, 3),
    "-1 in a second leading dim": lambda L: L.ones(2).expand(3, -1, 2),
    "-1 kept": lambda L: L.ones(2, 1).expand(4, 2, -1),
    "two dims differ": lambda L: L.ones(2, 3).expand(5, 6),
    "the last differs": lambda L: L.ones(1, 2, 2).expand(1, 4, 4),
    "a negative size": lambda L: L.ones(3, 1).expand(-2, 4), "zero": lambda L: L.ones(1, 3).expand(0, 3),
    "addmm bias, both dims": lambda L: L.addmm(L.ones(3, 5), L.ones(2, 3), L.ones(3, 4)),
    "addmm bias, first dim": lambda L: L.addmm(L.ones(3, 1), L.ones(2, 3), L.ones(3, 4)),
    "linear bias": lambda L: L.nn.functional.linear(L.ones(2, 3), L.ones(4, 3), L.ones(5)),
}


def _requiring(L, n=4):
    return L.ones(n, requires_grad=True)


def _backward(loss):
    loss.sum().backward()
    return "ran"


NOT_DIFFERENTIABLE = {
    "bce logits pos_weight": lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        _x(L), L.rand(2, 4), pos_weight=_requiring(L)),
    "bce logits weight": lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        _x(L), L.rand(2, 4), weight=_requiring(L)),
    "bce logits pos_weight, input without grad": lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        _x(L, False), L.rand(2, 4), pos_weight=_requiring(L)),
    "BCEWithLogitsLoss": lambda L: L.nn.BCEWithLogitsLoss(pos_weight=_requiring(L))(_x(L), L.rand(2, 4)),
    "torch.binary_cross_entropy_with_logits": lambda L: L.binary_cross_entropy_with_logits(
        _x(L), L.rand(2, 4), None, _requiring(L)),
    "bce logits, target size first": lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        _x(L), L.rand(4), pos_weight=_requiring(L)),
    "multi_margin weight": lambda L: L.nn.functional.multi_margin_loss(_x(L), L.tensor([0, 3]), weight=_requiring(L)),
    "MultiMarginLoss": lambda L: L.nn.MultiMarginLoss(weight=_requiring(L))(_x(L), L.tensor([1, 2])),
    "multi_margin p first": lambda L: L.nn.functional.multi_margin_loss(_x(L), L.tensor([0, 3]), p=3,
                                                                        weight=_requiring(L)),
    "batch_norm running_mean": lambda L: L.nn.functional.batch_norm(_x(L), _requiring(L), L.ones(4), training=True),
    "batch_norm running_var, eval": lambda L: L.nn.functional.batch_norm(_x(L), L.zeros(4), _requiring(L)),
    "batch_norm, input without grad": lambda L: L.nn.functional.batch_norm(_x(L, False), _requiring(L), _requiring(L)),
    "instance_norm running_mean": lambda L: L.nn.functional.instance_norm(
        _x(L).reshape(1, 2, 4), _requiring(L, 2), L.ones(2), use_input_stats=True),
    "instance_norm eval": lambda L: L.nn.functional.instance_norm(
        _x(L).reshape(1, 2, 4), L.zeros(2), _requiring(L, 2), use_input_stats=False),
    "without grad mode": lambda L: _no_grad(L, lambda: L.nn.functional.multi_margin_loss(
        _x(L), L.tensor([0, 3]), weight=_requiring(L))),
    "weights without grad": lambda L: _backward(L.nn.functional.binary_cross_entropy_with_logits(
        _x(L), L.rand(2, 4), weight=L.ones(4), pos_weight=L.ones(4))),
    "a module's running statistics": lambda L: _backward(L.nn.BatchNorm1d(4)(_x(L))),
}


def _no_grad(L, call):
    with L.no_grad():
        return call()


def _same(ours, theirs) -> None:
    if isinstance(theirs, list):  # computed: the values (float32 atan2 may differ in the last place)
        np.testing.assert_allclose(np.array(ours, dtype=float), np.array(theirs, dtype=float), rtol=1e-6)
    else:
        assert ours == theirs


@pytest.mark.parametrize("case", ATAN2)
def test_atan2_takes_tensors_only(case):
    _same(_outcome(gradscope, ATAN2[case]), _outcome(torch, ATAN2[case]))


@pytest.mark.parametrize("case", RANDINT)
def test_randint_forms(case):
    assert _outcome(gradscope, RANDINT[case]) == _outcome(torch, RANDINT[case])


def test_randint_low_by_keyword_with_other_keywords_is_refused():
    """PyTorch's text then lists the keywords it got (a parser detail not copied): the refusal is the same."""
    for L in (gradscope, torch):
        with pytest.raises(TypeError):
            L.randint(low=1, size=(3,), dtype=L.int32)


@pytest.mark.parametrize("case", EXPAND)
def test_expand_errors(case):
    assert _outcome(gradscope, EXPAND[case]) == _outcome(torch, EXPAND[case])


@pytest.mark.parametrize("case", NOT_DIFFERENTIABLE)
def test_arguments_without_a_derivative(case):
    _same(_outcome(gradscope, NOT_DIFFERENTIABLE[case]), _outcome(torch, NOT_DIFFERENTIABLE[case]))


SIZES = {
    "a float among numbers": lambda L: L.zeros(2, 3.0), "a float in a tuple": lambda L: L.ones((2, 3.5)),
    "a float in a list": lambda L: L.zeros([2.0]), "rand": lambda L: L.rand((2, 1.0)),
    "None among numbers": lambda L: L.zeros(2, None), "a float tensor": lambda L: L.zeros((2, L.tensor(3.0))),
    "full's list": lambda L: L.full([2.0], 1), "full of a number": lambda L: L.full(2.0, 1),
    "full of an int": lambda L: L.full(2, 3), "an int tensor": lambda L: L.zeros(2, L.tensor(3)),
    "a bool": lambda L: L.empty((1, True)).shape, "a Size": lambda L: L.full(L.Size([2]), 1),
    "NumPy ints": lambda L: L.ones(np.int64(2), np.int32(1)),
}


@pytest.mark.parametrize("case", SIZES)
def test_sizes_take_ints_only(case):
    """A float in a size is PyTorch's TypeError (int() truncated it: zeros(2, 3.5) was 2 x 3); full's size is one
    sequence (full(2, 3) filled two)."""
    _same(_outcome(gradscope, SIZES[case]), _outcome(torch, SIZES[case]))


SHAPES = {
    "reshape, numbers": lambda L, x: x.reshape(3.0, 2), "reshape, a later number": lambda L, x: x.reshape(3, 2.0),
    "reshape, a tuple": lambda L, x: x.reshape((3.0, 2)), "reshape, a list": lambda L, x: x.reshape([3, 2.0]),
    "reshape, one number": lambda L, x: x.reshape(6.0), "expand": lambda L, x: x[0:1].expand(2.0, 3),
    "expand, a tuple": lambda L, x: x[0:1].expand((2, 3.0)), "repeat": lambda L, x: x.repeat(2.0, 1),
    "repeat, a tuple": lambda L, x: x.repeat((2, 1.0)), "tile": lambda L, x: x.tile((2.0,)),
    "permute": lambda L, x: x.permute(1.0, 0), "permute, a tuple": lambda L, x: x.permute((1, 0.0)),
    "view, a list": lambda L, x: x.view([2, 3.0]), "view, a later number": lambda L, x: x.view(2, 3.0),
    "a float tensor": lambda L, x: x.reshape((L.tensor(3.0), 2)), "resize_": lambda L, x: L.zeros(2).resize_(3.0),
    "an int tensor": lambda L, x: x.reshape(L.tensor(3), 2), "NumPy ints": lambda L, x: x.reshape(np.int64(3), 2),
    "-1": lambda L, x: x.reshape(-1, 2),
}


@pytest.mark.parametrize("case", SHAPES)
def test_shapes_take_ints_only(case):
    """A float in a shape or dims is PyTorch's TypeError, where int() truncated it (x.reshape((3.5, 2)) was 3 x 2)."""
    _same(_outcome(gradscope, lambda L: SHAPES[case](L, L.arange(6.0).reshape(2, 3))),
          _outcome(torch, lambda L: SHAPES[case](L, L.arange(6.0).reshape(2, 3))))


INTS = {  # torch.<function> forms: PyTorch's positions are the function's (a method's are one less)
    "unsqueeze": lambda L, x: L.unsqueeze(x, 1.0), "unsqueeze, a bool": lambda L, x: L.unsqueeze(x, True),
    "unsqueeze, a NumPy float": lambda L, x: L.unsqueeze(x, np.float64(1)),
    "unsqueeze, a float tensor": lambda L, x: L.unsqueeze(x, L.tensor(1.0)),
    "transpose": lambda L, x: L.transpose(x, 0, 1.0), "transpose, first": lambda L, x: L.transpose(x, 1.5, 0),
    "chunk": lambda L, x: L.chunk(x, 2.0), "chunk's dim": lambda L, x: L.chunk(x, 2, 1.0),
    "select": lambda L, x: L.select(x, 0, 1.0), "select's dim": lambda L, x: L.select(x, 1.0, 0),
    "tril": lambda L, x: L.tril(x, 1.0), "triu": lambda L, x: L.triu(x, 0.5), "rot90": lambda L, x: L.rot90(x, 1.0),
    "randperm": lambda L, x: L.randperm(3.0), "one_hot": lambda L, x: L.nn.functional.one_hot(L.tensor([1, 2]), 3.0),
    "pad": lambda L, x: L.nn.functional.pad(x, (1.0, 1)),
    "pad, a later one": lambda L, x: L.nn.functional.pad(x, (1, 1.5)),
    "split's sizes": lambda L, x: L.split(x, [1.0, 1]), "split's size": lambda L, x: x.split(2.0),
    "new_zeros": lambda L, x: x.new_zeros(2.0, 3), "new_ones": lambda L, x: x.new_ones((2.0,)),
    "new_empty": lambda L, x: x.new_empty(2, 3.0), "new_full": lambda L, x: x.new_full((2.0,), 1),
    "ints pass": lambda L, x: tuple(tuple(t.shape) for t in (
        L.unsqueeze(x, np.int64(1)), L.chunk(x, L.tensor(2))[0], L.select(x, 0, L.tensor(1)), L.rot90(x, np.int32(1)),
        x.new_zeros(np.int64(2)))),
}
# torch lists each form of an overloaded function when none matches; here the one meant names the argument
OVERLOADED = {
    "narrow's start": lambda L, x: L.narrow(x, 0, 1.0, 1), "narrow's dim": lambda L, x: L.narrow(x, 0.0, 1, 1),
    "narrow's length": lambda L, x: L.narrow(x, 0, 0, 1.0), "squeeze": lambda L, x: L.squeeze(x, 0.0),
    "squeeze, a tuple": lambda L, x: L.squeeze(x, (0.0,)), "movedim": lambda L, x: L.movedim(x, 0.0, 1),
    "movedim, lists": lambda L, x: L.movedim(x, [0.0], [1]), "split's dim": lambda L, x: L.split(x, 1, 1.0),
    "repeat_interleave": lambda L, x: L.repeat_interleave(x, 2.0), "sum's dims": lambda L, x: L.sum(x, (1.0,)),
    "interpolate": lambda L, x: L.nn.functional.interpolate(x[None], size=5.0),
}


def _on_matrix(case):
    return lambda L: case(L, L.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize("case", INTS)
def test_int_arguments_take_ints_only(case):
    """A float (a bool, a float tensor) where PyTorch's parser wants an int (a dim, a count, an offset) or a tuple of
    ints is its TypeError; int() truncated it (unsqueeze(x, 1.5) was unsqueeze(x, 1), chunk(x, 2.5) two chunks)."""
    _same(_outcome(gradscope, _on_matrix(INTS[case])), _outcome(torch, _on_matrix(INTS[case])))


@pytest.mark.parametrize("case", OVERLOADED)
def test_int_arguments_of_overloaded_functions_take_ints_only(case):
    ours, theirs = _outcome(gradscope, _on_matrix(OVERLOADED[case])), _outcome(torch, _on_matrix(OVERLOADED[case]))
    assert theirs[0] == "TypeError"
    assert ours[0] == "TypeError"
