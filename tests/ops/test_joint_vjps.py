"""Joint VJPs (`Primitive.joint_vjp`: every wanted input gradient in one call) against the op's own rules: the
same gradients to the bit, each in its input's shape and dtype (the engine checks none of them), for every set
of inputs that wants one; and through the engine, on the plain path and on the general one (hooks, saved-tensor
hooks, create_graph, anomaly mode), as the rules give them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from finite_differences import Lib, differentiable_outputs, rng_for
from samples import SAMPLES

import gradscope
from gradscope.autograd.node import _first_order_vjp, _validate, _validate_all, node_class
from gradscope.ops import REGISTRY
from gradscope.ops import linalg as L
from gradscope.ops.namespace import NUMPY

GRADSCOPE = Lib(gradscope, gradscope.nn.functional)
# the joints the engine's plain path runs unchecked (a multi-output op's take the general path, which validates)
JOINT_OPS = sorted(name for name, op in REGISTRY.items() if op.joint_vjp is not None and op.plain_rules)
# joints whose shared work sums some gradient in another order than its rule: equal to rounding, not to the bit
# (convolution's weight gradient at stride 1 runs on g's columns, shared with the input's, its rule on x's)
REORDERED = {"convolution": {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}}


def _nodes_of(op, outputs) -> list:
    """The nodes of `op` in the graph behind `outputs`."""
    found, seen = [], set()
    stack = [out.grad_fn for out in outputs if out.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if getattr(node, "op", None) is op:
            found.append(node)
        stack += [child for child, _ in node.next_functions if child is not None]
    return found


def _incoming(sample, outputs, nodes) -> dict:
    """Each node's incoming gradients in a backward from `outputs` (seeded cotangents)."""
    captured = {}
    for node in nodes:
        node.register_prehook(lambda grads, node=node: captured.__setitem__(node, [g.numpy() for g in grads]))
    rng = rng_for(sample, "joint")
    cotangents = [gradscope.tensor(rng.standard_normal(tuple(out.shape)).astype(out.detach().numpy().dtype))
                  for out in outputs]
    gradscope.autograd.backward(outputs, cotangents, retain_graph=True)
    return captured


def _assert_same(joint, expected, what: str, tolerances=None) -> None:
    assert (joint is None) == (expected is None), what
    if joint is not None:
        assert type(joint) is type(expected) and joint.dtype == expected.dtype, what
        assert joint.shape == expected.shape, what
        if tolerances is None:
            np.testing.assert_array_equal(joint, expected, err_msg=what, strict=True)
        else:
            tolerance = tolerances[joint.dtype]
            np.testing.assert_allclose(joint, expected, rtol=tolerance, atol=tolerance * np.abs(expected).max(),
                                       err_msg=what)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", JOINT_OPS)
def test_joint_vjp_is_the_rules_bit_for_bit_in_each_inputs_shape_and_dtype(name, dtype):
    """(To rounding for the REORDERED ones.)"""
    op = REGISTRY[name]
    checked = 0
    for sample in SAMPLES:
        inputs = [gradscope.tensor(a.astype(dtype), requires_grad=True) for a in sample.inputs()]
        outputs = differentiable_outputs(sample.fn(GRADSCOPE, *inputs))
        nodes = _nodes_of(op, outputs)
        if not nodes:
            continue
        captured = _incoming(sample, outputs, nodes)
        for node in nodes:
            g, s, metas = captured[node][0], node._rule_arrays(), node._input_meta
            edges = [i for i, meta in enumerate(metas) if meta is not None]
            for count in range(1, len(edges) + 1):
                for wanted in itertools.combinations(edges, count):
                    joint = op.joint_vjp(g, s, [meta if i in wanted else None for i, meta in enumerate(metas)])
                    for i, (rule, meta) in enumerate(zip(op.vjp, metas, strict=True)):
                        expected = _validate(node, meta, rule(g, s), NUMPY, i) if i in wanted else None
                        what = f"{sample.name}, input {i} of {wanted}"
                        _assert_same(joint[i], expected, what, REORDERED.get(name))
                        if joint[i] is not None:
                            assert joint[i].shape == meta[0] and joint[i].dtype is meta[1], what
                    checked += 1
    assert checked


