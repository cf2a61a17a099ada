"""Arguments PyTorch's parser refuses by type, refused here in its words (the position numbered where one was given by
position): requires_grad_ takes a bool only (it took any truth value), softmax/log_softmax an int dim (None gave
NumPy's comparison error)."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

CASES = {
    "requires_grad_int": lambda T: T.ones(2).requires_grad_(1),
    "requires_grad_zero": lambda T: T.ones(2).requires_grad_(0),
    "requires_grad_none": lambda T: T.ones(2).requires_grad_(None),
    "requires_grad_numpy_bool": lambda T: T.ones(2).requires_grad_(np.bool_(True)),
    "requires_grad_tensor": lambda T: T.ones(2).requires_grad_(T.tensor(True)),
    "requires_grad_keyword": lambda T: T.ones(2).requires_grad_(requires_grad=1),
    "requires_grad_module": lambda T: T.nn.Linear(2, 2).requires_grad_(1),
    "requires_grad_bool": lambda T: T.ones(2).requires_grad_(requires_grad=True).requires_grad,
    "softmax_none": lambda T: T.ones(2, 3).softmax(None),
    "softmax_dim_none": lambda T: T.ones(2, 3).softmax(dim=None),
    "softmax_missing": lambda T: T.ones(2, 3).softmax(),
    "log_softmax_dim_none": lambda T: T.ones(2, 3).log_softmax(dim=None),
    "softmax_float": lambda T: T.ones(2, 3).softmax(1.5),
    "softmax_str": lambda T: T.ones(2, 3).softmax("a"),
    "softmax_bool": lambda T: T.ones(2, 3).softmax(True),
    "torch_softmax_none": lambda T: T.softmax(T.ones(2, 3), None),
    "torch_softmax_dim_none": lambda T: T.softmax(T.ones(2, 3), dim=None),
    "torch_log_softmax_float": lambda T: T.log_softmax(T.ones(2, 3), 1.0),
    "functional_softmax_bool": lambda T: T.nn.functional.softmax(T.ones(2, 3), True),
    "softmax_numpy_int": lambda T: T.ones(2, 3).softmax(np.int64(0)).sum(0).tolist(),
    "softmax_tensor_dim": lambda T: T.softmax(T.ones(2, 3), dim=T.tensor(1)).sum(1).tolist(),
    "softmax_dtype_keyword": lambda T: str(T.ones(2, 3).log_softmax(dim=1, dtype=T.float64).dtype),
    "torch_softmax_keywords": lambda T: T.softmax(input=T.ones(2, 3), dim=1).sum(1).tolist(),
    "torch_log_softmax_keywords": lambda T: str(T.log_softmax(input=T.ones(2, 3), dim=0, dtype=T.float64).dtype),
    "torch_softmax_dtype_by_position": lambda T: str(T.softmax(T.ones(2, 3), 1, T.float64).dtype),
    "softmax_unexpected_keyword": lambda T: T.ones(2, 3).softmax(dim=1, axis=1),
}


def _outcome(lib, call):
    try:
        return "ok", call(lib)
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        return type(error), str(error)


@pytest.mark.parametrize("case", CASES)
def test_as_pytorch(case):
    expected = _outcome(torch, CASES[case])
    ours = _outcome(gradscope, CASES[case])
    if expected[0] == "ok" and not isinstance(expected[1], (bool, list, str)):
        assert ours[0] == "ok"
    else:
        assert ours == expected
