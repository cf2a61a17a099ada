"""Spec §5: the exact error texts E1–E7, checked with `pytest.raises(..., match=<the whole message>)` on gradscope
and, when torch is installed, against torch 2.13 raising the very same text; plus §10 checks 6, 7, 8, 14, 15, 16."""

from __future__ import annotations

import re
import textwrap

import pytest

import gradscope as gs

HINT = ("Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False).")
HINT_ANOMALY = ("Hint: the backtrace further above shows the operation that failed to compute its gradient. The "
                "variable in question was changed in there or anywhere later. Good luck!")
E1 = "grad can be implicitly created only for scalar outputs"
E2 = "element {} of tensors does not require grad and does not have a grad_fn"
E3 = ("Trying to backward through the graph a second time (or directly access saved tensors after they have already "
      "been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). "
      "Specify retain_graph=True if you need to backward through the graph a second time or if you need to access "
      "saved tensors after calling backward.")
E4 = ("one of the variables needed for gradient computation has been modified by an inplace operation: "
      "[{type} [{sizes}]]{which} is at version {version}; expected version {expected} instead. {hint}")
E5 = "a leaf Variable that requires grad is being used in an in-place operation."
E6 = ("Mismatch in shape: grad_output[0] has a shape of torch.Size({grad}) and output[0] has a shape of "
      "torch.Size({out}).")

# (id, snippet, exception type, exact message)
CASES = [
    ("E1", "x = torch.ones(2, requires_grad=True)\n(x * 2).backward()", RuntimeError, E1),
    ("E1-grad", "x = torch.ones(2, requires_grad=True)\ntorch.autograd.grad(x * 3, x)", RuntimeError, E1),
    ("E2", "torch.ones(2).sum().backward()", RuntimeError, E2.format(0)),
    ("E2-no_grad", "x = torch.ones(2, requires_grad=True)\nwith torch.no_grad():\n    (x * 2).sum().backward()",
     RuntimeError, E2.format(0)),
    ("E2-grad", "x = torch.ones(2, requires_grad=True)\ntorch.autograd.grad(torch.ones(2).sum(), x)",
     RuntimeError, E2.format(0)),
    ("E2-second-root", "x = torch.ones(2, requires_grad=True)\n"
                       "torch.autograd.backward([(x * 2).sum(), torch.ones(1).sum()])", RuntimeError, E2.format(1)),
    ("E3", "x = torch.ones(2, requires_grad=True)\ny = x.exp().sum()\ny.backward()\ny.backward()", RuntimeError, E3),
    ("E3-saved", "x = torch.ones(2, requires_grad=True)\ny = x.pow(2)\ny.sum().backward()\ny.grad_fn._saved_self",
     RuntimeError, E3),
    ("E4", "a = torch.tensor([1., 2., 3.], requires_grad=True)\nb = a.sigmoid()\nc = b * 2\nb.mul_(2)\n"
           "c.sum().backward()", RuntimeError,
     E4.format(type="torch.FloatTensor", sizes="3", which=", which is output 0 of Sigmoid,", version=1, expected=0,
               hint=HINT)),
    ("E4-double", "a = torch.ones(80, 1, dtype=torch.float64, requires_grad=True)\nb = a.exp()\nb.add_(1)\nb.add_(1)\n"
                  "b.sum().backward()", RuntimeError,
     E4.format(type="torch.DoubleTensor", sizes="80, 1", which=", which is output 0 of Exp,", version=2, expected=0,
               hint=HINT)),
    ("E4a-constant", "a = torch.tensor([1., 2., 3.], requires_grad=True)\nw = torch.ones(3)\ny = a * w\nw.add_(1)\n"
                     "y.sum().backward()", RuntimeError,
     E4.format(type="torch.FloatTensor", sizes="3", which="", version=1, expected=0, hint=HINT)),
    ("E4b-anomaly", "a = torch.tensor([1., 2., 3.], requires_grad=True)\n"
                    "with torch.autograd.set_detect_anomaly(True, check_nan=False):\n"
                    "    b = a.sigmoid()\n    c = b * 2\n    b.mul_(2)\n    c.sum().backward()", RuntimeError,
     E4.format(type="torch.FloatTensor", sizes="3", which=", which is output 0 of Sigmoid,", version=1, expected=0,
               hint=HINT_ANOMALY)),
    ("E5", "x = torch.ones(2, requires_grad=True)\nx.add_(1)", RuntimeError, E5),
    ("E5-setitem", "x = torch.ones(2, requires_grad=True)\nx[0] = 2", RuntimeError,
     "a view of a leaf Variable that requires grad is being used in an in-place operation."),
    ("E6", "x = torch.ones(2, requires_grad=True)\n(x * 2).backward(torch.ones(3))", RuntimeError,
     E6.format(grad=[3], out=[2])),
    ("E6-grad", "x = torch.ones(2, 3, requires_grad=True)\ntorch.autograd.grad(x * 3, x, torch.ones(3, 2))",
     RuntimeError, E6.format(grad=[3, 2], out=[2, 3])),
    ("E7-int", "torch.tensor([1, 2], requires_grad=True)", RuntimeError,
     "Only Tensors of floating point and complex dtype can require gradients"),
    ("E7-int-method", "torch.tensor([1, 2]).requires_grad_()", RuntimeError,
     "only Tensors of floating point dtype can require gradients"),
    ("E7-retain", "torch.ones(2).retain_grad()", RuntimeError,
     "can't retain_grad on Tensor that has requires_grad=False"),
    ("E7-hook", "torch.ones(2).register_hook(lambda g: g)", RuntimeError,
     "cannot register a hook on a tensor that doesn't require gradient"),
    ("E7-unused", "a = torch.ones(2, requires_grad=True)\nb = torch.ones(2, requires_grad=True)\n"
                  "torch.autograd.grad((a * 2).sum(), [a, b])", RuntimeError,
     "The differentiated Tensor at index 1 appears to not have been used in the graph. Set allow_unused=True if this "
     "is the desired behavior."),
    ("E7-inputs", "x = torch.ones(2, requires_grad=True)\n(x * 2).sum().backward(inputs=[])", RuntimeError,
     "`inputs` argument to `backward()` cannot be empty."),
    ("E7-numpy", "torch.ones(2, requires_grad=True).numpy()", RuntimeError,
     "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."),
    ("E7-inference", "with torch.inference_mode():\n    i = torch.ones(2)\ni.add_(1)", RuntimeError,
     "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to get a normal "
     "tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 for more details."),
]