def _linear_stack(lib, dtype, hook=None):
    """Three Linear + tanh layers (the narrow bench's layer), batch 5, float `dtype`: its parameters' gradients
    after an MSE backward, and the loss."""
    rng = np.random.default_rng(3)
    arrays = [(rng.uniform(-0.5, 0.5, (4, 4)), rng.uniform(-0.5, 0.5, 4)) for _ in range(3)]
    x = lib.tensor(rng.standard_normal((5, 4)).astype(dtype))
    params = []
    h = x
    for w, b in arrays:
        weight = lib.tensor(w.astype(dtype), requires_grad=True)
        bias = lib.tensor(b.astype(dtype), requires_grad=True)
        params += [weight, bias]
        h = lib.nn.functional.linear(h, weight, bias)
        if hook is not None:
            hook(h)
        h = h.tanh()
    loss = (h * h).mean()
    loss.backward()
    return params


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_linear_layers_gradients_are_pytorchs_with_its_layout(dtype):
    ours, theirs = _linear_stack(gradscope, dtype), _linear_stack(torch, dtype)
    for mine, reference in zip(ours, theirs, strict=True):
        assert mine.grad.numpy().dtype == reference.grad.numpy().dtype
        assert mine.grad.stride() == reference.grad.stride()
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(),
                                   rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("hook", [
    lambda h: h.grad_fn.register_prehook(lambda grads: None),  # the node takes the engine's general path
    lambda h: h.grad_fn.register_hook(lambda inputs, outputs: None),
    lambda h: h.register_hook(lambda g: None),
    lambda h: h.retain_grad(),
], ids=["prehook", "posthook", "tensor_hook", "retain_grad"])
def test_the_general_path_gives_the_plain_paths_gradients(hook):
    plain = _linear_stack(gradscope, np.float32)
    general = _linear_stack(gradscope, np.float32, hook)
    for a, b in zip(plain, general, strict=True):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy(), strict=True)
        assert a.grad.stride() == b.grad.stride()


def test_saved_tensor_hooks_and_anomaly_mode_give_the_same_gradients():
    plain = _linear_stack(gradscope, np.float32)
    with gradscope.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        hooked = _linear_stack(gradscope, np.float32)
    with gradscope.autograd.detect_anomaly():
        checked = _linear_stack(gradscope, np.float32)
    for a, b, c in zip(plain, hooked, checked, strict=True):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy(), strict=True)
        np.testing.assert_array_equal(a.grad.numpy(), c.grad.numpy(), strict=True)


def _double_backward(lib):
    """A linear layer's input gradient with create_graph, differentiated again: the nodes it makes and the
    second-order gradients."""
    rng = np.random.default_rng(5)
    x = lib.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = lib.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    b = lib.tensor(rng.standard_normal((1, 2)), requires_grad=True)  # a bias summed over rows: SumBackward
    y = lib.nn.functional.linear(x, w, b.reshape(2)) + lib.addmm(b, x, w.t(), beta=0.5, alpha=2.0)
    gx, gw, gb = lib.autograd.grad((y * y).sum(), (x, w, b), create_graph=True)
    names = [g.grad_fn.name() for g in (gx, gw, gb)]
    second = lib.autograd.grad((gx * gx).sum() + (gw * gw).sum() + (gb * gb).sum(), (x, w, b))
    return names, [g.detach().numpy() for g in (gx, gw, gb, *second)]


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_double_backward_through_the_joint_is_the_rules_and_pytorchs(monkeypatch):
    names, values = _double_backward(gradscope)
    torch_names, torch_values = _double_backward(torch)
    assert names == torch_names
    for mine, reference in zip(values, torch_values, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)
    monkeypatch.setattr(L.addmm, "joint_vjp", None)  # the rules, one by one (the general path reads it per call)
    rule_names, rule_values = _double_backward(gradscope)
    assert rule_names == names
    for mine, reference in zip(values, rule_values, strict=True):
        np.testing.assert_array_equal(mine, reference, strict=True)


