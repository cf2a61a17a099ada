"""torch.autograd.backward / grad at their edges, beside PyTorch (cases from PyTorch's test_autograd.py): a grad_output
that is complex for a real output (or real for a complex one), a non-leaf among backward's `inputs` (it retains its
gradient from then on), materialize_grads under create_graph, what a post-accumulate-grad hook may return, grad()
with no inputs, a batched grad_output of the wrong shape, and views that retain their gradients written in place
(PyTorch moves retain_grad to the view's regenerated node). Each case runs the same code on both libraries and
compares what comes back: values, requires_grad, or the error's type and text. And the order hooks run in on a node:
its tensors' hooks, then retain_grad, then autograd.grad's capture of a target, then the node's own pre-hooks, which
run only if the node does (a leaf's AccumulateGrad does not under autograd.grad)."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _outcome(case, lib):
    """What `case(lib)` gives: its values (nested tuples of arrays, bools, None) or the error's type and text."""
    try:
        return "ok", _plain(case(lib))
    except Exception as error:  # noqa: BLE001 - the error is the outcome compared
        return type(error).__name__, str(error)


def _plain(value):
    if isinstance(value, (tuple, list)):
        return tuple(_plain(v) for v in value)
    if hasattr(value, "detach"):
        return ("tensor", value.detach().numpy().tolist(), str(value.dtype).replace("torch.", ""),
                bool(value.requires_grad))
    return value