def _run(module, snippet: str) -> None:
    exec(textwrap.dedent(snippet), {"torch": module, "__name__": "__main__"})


def _full(message: str) -> str:
    return "^" + re.escape(message) + "$"


@pytest.mark.filterwarnings("ignore:Error detected in")
@pytest.mark.parametrize("snippet, exception, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_exact_error_text(snippet, exception, message):
    with pytest.raises(exception, match=_full(message)):
        _run(gs, snippet)


@pytest.mark.filterwarnings("ignore:Error detected in")
@pytest.mark.parametrize("snippet, exception, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_exact_error_text_is_torchs(snippet, exception, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(exception, match=_full(message)):
        _run(torch, snippet)


# §10 acceptance checks ------------------------------------------------------------------------------------------
def test_check_06_non_scalar_backward():
    x = gs.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=_full(E1)):
        (x * 2).backward()


def test_check_07_backward_without_grad():
    with pytest.raises(RuntimeError, match=_full(E2.format(0))):
        gs.ones(2).sum().backward()


def test_check_08_second_backward():
    x = gs.ones(2, requires_grad=True)
    y = x.exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="^Trying to backward through the graph a second time"):
        y.backward()


def test_check_14_leaf_in_place_and_under_no_grad():
    leaf = gs.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=_full(E5)):
        leaf.add_(1)
    assert leaf._version == 0
    with gs.no_grad():
        leaf.add_(1)
    assert leaf._version == 1
    assert leaf.tolist() == [2.0, 2.0]


def test_check_15_saved_output_modified_in_place():
    a = gs.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a.sigmoid()
    c = b * 2
    b.mul_(2)
    with pytest.raises(RuntimeError, match=re.escape("which is output 0 of Sigmoid, is at version 1; expected "
                                                     "version 0 instead. Hint:")):
        c.sum().backward()


def test_check_16_gradient_shape_mismatch():
    x = gs.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=_full(E6.format(grad=[3], out=[2]))):
        (x * 2).backward(gs.ones(3))