def _linear_errors(lib) -> list[str]:
    messages = []
    for action in ("again", "modified", "detached"):
        x = lib.tensor(np.ones((2, 3)), requires_grad=True)
        w = lib.tensor(np.ones((4, 3)), requires_grad=True)
        b = lib.tensor(np.ones(4), requires_grad=True)
        h = x * 2  # saved by the product with its grad_fn
        loss = lib.nn.functional.linear(h, w, b).sum()
        if action == "again":
            loss.backward()
        elif action == "modified":
            with lib.no_grad():
                w.mul_(2)
        else:
            h.detach_()
        try:
            loss.backward()
        except RuntimeError as error:
            messages.append(str(error).split("\n")[0])
    return messages


def test_a_freed_modified_or_detached_linear_layer_raises_pytorchs_errors():
    ours, theirs = _linear_errors(gradscope), _linear_errors(torch)
    assert len(ours) == 3
    assert ours == theirs


# ops whose first-order rule the engine's plain path runs on the bare arrays (Primitive.array_vjp)
ARRAY_OPS = sorted(name for name, op in REGISTRY.items() if op.array_vjp is not None)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ARRAY_OPS)
def test_array_vjp_is_the_rule_bit_for_bit(name, dtype):
    op = REGISTRY[name]
    checked = 0
    for sample in SAMPLES:
        inputs = [gradscope.tensor(a.astype(dtype), requires_grad=True) for a in sample.inputs()]
        outputs = differentiable_outputs(sample.fn(GRADSCOPE, *inputs))
        nodes = _nodes_of(op, outputs)
        if not nodes:
            continue
        captured = _incoming(sample, outputs, nodes)
        for node in nodes:
            g, s = captured[node][0], node._rule_arrays()
            expected = op.vjp[0](g, s)
            params = [getattr(s, name) for name in op.params]  # log_softmax's dim, nll_loss's target, weight …
            saved = [getattr(s, name) for name in op.saved_names]
            if op.held:  # nll_loss: its params as the node keeps them; None where its rules take the case
                got = op.array_vjp(g, *saved, tuple(params))
                if got is None:
                    continue
            else:
                got = op.array_vjp(g, *saved, *params)
            _assert_same(got, expected, sample.name)
            checked += 1
    assert checked


# ops whose nodes save nothing and have two rules of their params (add, sub): the plain path's `_vjp_of_params`
PARAMS_OPS = sorted(name for name, op in REGISTRY.items() if _first_order_vjp(op).__name__ == "_vjp_of_params")


def test_add_and_sub_run_by_their_params():
    assert {"add", "sub"} <= set(PARAMS_OPS)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", PARAMS_OPS)
def test_a_node_of_params_gives_the_general_paths_gradients_bit_for_bit(name, dtype):
    op = REGISTRY[name]
    checked = 0
    for sample in SAMPLES:
        inputs = [gradscope.tensor(a.astype(dtype), requires_grad=True) for a in sample.inputs()]
        outputs = differentiable_outputs(sample.fn(GRADSCOPE, *inputs))
        nodes = _nodes_of(op, outputs)
        if not nodes:
            continue
        captured = _incoming(sample, outputs, nodes)
        for node in nodes:
            if type(node) is not node_class(op):  # a complex node: the general path
                continue
            grads = [g if g is None else np.asarray(g) for g in captured[node]]
            expected = _validate_all(node, node._apply(list(grads), NUMPY, None), NUMPY)
            got = type(node)._vjp(node, list(grads), False)  # the class's: the prehook set the node's own to None
            assert len(got) == len(expected)
            for mine, general in zip(got, expected):
                _assert_same(mine, general, sample.name)
            checked += 1
    assert checked


def _activation_stack(lib, how: str):
    """Linear, then tanh, relu, sigmoid and t (each an array_vjp node): its gradients, or the error its backward
    raises after `how` ("plain", "again": a second backward, "modified": tanh's result changed in place,
    "modified relu": relu's, "hooked": saved-tensor hooks, "anomaly")."""
    rng = np.random.default_rng(7)
    x = lib.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = lib.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    b = lib.tensor(rng.standard_normal(4), requires_grad=True)
    hooks = lib.autograd.graph.saved_tensors_hooks(lambda t: t * 1, lambda t: t) if how == "hooked" else None
    if hooks is not None:
        hooks.__enter__()
    h = lib.tanh(lib.nn.functional.linear(x, w, b))
    r = lib.relu(h - 0.25)
    loss = (lib.sigmoid(r).t() @ x.t().tanh().t()).sum() + (h * 0.5).sum()
    if hooks is not None:
        hooks.__exit__(None, None, None)
    try:
        if how == "again":
            loss.backward(retain_graph=False)
        elif how in ("modified", "modified relu"):
            with lib.no_grad():
                (h if how == "modified" else r).mul_(2)
        if how == "anomaly":
            with lib.autograd.detect_anomaly():
                loss.backward()
        else:
            loss.backward()
    except RuntimeError as error:
        return str(error).split("\n")[0]
    return [t.grad.numpy() for t in (x, w, b)]


