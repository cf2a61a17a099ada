"""Custom Functions under create_graph, hooks on unused outputs, and writes into expand() results, against
PyTorch 2.13 (through the oracle: the literal outcomes below hold without torch too).
"""

from __future__ import annotations

import pytest

from gradscope.autograd import errors

TWO_OUTPUTS = """
class Two(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, g1, g2):
        print(type(g1).__name__, type(g2).__name__, g2.requires_grad, g2.tolist())
        return g1 * 2 + g2 * 3
"""

ONCE = """
class Once(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 2

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x
"""


@pytest.mark.parametrize("call", ["torch.autograd.grad(a.sum(), x, create_graph=True)[0]",
                                  "a.sum().backward(create_graph=True) or x.grad"])
def test_unused_output_gradient_is_a_tensor_under_create_graph(oracle, call):
    """It was a raw ndarray: 'numpy.ndarray' object has no attribute '_is_inference'."""
    oracle.check(TWO_OUTPUTS + f"""
import warnings
warnings.simplefilter("ignore")
x = torch.tensor([1.0, 2.0], requires_grad=True)
a, b = Two.apply(x)
print({call})
""", stdout="Tensor Tensor False [0.0, 0.0]\ntensor([2., 2.])\n")


def test_once_differentiable_error_node_keeps_next_functions(oracle):
    oracle.check(ONCE + """
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = Once.apply(x)
(g,) = torch.autograd.grad((y * y).sum(), x, create_graph=True)
node = g.grad_fn
print(g, node.name(), type(node).__name__)
((leaf, nr),) = node.next_functions
print(leaf.name(), nr, leaf.variable.tolist(), leaf.variable.requires_grad, leaf.variable is g)
g.sum().backward()
""", stdout="tensor([ 8., 32.], grad_fn=<Error>) torch::autograd::Error Error\n"
            "torch::autograd::AccumulateGrad 0 [8.0, 32.0] True False\n",
        error="RuntimeError: trying to differentiate twice a function that was marked with @once_differentiable")


def test_once_differentiable_gradient_further_down_the_graph(oracle):
    oracle.check(ONCE + """
x = torch.tensor([1.0, 2.0], requires_grad=True)
w = torch.tensor([1.0, 3.0], requires_grad=True)
y = Once.apply(x * 1)
(g,) = torch.autograd.grad((y * y * w).sum(), x, create_graph=True)
print(g, [(fn and fn.name(), nr) for fn, nr in g.grad_fn.next_functions])
print([fn.name() for fn, _ in g.grad_fn.next_functions[0][0].next_functions])
""", stdout="tensor([ 8., 96.], grad_fn=<MulBackward0>) [('torch::autograd::Error', 0), (None, 0)]\n"
            "['torch::autograd::AccumulateGrad']\n")


@pytest.mark.parametrize("split", ["x.unbind()", "x.split(1)", "Two.apply(x[0])"])
def test_hooks_on_an_unused_output_are_called_with_none(oracle, split):
    oracle.check(TWO_OUTPUTS + f"""
x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
a, b = {split}
seen = []
b.register_hook(lambda g: seen.append(g))
a.sum().backward()
print(seen)
""", stdout=("Tensor Tensor False [0.0, 0.0]\n" if "Two" in split else "") + "[None]\n")


def test_a_hook_may_not_replace_a_none_gradient(oracle):
    oracle.check("""
x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
a, b = x.unbind()
b.register_hook(lambda g: torch.ones(2))
a.sum().backward()
""", error="RuntimeError: can't replace a None gradient with a non-None value")


OVERLAP = "RuntimeError: " + errors.OVERLAP
EXPANDED = {  # op on y = torch.ones(3).expand(2, 3) -> error, or what the base holds after it
    "y.add_(1)": OVERLAP, "y.mul_(2)": OVERLAP, "y.sub_(torch.ones(2, 3))": OVERLAP, "y.exp_()": OVERLAP,
    "y.clamp_(0, 0.5)": OVERLAP, "y.copy_(torch.zeros(2, 3))": OVERLAP, "y.uniform_()": OVERLAP,
    "y.fill_(torch.tensor(2.0))": OVERLAP, "y[:, 0] = 5.0": OVERLAP, "y[:, 0] += 1": OVERLAP,
    "y[0].add_(1)": "[2.0, 2.0, 2.0]", "y[0, 1] = 5.0": "[1.0, 5.0, 1.0]", "y[1] = torch.zeros(3)": "[0.0, 0.0, 0.0]",
    "y.zero_()": "[0.0, 0.0, 0.0]", "y.fill_(2)": "[2.0, 2.0, 2.0]",
    "y[[0, 1], [0, 1]] = 5.0": "[5.0, 5.0, 1.0]",
    "y.masked_fill_(torch.tensor([True, False, True]), 0.0)": "[0.0, 1.0, 0.0]",
    "x = torch.ones(3); y = x.expand(1, 3); y.add_(1)": "[2.0, 2.0, 2.0]",
}
WARNINGS = {
    "y[[0, 1], [0, 1]] = 5.0": ("UserWarning: Use of index_put_ on expanded tensors is deprecated. Please clone() "
                                "the tensor before performing this operation. This also applies to advanced indexing "
                                "e.g. tensor[indices] = tensor",),
    "y.masked_fill_(torch.tensor([True, False, True]), 0.0)": (
        "UserWarning: Use of masked_fill_ on expanded tensors is deprecated. Please clone() the tensor before "
        "performing this operation. This also applies to advanced indexing e.g. tensor[mask] = scalar",),
}


@pytest.mark.parametrize("op", EXPANDED)
def test_writing_into_an_expand_result(oracle, op):
    """NumPy's read-only broadcast made every write fail with 'assignment destination is read-only'."""
    expected = EXPANDED[op]
    error = expected if expected.startswith("RuntimeError") else None
    oracle.check(f"""
x = torch.ones(3)
y = x.expand(2, 3)
{op}
print(x.tolist())
""", error=error, stdout="" if error else expected + "\n", warns=WARNINGS.get(op, ()))


def test_grad_set_to_an_expand_result_is_not_accumulated_into(oracle):
    oracle.check("""
x = torch.ones(3, requires_grad=True)
x.grad = torch.ones(1).expand(3)
(x * 2).sum().backward()
""", error=OVERLAP)
