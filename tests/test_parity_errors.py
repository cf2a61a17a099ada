"""Errors PyTorch 2.13 raises (and one it doesn't), compared word for word through the oracle.

Each snippet runs on gradscope and, when installed, on torch; the expected outcome is written out so
the test holds without torch too.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import pytest

import gradscope
from gradscope.autograd import errors
from tests.conftest import reference_torch

FREED = "RuntimeError: " + errors.FREED
DETACHED = "RuntimeError: " + errors.DETACHED_SAVED
LEAF_VIEW = "RuntimeError: a view of a leaf Variable that requires grad is being used in an in-place operation."


def test_second_backward_through_advanced_indexing_needs_retain_graph(oracle):
    oracle.check("""
        x = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], requires_grad=True)
        y = x[[0, 1]].sum()
        y.backward()
        y.backward()
        """, error=FREED)


def test_retained_advanced_indexing_runs_twice(oracle):
    oracle.check("""
        x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x[[0, 0, 2]].sum()
        y.backward(retain_graph=True)
        y.backward()
        print(x.grad)
        """, stdout="tensor([4., 0., 2.])\n")


def test_in_place_on_a_view_taken_before_requires_grad_was_set(oracle):
    oracle.check("""
        a = torch.ones(3)
        b = a[:]
        a.requires_grad = True
        b.add_(5)
        """, error=LEAF_VIEW)


def test_in_place_on_such_a_view_is_fine_under_no_grad(oracle):
    oracle.check("""
        a = torch.ones(3)
        b = a[:]
        a.requires_grad = True
        with torch.no_grad():
            b.add_(5)
        print(a, a._version)
        """, stdout="tensor([6., 6., 6.], requires_grad=True) 1\n")


@pytest.mark.parametrize("op", ["b * b", "b.sin()", "b @ b"])
def test_saved_input_detached_in_place(oracle, op):
    oracle.check(f"""
        a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a * 1
        c = {op}
        b.detach_()
        c.sum().backward()
        """, error=DETACHED)


def test_saved_input_detached_in_place_under_create_graph(oracle):
    oracle.check("""
        a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a * 1
        c = b * b
        b.detach_()
        torch.autograd.grad(c.sum(), a, create_graph=True)
        """, error=DETACHED)


def test_detach_in_place_that_breaks_nothing_is_allowed(oracle):
    """A saved output, a leaf input, and reading _saved_self are all fine in PyTorch."""
    oracle.check("""
        a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a.exp()
        c = b.sin()          # exp saved its result; sin saved b, a non-leaf
        b.detach_()
        print(c.grad_fn._saved_self.requires_grad)
        w = torch.tensor([2.0, 2.0, 2.0])
        d = (a * w).sum()    # mul saved the leaf a and w
        w.detach_()
        d.backward()
        print(a.grad)
        """, stdout="False\ntensor([2., 2., 2.])\n")


def test_detach_in_place_after_saving_is_seen_when_the_input_is_used_later(oracle):
    oracle.check("""
        a = torch.tensor([1.0, 2.0], requires_grad=True)
        b = a * 2
        b.detach_()
        c = b * a            # saved after detach_: b is a leaf now
        c.sum().backward()
        print(a.grad)
        """, stdout="tensor([2., 4.])\n")


def test_numpy_under_no_grad_and_inference_mode(oracle):
    oracle.check("""
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        with torch.no_grad():
            print(x.numpy())
        with torch.inference_mode():
            print(x.numpy())
        x.numpy()
        """, stdout="[1. 2.]\n[1. 2.]\n",
        error="RuntimeError: Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")


def _anomaly_with_warnings_as_errors(torch):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), torch.autograd.set_detect_anomaly(True):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
            b = a.sigmoid()
            c = b * 2
            b.mul_(2)
            try:
                c.sum().backward()
            except BaseException as error:  # the point: which exception surfaces
                return type(error).__name__, str(error), stderr.getvalue()
    return None, None, stderr.getvalue()


def test_anomaly_mode_with_warnings_as_errors_still_raises_the_in_place_error():
    """The "Error detected in ..." warning can't be raised while the node's error is on its way: PyTorch
    prints it instead. Here the UserWarning replaced the RuntimeError."""
    for torch in filter(None, (gradscope, reference_torch())):
        kind, message, printed = _anomaly_with_warnings_as_errors(torch)
        assert kind == "RuntimeError", torch.__name__
        assert message.startswith("one of the variables needed for gradient computation has been modified by an "
                                  "inplace operation: [torch.FloatTensor [3]], which is output 0 of Sigmoid, is at "
                                  "version 1; expected version 0 instead. Hint: the backtrace further above")
        assert printed.startswith("UserWarning: Error detected in SigmoidBackward0. Traceback of forward call that "
                                  "caused the error:\n"), torch.__name__


ADDMM_ERRORS = {
    "shapes": ("(2, 3), (2, 4), (5, 3)", "RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x4 and 5x3)"),
    "vector mat1": ("(2, 3), (4,), (4, 3)", "RuntimeError: mat1 must be a matrix, got 1-D tensor"),
    "3-D mat2": ("(2, 3), (2, 4), (4, 3, 1)", "RuntimeError: mat2 must be a matrix, got 3-D tensor"),
    "3-D bias": ("(1, 2, 3), (2, 4), (4, 3)",
                 "RuntimeError: expand(torch.FloatTensor{[1, 2, 3]}, size=[2, 3]): the number of sizes provided (2) "
                 "must be greater or equal to the number of dimensions in the tensor (3)"),
    "bias rows": ("(3, 3), (2, 4), (4, 3)",
                  "RuntimeError: The expanded size of the tensor (2) must match the existing size (3) at "
                  "non-singleton dimension 0.  Target sizes: [2, 3].  Tensor sizes: [3, 3]"),
    "bias columns": ("(2,), (2, 4), (4, 3)",
                     "RuntimeError: The expanded size of the tensor (3) must match the existing size (2) at "
                     "non-singleton dimension 1.  Target sizes: [2, 3].  Tensor sizes: [2]"),
    "shapes before bias": ("(5, 5), (2, 4), (5, 3)",
                           "RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x4 and 5x3)"),
}


@pytest.mark.parametrize("case", list(ADDMM_ERRORS))
def test_addmm_shape_errors(oracle, case):
    """torch.addmm checks its operands as PyTorch does (it used to let NumPy's ValueError or a broadcast error
    about the wrong tensors through)."""
    shapes, error = ADDMM_ERRORS[case]
    oracle.check(f"""
        bias, mat1, mat2 = (torch.ones(shape, requires_grad=True) for shape in [{shapes}])
        torch.addmm(bias, mat1, mat2)
        """, error=error)


@pytest.mark.parametrize("dtypes, error", [
    ("torch.float64, torch.float32, torch.float32", "self and mat2 must have the same dtype, but got Double and Float"),
    ("torch.float32, torch.float64, torch.float32", "mat1 and mat2 must have the same dtype, but got Double and Float"),
    ("torch.float32, torch.float64, torch.float64", "self and mat2 must have the same dtype, but got Float and Double"),
    ("torch.int64, torch.float32, torch.float32", "self and mat2 must have the same dtype, but got Long and Float"),
])
def test_addmm_refuses_mixed_dtypes(oracle, dtypes, error):
    oracle.check(f"""
        shapes = [(2, 3), (2, 4), (4, 3)]
        bias, mat1, mat2 = (torch.ones(shape, dtype=dtype) for shape, dtype in zip(shapes, [{dtypes}]))
        torch.addmm(bias, mat1, mat2)
        """, error="RuntimeError: " + error)


def test_addmm_broadcasts_a_bias_as_expand_does(oracle):
    oracle.check("""
        for shape in [(), (1,), (3,), (1, 1), (2, 1), (1, 3)]:
            bias = torch.ones(shape, requires_grad=True)
            out = torch.addmm(bias, torch.ones(2, 4), torch.ones(4, 3), beta=0.5)
            out.sum().backward()
            print(tuple(out.shape), out.sum().item(), bias.grad)
        """, stdout="""
        (2, 3) 27.0 tensor(3.)
        (2, 3) 27.0 tensor([3.])
        (2, 3) 27.0 tensor([1., 1., 1.])
        (2, 3) 27.0 tensor([[3.]])
        (2, 3) 27.0 tensor([[1.5000],
                [1.5000]])
        (2, 3) 27.0 tensor([[1., 1., 1.]])
        """)


CAT_ERRORS = {  # the shapes torch.cat refuses, in PyTorch's words (gradscope passed NumPy's ValueErrors on)
    "a size off": ("[torch.ones(2, 3), torch.ones(2, 4)]", 0,
                   "RuntimeError: Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 "
                   "for tensor number 1 in the list."),
    "the third": ("[torch.ones(2, 3), torch.ones(2, 3), torch.ones(5, 2)]", 0,
                  "RuntimeError: Sizes of tensors must match except in dimension 0. Expected size 3 but got size 2 for "
                  "tensor number 2 in the list."),
    "a negative dim": ("[torch.ones(2, 3, 4), torch.ones(2, 5, 4)]", -1,
                       "RuntimeError: Sizes of tensors must match except in dimension 2. Expected size 3 but got "
                       "size 5 for tensor number 1 in the list."),
    "after an empty one": ("[torch.ones(0), torch.ones(2, 3), torch.ones(2, 2)]", 0,
                           "RuntimeError: Sizes of tensors must match except in dimension 0. Expected size 3 but got "
                           "size 2 for tensor number 2 in the list."),
    "ranks": ("[torch.ones(2, 3), torch.ones(2, 3, 1)]", 0,
              "RuntimeError: Tensors must have same number of dimensions: got 2 and 3"),
    "0-dim": ("[torch.ones(()), torch.ones(())]", 0,
              "RuntimeError: zero-dimensional tensor (at position 0) cannot be concatenated"),
    "0-dim second": ("[torch.ones(2), torch.ones(())]", 0,
                     "RuntimeError: zero-dimensional tensor (at position 1) cannot be concatenated"),
    "nothing": ("[]", 0, "ValueError: torch.cat(): expected a non-empty list of Tensors"),
}


@pytest.mark.parametrize("name", CAT_ERRORS)
def test_cat_refuses_shapes_in_pytorchs_words(oracle, name):
    tensors, dim, error = CAT_ERRORS[name]
    oracle.check(f"torch.cat({tensors}, {dim})", error=error)