@pytest.mark.parametrize("how", ["plain", "again", "modified", "modified relu", "hooked", "anomaly"])
def test_array_vjp_nodes_give_pytorchs_gradients_and_errors(how):
    ours, theirs = _activation_stack(gradscope, how), _activation_stack(torch, how)
    if isinstance(theirs, str):
        assert ours == theirs
    else:
        for mine, reference in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)
        if how != "plain":
            for mine, plain in zip(ours, _activation_stack(gradscope, "plain"), strict=True):
                np.testing.assert_array_equal(mine, plain, strict=True)


# ops whose joint the engine's plain path runs on the bare saved arrays (Primitive.array_joint_vjp)
ARRAY_JOINT_OPS = sorted(name for name, op in REGISTRY.items() if op.array_joint_vjp is not None)


def test_a_linear_layers_nodes_run_their_joint_on_the_bare_arrays():
    assert {"addmm", "mm"} <= set(ARRAY_JOINT_OPS)
    for name in ("addmm", "mm"):
        assert node_class(REGISTRY[name])._vjp.__name__ == "_vjp_joint_arrays"


def _products(lib, a, b, c, w):
    """The layouts a linear layer's products meet: F.linear with and without a bias (a transposed weight), a
    transposed input, both transposed, and addmm scaled."""
    return (lib.nn.functional.linear(a, w, c), lib.nn.functional.linear(a, w), lib.mm(a.t().t(), w.t()),
            lib.mm(b.t(), a.t()), lib.addmm(c, b.t(), w.t(), beta=0.5, alpha=2.0), lib.addmm(c, a, w.t(), alpha=-1))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ARRAY_JOINT_OPS)
def test_array_joint_vjp_is_the_joint_bit_for_bit(name, dtype):
    """For every set of wanted inputs, on the samples and on a linear layer's layouts."""
    op = REGISTRY[name]
    rng = np.random.default_rng(11)
    cases = [(sample.name, [gradscope.tensor(a.astype(dtype), requires_grad=True) for a in sample.inputs()],
              sample.fn) for sample in SAMPLES]
    a, b, c, w = (rng.standard_normal(shape).astype(dtype) for shape in ((3, 4), (4, 3), (5,), (5, 4)))
    cases.append(("linear layouts", [gradscope.tensor(v, requires_grad=True) for v in (a, b, c, w)],
                  lambda lib, *inputs: _products(lib, *inputs)))
    checked = 0
    for what, inputs, fn in cases:
        outputs = differentiable_outputs(fn(GRADSCOPE, *inputs))
        nodes = _nodes_of(op, outputs)
        if not nodes:
            continue
        captured = {}
        for node in nodes:
            node.register_prehook(
                lambda grads, node=node, into=captured: into.__setitem__(node, [g.numpy() for g in grads]))
        gradscope.autograd.backward(outputs, [gradscope.ones_like(out) * 0.75 for out in outputs], retain_graph=True)
        for node in nodes:
            g, s, metas = captured[node][0], node._rule_arrays(), node._input_meta
            saved = [getattr(s, saved_name) for saved_name in op.saved_names]
            attrs = tuple(getattr(s, attr) for attr in op.params + op.attrs)
            assert attrs == node._attrs
            edges = [i for i, meta in enumerate(metas) if meta is not None]
            for count in range(1, len(edges) + 1):
                for wanted in itertools.combinations(edges, count):
                    wanted = [meta if i in wanted else None for i, meta in enumerate(metas)]
                    expected = op.joint_vjp(g, s, wanted)
                    got = op.array_joint_vjp(g, *saved, attrs, wanted)
                    assert len(got) == len(expected)
                    for i, (mine, general) in enumerate(zip(got, expected)):
                        _assert_same(mine, general, f"{what}, input {i} of {wanted}")
                        if mine is not None:  # the layout too: a weight's gradient comes in its own
                            assert mine.strides == general.strides, what
                    checked += 1
    assert checked