def complex_output_real_grad(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    return lib.autograd.grad((x * 1j).sin(), x, grad_outputs=lib.ones(2))


def real_output_complex_grad(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    return lib.autograd.grad(x.sin(), x, grad_outputs=lib.ones(2, dtype=lib.complex64))


def complex_output_other_complex_grad(lib):  # both complex: cast
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    return lib.autograd.grad((x * 1j).exp(), x, grad_outputs=lib.ones(2, dtype=lib.complex128))


def real_output_other_real_grad(lib):  # both real: cast
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    return lib.autograd.grad(x * x, x, grad_outputs=lib.ones(2, dtype=lib.float64))


def backward_to_a_non_leaf_then_again(lib):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    (b * 3).sum().backward(inputs=(b,), retain_graph=True)
    first = (b.retains_grad, b.grad.clone(), a.grad)
    (b * 3).sum().backward()  # b retains its gradient now: this one adds into it
    return first, b.retains_grad, b.grad, a.grad


def backward_to_a_non_leaf_and_a_leaf(lib):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = a * a
    (b * 3).sum().backward(inputs=[b, a])
    return b.retains_grad, b.grad, a.grad, a.retains_grad


def materialized_zeros_under_create_graph(lib):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([1.0], requires_grad=True)
    g = lib.autograd.grad((a * a).sum(), (a, b), create_graph=True, materialize_grads=True)
    again = lib.autograd.grad(g[0].sum() + g[1].sum(), (a, b), allow_unused=True, materialize_grads=True)
    return g, g[1].grad_fn is None, again


def materialized_zeros_without_create_graph(lib):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([1.0], requires_grad=True)
    return lib.autograd.grad((a * 2).sum(), (a, b), materialize_grads=True)


def _post_accumulate(lib, returns):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    a.register_post_accumulate_grad_hook(returns)
    (a * 2).sum().backward()
    return a.grad


@pytest.mark.parametrize("returns", [lambda t: None, lambda t: t, lambda t: 3, lambda t: t * 2, lambda t: t.detach()],
                         ids=["none", "itself", "an int", "another tensor", "a detached alias"])
def test_what_a_post_accumulate_grad_hook_may_return(returns):
    assert _outcome(lambda lib: _post_accumulate(lib, returns), gradscope) == _outcome(
        lambda lib: _post_accumulate(lib, returns), torch)


def grad_of_no_inputs(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    return lib.autograd.grad(2 * x, [])


def _batched(shape):
    def case(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        return lib.autograd.grad(2 * x, [x], grad_outputs=lib.ones(*shape), is_grads_batched=True)
    case.__name__ = f"batched_grad_outputs_{'x'.join(map(str, shape))}"
    return case


def _batched_scalar(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    return lib.autograd.grad((2 * x).sum(), [x], grad_outputs=lib.ones(3, 5), is_grads_batched=True)


def _logging_hooks(lib):
    log = []

    def tensor_hook(g):
        log.append("tensor")
        return g * 3

    def node_pre_hook(gs):
        log.append("node")
        return tuple(g * 2 for g in gs)

    a = lib.tensor(1.0, requires_grad=True)
    b = a.clone()
    b.grad_fn.register_prehook(node_pre_hook)
    b.register_hook(tensor_hook)
    b.grad_fn.register_prehook(node_pre_hook)
    accumulator = b.grad_fn.next_functions[0][0]
    a.register_hook(tensor_hook)
    accumulator.register_prehook(node_pre_hook)
    a.register_hook(tensor_hook)
    return log, a, b


def hook_order_under_backward(lib):
    log, a, b = _logging_hooks(lib)
    b.sum().backward()
    return log, a.grad


def hook_order_under_grad_of_a_leaf(lib):  # the leaf's AccumulateGrad does not run: its pre-hook neither
    log, a, b = _logging_hooks(lib)
    return lib.autograd.grad(b.sum(), inputs=(a,)), log


def hook_order_under_backward_to_a_non_leaf(lib):  # b's node does not run: b.grad is its tensor hook's value
    log, a, b = _logging_hooks(lib)
    b.sum().backward(inputs=(b,))
    return log, b.grad, a.grad


def retain_grad_before_the_node_pre_hooks(lib):
    a = lib.tensor(1.0, requires_grad=True)
    b = a * 2
    b.retain_grad()
    b.grad_fn.register_prehook(lambda gs: tuple(g * 10 for g in gs))
    b.register_hook(lambda g: g * 3)
    (b * 1).backward()
    return b.grad, a.grad


def hooks_called_per_kind_of_pass(lib):
    a = lib.tensor(1.0, requires_grad=True)
    b = a * 2
    c = b * 2
    counts = dict.fromkeys(("tensor", "pre", "post"), 0)

    def count(kind):
        def hook(*args):
            counts[kind] += 1
        return hook

    a.register_hook(count("tensor"))
    b.register_hook(count("tensor"))
    accumulator = b.grad_fn.next_functions[0][0]
    for node in (accumulator, b.grad_fn):
        node.register_hook(count("post"))
        node.register_prehook(count("pre"))
    seen = []
    for run in (lambda: lib.autograd.grad(c, inputs=(b,), retain_graph=True),
                lambda: lib.autograd.grad(c, inputs=(a, b), retain_graph=True),
                lambda: c.backward(retain_graph=True), lambda: c.backward(inputs=(a, b), retain_graph=True)):
        counts.update(dict.fromkeys(counts, 0))
        run()
        seen.append(tuple(counts.values()))
    return seen


def retained_views_written_in_place(lib):  # the view written and its sibling: both regenerated, both retain
    base = lib.tensor([1.0], requires_grad=True).clone()
    view, sibling = base[:], base[:]
    view.retain_grad()
    sibling.retain_grad()
    view.mul_(2)
    (view + sibling).sum().backward()
    return view.grad, sibling.grad, view.retains_grad, sibling.retains_grad


def retained_view_and_base_written_in_place(lib):
    a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 1
    view = b[1:]
    view.retain_grad()
    view.mul_(3)
    b.retain_grad()
    (b * b).sum().backward()
    return view.grad, b.grad, a.grad


def retained_overlapping_views(lib):
    a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 1
    v, w = b[1:], b[:2]
    w.retain_grad()
    v.retain_grad()
    v.add_(1)
    (w * 5).sum().backward()
    return w.grad, v.grad, a.grad


CASES = [retained_views_written_in_place, retained_view_and_base_written_in_place, retained_overlapping_views,
         hook_order_under_backward, hook_order_under_grad_of_a_leaf, hook_order_under_backward_to_a_non_leaf,
         retain_grad_before_the_node_pre_hooks, hooks_called_per_kind_of_pass,
         complex_output_real_grad, real_output_complex_grad, complex_output_other_complex_grad,
         real_output_other_real_grad, backward_to_a_non_leaf_then_again, backward_to_a_non_leaf_and_a_leaf,
         materialized_zeros_under_create_graph, materialized_zeros_without_create_graph, grad_of_no_inputs,
         _batched((3, 5)), _batched((3, 2, 2)), _batched((3, 2)), _batched((5,)), _batched_scalar]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.__name__)
def test_as_pytorch(case):
    ours, theirs = _outcome(case, gradscope), _outcome(case, torch)
    assert ours == theirs


def test_the_non_leaf_input_keeps_retaining_through_later_passes():
    a = gradscope.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    for _ in range(3):
        (b * 3).sum().backward(inputs=(b,), retain_graph=True)
    np.testing.assert_array_equal(b.grad.numpy(), [9.0, 9.0])
    assert a.grad is None


def _double_backward_through_relu_on_a_view(lib):
    x = lib.tensor([[[[1.0, 2.0]]]], requires_grad=True)
    y = lib.relu_((x * 2).view(1, 1, 1, 2))
    (g,) = lib.autograd.grad(y.pow(2), [x], grad_outputs=lib.ones_like(y), create_graph=True)
    return g, lib.autograd.grad(g.sum(), [x])[0]


def _double_backward_through_an_inplace_relu_after_instance_norm(lib):
    model = lib.nn.Sequential(lib.nn.InstanceNorm2d(2), lib.nn.ReLU(True))
    x = lib.tensor([[[[1.0, 2.0], [3.0, 5.0]], [[-1.0, 4.0], [0.5, 2.0]]]], requires_grad=True)
    (g,) = lib.autograd.grad(model(x).pow(2).sum(), [x], create_graph=True)
    return g, lib.autograd.grad(g.pow(2).sum(), [x])[0]


@pytest.mark.parametrize("case", [_double_backward_through_relu_on_a_view,
                                  _double_backward_through_an_inplace_relu_after_instance_norm],
                         ids=["relu_ on a view", "InstanceNorm2d then ReLU(inplace=True)"])
def test_double_backward_through_an_inplace_op_on_a_view(case):
    """PyTorch issue #10532: the in-place op's saved output is the view, whose grad_fn leads through CopySlices; taken
    as the op's own node, the second pass ran that node twice ("backward through the graph a second time")."""
    ours, theirs = case(gradscope), case(torch)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def _data_set(value, requires_grad=True):
    def case(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=requires_grad)
        a.data = value(lib)
        return a, a.requires_grad
    return case


@pytest.mark.parametrize("case", [_data_set(lambda lib: lib.tensor([1, 2])),
                                  _data_set(lambda lib: lib.tensor([True, False])),
                                  _data_set(lambda lib: lib.tensor([1, 2]), requires_grad=False),
                                  _data_set(lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float64)),
                                  _data_set(lambda lib: lib.tensor([1 + 2j]))],
                         ids=["int into a leaf requiring grad", "bool into it", "int into a plain tensor",
                              "float64 into float32", "complex"])
def test_what_data_may_be_set_to(case):
    assert _outcome(case, gradscope) == _outcome(case, torch)