def _matrices(rows: int, cols: int, dtype, rng) -> list:
    """A rows x cols matrix in each layout a product's operand can have: C and Fortran order, a corner of a bigger
    array (in either order), a broadcast row, every other element, rows reversed, and a row of a bigger array."""
    def draw(*shape):
        return rng.standard_normal(shape).astype(dtype)
    bigger = draw(rows + 3, cols + 2)
    return [draw(rows, cols), np.asfortranarray(draw(rows, cols)), bigger[:rows, :cols],
            np.asfortranarray(bigger)[1:rows + 1, :cols], np.broadcast_to(draw(1, cols), (rows, cols)),
            draw(2 * rows, 2 * cols)[::2, ::2], draw(rows, cols)[::-1], draw(rows + 4, cols)[2:rows + 2]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sizes", [(16, 32, 32), (1, 3, 4), (3, 1, 1), (4, 0, 3), (16, 64, 33)])
def test_array_joints_of_products_give_matmuls_bits_in_every_layout(sizes, dtype):
    """mm's and addmm's array joints take np.dot where it gives matmul's bits (linalg._DOT: dense operands, a small
    product; the last sizes are past the backward's bound): each gradient is the rules' matmul formula's (_mat1_grad,
    _mat2_grad), value and layout, whatever the layouts of the incoming gradient and the saved matrices."""
    m, k, n = sizes
    rng = np.random.default_rng(13)
    checked = 0
    for g in _matrices(m, n, dtype, rng):
        for mat1 in _matrices(m, k, dtype, rng):
            for mat2 in _matrices(k, n, dtype, rng):
                strides1 = tuple(stride // mat1.itemsize for stride in mat1.strides)
                strides2 = tuple(stride // mat2.itemsize for stride in mat2.strides)
                expected = [L._mat1_grad(g, mat2, mat1.shape, strides1, np.transpose),
                            L._mat2_grad(g, mat1, mat2.shape, strides2, np.transpose)]
                metas = [(mat1.shape, mat1.dtype), (mat2.shape, mat2.dtype)]
                got_mm = L._mm_array_vjps(g, mat2, mat1, (mat2.shape, strides2, mat1.shape, strides1), metas)
                got_addmm = L._addmm_array_vjps(g, mat2, mat1, (1, 1, mat1.shape, strides1, mat2.shape, strides2),
                                                [None] + metas)
                for got in (got_mm, got_addmm[1:]):
                    for mine, reference in zip(got, expected, strict=True):
                        _assert_same(mine, reference, f"{g.strides} {mat1.strides} {mat2.strides}")
                        assert mine.strides == reference.strides
                checked += 1
    assert checked == 8 ** 3


def _linear_of_saved(lib, how: str):
    """F.linear (with a bias, and without) of an input that needs a gradient: the gradients, or the error the
    backward raises after `how` ("again", "modified": the weight changed in place, "detached": the input)."""
    results = []
    for bias in (True, False):
        x = lib.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
        w = lib.tensor(np.linspace(-2, 1, 12).reshape(4, 3), requires_grad=True)
        b = lib.tensor(np.ones(4), requires_grad=True) if bias else None
        h = x * 2
        loss = (lib.nn.functional.linear(h, w, b) ** 2).sum()
        try:
            if how == "again":
                loss.backward()
            elif how == "modified":
                with lib.no_grad():
                    w.mul_(2)
            elif how == "detached":
                h.detach_()
            loss.backward()
        except RuntimeError as error:
            results.append(str(error).split("\n")[0])
            continue
        results.append([t.grad.numpy() for t in (x, w, b) if t is not None])
    return results


@pytest.mark.parametrize("how", ["plain", "again", "modified", "detached"])
def test_a_linear_layer_with_or_without_a_bias_gives_pytorchs_gradients_and_errors(how):
    ours, theirs = _linear_of_saved(gradscope, how), _linear_of_saved(torch, how)
    for mine, reference in zip(ours, theirs, strict=True):
        if isinstance(reference, str):
            assert mine == reference
        else:
            for a, b in zip(mine, reference, strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
