"""Spec §1: the tensor-level autograd API (flags, .grad, retain_grad, detach/.data, versions, backward's
arguments, tensor hooks, views, reprs), pinned to torch 2.13's observable behaviour.

Each test runs a snippet through the `oracle` fixture (tests/conftest.py): literal expectations from torch 2.13
always, and a full comparison with real torch when it is installed.
"""

from __future__ import annotations

import re

import pytest

import gradscope as gs

NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be "
    "populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf "
    "Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
    "you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more information."
)
NON_LEAF_FLAG = (
    "RuntimeError: you can only change requires_grad flags of leaf variables. If you want to use a computed "
    "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
)
E4_MUL = (
    "RuntimeError: one of the variables needed for gradient computation has been modified by an inplace "
    "operation: [torch.FloatTensor [3]], which is output 0 of ExpBackward0, is at version 1; expected version 0 "
    "instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
    "torch.autograd.set_detect_anomaly(True, check_nan=False)."
)


# requires_grad, contagion, is_leaf ---------------------------------------------------------------------------
def test_factories_default_to_no_grad_and_accept_requires_grad_under_no_grad(oracle):
    oracle.check(
        """
        print(torch.ones(2).requires_grad, torch.zeros(2).requires_grad, torch.tensor([1.]).requires_grad)
        with torch.no_grad():
            x = torch.ones(2, requires_grad=True)
        print(x.requires_grad, x.is_leaf, x.grad_fn)
        """,
        stdout="False False False\nTrue True None\n",
    )


def test_contagion_integer_and_bool_results_never_require_grad(oracle):
    oracle.check(
        """
        x = torch.tensor([1., 3., 2.], requires_grad=True)
        print(x.argmax(), (x > 1).requires_grad, (x > 1).grad_fn)
        print((x * 2).requires_grad, (torch.ones(3) * 2).requires_grad)
        """,
        stdout="tensor(1) False None\nTrue False\n",
    )


@pytest.mark.parametrize("op, name", [("round", "RoundBackward0"), ("floor", "FloorBackward0"),
                                      ("sign", "SignBackward0")])
def test_piecewise_constant_ops_get_nodes_with_zero_gradient(oracle, op, name):
    oracle.check(
        f"""
        x = torch.tensor([0.4, 1.6, -2.3], requires_grad=True)
        y = x.{op}()
        print(y.grad_fn.name(), y.requires_grad)
        y.sum().backward()
        print(x.grad)
        """,
        stdout=f"{name} True\ntensor([0., 0., 0.])\n",
    )


def test_is_leaf_rules(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        c = torch.ones(2)
        print(x.is_leaf, c.is_leaf, (c * 2).is_leaf, (x * 2).is_leaf)
        with torch.no_grad():
            n = x * 2
        print(n.is_leaf, n.requires_grad, (x * 2).detach().is_leaf)
        """,
        stdout="True True True False\nTrue False True\n",
    )


def test_requires_grad_underscore_returns_self_and_only_leaves_may_change_the_flag(oracle):
    oracle.check(
        """
        x = torch.ones(2)
        print(x.requires_grad_() is x, x.requires_grad, x.requires_grad_(False) is x, x.requires_grad)
        w = torch.ones(2, requires_grad=True)
        y = w * 2
        print(y.requires_grad_(True) is y, y.requires_grad)
        y.requires_grad_(False)
        """,
        stdout="True True True False\nTrue True\n",
        error=NON_LEAF_FLAG,
    )
    oracle.check(
        """
        y = torch.ones(2, requires_grad=True) * 2
        y.requires_grad = False
        """,
        error=NON_LEAF_FLAG,
    )


def test_leaf_made_under_no_grad_can_be_switched_on(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        with torch.no_grad():
            y = x * 2
        y.requires_grad_()
        print(y.is_leaf, y.requires_grad)
        (y * y).sum().backward()
        print(y.grad, x.grad)
        """,
        stdout="True True\ntensor([4., 4.]) None\n",
    )


def test_integer_tensors_cannot_require_grad_three_texts(oracle):
    oracle.check("torch.tensor([1, 2], requires_grad=True)",
                 error="RuntimeError: Only Tensors of floating point and complex dtype can require gradients")
    oracle.check("torch.tensor([1, 2]).requires_grad_()",
                 error="RuntimeError: only Tensors of floating point dtype can require gradients")
    oracle.check("torch.tensor([True]).requires_grad_()",
                 error="RuntimeError: only Tensors of floating point dtype can require gradients")
    oracle.check("torch.tensor([1, 2]).requires_grad = True",
                 error="RuntimeError: only Tensors of floating point and complex dtype can require gradients")
    oracle.check("torch.zeros(2, dtype=torch.int64, requires_grad=True)",
                 error="RuntimeError: Only Tensors of floating point and complex dtype can require gradients")


def test_float16_float64_complex64_may_require_grad(oracle):
    oracle.check(
        """
        for dt in (torch.float16, torch.float64, torch.complex64):
            print(torch.zeros(1, dtype=dt, requires_grad=True).requires_grad)
        """,
        stdout="True\nTrue\nTrue\n",
    )


# .grad -------------------------------------------------------------------------------------------------------
def test_grad_starts_none_and_stays_none_without_backward(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        unused = torch.ones(2, requires_grad=True)
        print(x.grad)
        (x * 2).sum().backward()
        print(x.grad, unused.grad)
        """,
        stdout="None\ntensor([2., 2.]) None\n",
    )


def test_grad_accumulates_in_place_and_out_of_place_under_create_graph(oracle):
    oracle.check(
        """
        import warnings
        warnings.simplefilter("ignore")
        x = torch.ones(2, requires_grad=True)
        (x * 2).sum().backward()
        first = x.grad
        (x * 2).sum().backward()
        print(x.grad is first, first)
        s = torch.tensor(2., requires_grad=True)
        (s ** 3).backward(create_graph=True)
        old = s.grad
        (s ** 3).backward(create_graph=True)
        print(s.grad is old, s.grad)
        """,
        stdout="True tensor([4., 4.])\nFalse tensor(24., grad_fn=<AddBackward0>)\n",
    )


def test_first_accumulation_does_not_alias_the_gradient_argument(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        g = torch.tensor([1., 2.])
        (x * 1).backward(g)
        print(x.grad is g)
        g.add_(10)
        print(x.grad)
        y = torch.ones(2, requires_grad=True)
        y.backward(g)
        print(y.grad is g, y.grad)
        """,
        stdout="False\ntensor([1., 2.])\nFalse tensor([11., 12.])\n",
    )


def test_optimizer_zero_grad_sets_grad_to_none(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        opt = torch.optim.SGD([x], lr=0.1)
        (x * 2).sum().backward()
        opt.step()
        print(x.grad, x)
        opt.zero_grad()
        print(x.grad)
        """,
        stdout="tensor([2., 2.]) tensor([0.8000, 0.8000], requires_grad=True)\nNone\n",
    )


def test_grad_setter_checks_size_and_dtype(oracle):
    oracle.check(
        "x = torch.ones(2, requires_grad=True)\nx.grad = torch.ones(3)",
        error="RuntimeError: attempting to assign a gradient of size '[3]' to a tensor of size '[2]'. Please ensure "
              "that the gradient and the tensor are the same size",
    )
    oracle.check(
        "x = torch.ones(2, requires_grad=True)\nx.grad = torch.ones(2, dtype=torch.float64)",
        error="RuntimeError: attempting to assign a gradient with dtype 'double' to a tensor with grad_dtype "
              "'Float'. The gradient must match the tensor's grad_dtype (defaults to the tensor's dtype). You can "
              "set the tensor's grad_dtype attribute with a specific dtype, or None to allow any dtype. Set "
              "grad_dtype with caution. Diverging the dtypes of a tensor and its gradient may break downstream "
              "systems that assume they match.",
    )
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        x.grad = torch.tensor([3., 4.])
        (x * 1).sum().backward()
        print(x.grad)
        x.grad = None
        print(x.grad)
        """,
        stdout="tensor([4., 5.])\nNone\n",
    )


def test_non_leaf_grad_warns_with_the_full_text():
    x = gs.ones(2, requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match=re.escape(NON_LEAF_GRAD)):
        assert y.grad is None


def test_non_leaf_grad_warning_on_every_access_and_not_on_leaves_or_retaining_tensors(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        y.grad
        y.grad
        x.grad
        z = x * 3
        z.retain_grad()
        z.grad
        """,
        warns=(f"UserWarning: {NON_LEAF_GRAD}",) * 2,
    )


def test_retain_grad_accumulates_and_is_a_no_op_on_leaves(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        y.retain_grad()
        print(y.retains_grad)
        (y * y).sum().backward(retain_graph=True)
        (y * y).sum().backward()
        print(y.grad)
        x.retain_grad()
        print(x.retains_grad)
        """,
        stdout="True\ntensor([8., 8.])\nFalse\n",
    )
    oracle.check("torch.ones(2).retain_grad()",
                 error="RuntimeError: can't retain_grad on Tensor that has requires_grad=False")


@pytest.mark.parametrize("retain_first", [True, False])
def test_retained_grad_is_the_value_after_all_tensor_hooks(oracle, retain_first):
    hook = "y.register_hook(lambda g: g * 10)"
    retain = "y.retain_grad()"
    first, second = (retain, hook) if retain_first else (hook, retain)
    oracle.check(
        f"""
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        {first}
        {second}
        y.sum().backward()
        print(y.grad, x.grad)
        """,
        stdout="tensor([10., 10.]) tensor([20., 20.])\n",
    )


# detach, .data, versions ---------------------------------------------------------------------------------------
def test_detach_shares_storage_and_version_counter(oracle):
    oracle.check(
        """
        x = torch.tensor([1., 2., 3.], requires_grad=True)
        y = x.exp()
        d = y.detach()
        print(d.requires_grad, d.is_leaf, d.grad_fn, y._version)
        d.zero_()
        print(y.detach(), y._version, d._version)
        y.sum().backward()
        """,
        stdout="False True None 0\ntensor([0., 0., 0.]) 1 1\n",
        error=E4_MUL.replace("ExpBackward0", "Exp"),
    )


def test_detach_underscore_in_place_and_on_views(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        print(y.detach_() is y, y.grad_fn, y.requires_grad, y.is_leaf)
        v = (x * 2)[0:1]
        v.detach_()
        """,
        stdout="True None False True\n",
        error="RuntimeError: Can't detach views in-place. Use detach() instead. If you are using "
              "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as True, gradients "
              "are views of DDP buckets, and hence detach_() cannot be called on these gradients. To fix this "
              "error, please refer to the Optimizer.zero_grad() function in torch/optim/optimizer.py as the "
              "solution.",
    )


def test_data_shares_storage_but_not_the_version_counter(oracle):
    oracle.check(
        """
        x = torch.tensor([1., 2., 3.], requires_grad=True)
        y = x.exp()
        print(x.data.requires_grad, y.data.requires_grad, y.data.is_leaf)
        y.data.zero_()
        print(y._version)
        y.sum().backward()
        print(x.grad)
        """,
        stdout="False False True\n0\ntensor([0., 0., 0.])\n",
    )


def test_version_counts_in_place_ops_shared_with_views_and_bumped_under_no_grad(oracle):
    oracle.check(
        """
        b = torch.zeros(4)
        v = b[1:3]
        print(b._version)
        b.add_(1)
        v[0] = 5
        v.mul_(2)
        print(b._version, v._version)
        x = torch.ones(2, requires_grad=True)
        with torch.no_grad():
            x.add_(1)
        print(x._version)
        """,
        stdout="0\n3 3\n1\n",
    )


def test_numpy_item_tolist_and_float_conversion(oracle):
    oracle.check(
        """
        x = torch.tensor([1.5, 2.], requires_grad=True)
        print(x.sum().item(), x.tolist(), x.detach().numpy().tolist())
        x.numpy()
        """,
        stdout="3.5 [1.5, 2.0] [1.5, 2.0]\n",
        warns=(),
        error="RuntimeError: Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.",
    )
    # NOTE: PyTorch gives this warning once per process unless warn_always is set; set here, so the check doesn't
    # depend on whether an earlier test (torch's LBFGS converts its loss) already drew it out
    oracle.check(
        """
        torch.set_warn_always(True)
        try:
            print(float(torch.tensor(2.5, requires_grad=True)))
        finally:
            torch.set_warn_always(False)
        """,
        stdout="2.5\n",
        warns=("UserWarning: Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
               "behavior.\nConsider using tensor.detach() first.",),
    )
    # only float() and complex() warn, and only where grad mode is on: LBFGS's no_grad step converts its loss
    # without a warning, and int() never warns
    oracle.check(
        """
        torch.set_warn_always(True)
        try:
            x = torch.tensor(2.5, requires_grad=True)
            print(int(x))
            with torch.no_grad():
                print(float(x))
            print(complex(x))
        finally:
            torch.set_warn_always(False)
        """,
        stdout="2\n2.5\n(2.5+0j)\n",
        warns=("UserWarning: Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
               "behavior.\nConsider using tensor.detach() first.",),
    )
    # set_warn_always makes PyTorch's once-per-process warnings warn every time
    oracle.check(
        """
        torch.set_warn_always(True)
        try:
            a = torch.ones(3)
            torch.cross(a, a)
            torch.cross(a, a)
        finally:
            torch.set_warn_always(False)
        print(torch.is_warn_always_enabled())
        """,
        stdout="False\n",
        warns=2 * ("UserWarning: Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass "
                   "the dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to "
                   "agree with that of linalg.cross in a future release.",),
    )


# backward arguments -------------------------------------------------------------------------------------------
def test_backward_returns_none_and_defaults_gradient_for_one_element_outputs(oracle):
    oracle.check(
        """
        x = torch.tensor([2.], requires_grad=True)
        print((x * 3).backward(), x.grad)
        s = torch.tensor(2., requires_grad=True)
        (s * 3).backward(torch.tensor(2.))
        print(s.grad)
        (s * 3).backward(torch.tensor(1., dtype=torch.float64))
        print(s.grad, s.grad.dtype)
        """,
        stdout="None tensor([3.])\ntensor(6.)\ntensor(9.) torch.float32\n",
    )


def test_backward_with_a_python_float_gradient_is_a_type_error(oracle):
    oracle.check("(torch.tensor(2., requires_grad=True) * 3).backward(2.0)",
                 error="TypeError: 'float' object is not iterable")


def test_retain_graph_defaults_to_create_graph(oracle):
    oracle.check(
        """
        x = torch.tensor(2., requires_grad=True)
        y = x.exp()
        g, = torch.autograd.grad(y, x, create_graph=True)
        g2, = torch.autograd.grad(y, x)
        print(torch.allclose(g, g2))
        torch.autograd.grad(y, x)
        """,
        stdout="True\n",
        error="RuntimeError: Trying to backward through the graph a second time (or directly access saved tensors "
              "after they have already been freed). Saved intermediate values of the graph are freed when you call "
              ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph "
              "a second time or if you need to access saved tensors after calling backward.",
    )


def test_backward_inputs_restricts_which_tensors_get_grad(oracle):
    oracle.check(
        """
        a = torch.tensor([1., 2.], requires_grad=True)
        b = torch.tensor([3., 4.], requires_grad=True)
        h = a * b
        out = (h * h).sum()
        out.backward(inputs=[h], retain_graph=True)
        print(h.grad, a.grad, b.grad)
        out.backward(inputs={a: None}.keys())
        print(a.grad, b.grad)
        (a * 2).sum().backward(inputs=a)
        print(a.grad)
        """,
        stdout="tensor([ 6., 16.]) None None\ntensor([18., 64.]) None\ntensor([20., 66.])\n",
        warns=(),  # h.grad was filled, so reading it does not warn
    )


def test_backward_inputs_empty_is_an_error_and_a_leaf_can_be_the_root(oracle):
    oracle.check("x = torch.ones(2, requires_grad=True)\n(x * 2).sum().backward(inputs=[])",
                 error="RuntimeError: `inputs` argument to `backward()` cannot be empty.")
    oracle.check("l = torch.tensor(5., requires_grad=True)\nl.backward()\nprint(l.grad)", stdout="tensor(1.)\n")


# tensor hooks ------------------------------------------------------------------------------------------------
def test_tensor_hooks_replace_in_order_and_return_removable_handles(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        calls = []
        h1 = y.register_hook(lambda g: calls.append(("a", g.tolist())) or g + 1)
        h2 = y.register_hook(lambda g: calls.append(("b", g.tolist())))
        h3 = y.register_hook(lambda g: g * 10)
        y.sum().backward(retain_graph=True)
        print(calls, x.grad)
        h1.remove()
        h3.remove()
        x.grad = None
        y.sum().backward()
        print(calls[-1], x.grad, type(h2).__name__)
        """,
        stdout="[('a', [1.0, 1.0]), ('b', [2.0, 2.0])] tensor([40., 40.])\n"
               "('b', [1.0, 1.0]) tensor([2., 2.]) RemovableHandle\n",
    )


def test_leaf_hooks_run_before_accumulation(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        x.register_hook(lambda g: g * 100)
        (x * 1).sum().backward()
        print(x.grad)
        """,
        stdout="tensor([100., 100.])\n",
    )


def test_grad_mode_inside_hooks_is_off_unless_create_graph(oracle):
    oracle.check(
        """
        seen = []
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        y.register_hook(lambda g: seen.append((torch.is_grad_enabled(), g.requires_grad)))
        (y * y).sum().backward(retain_graph=True)
        torch.autograd.grad((y * y).sum(), x, create_graph=True)
        print(seen)
        """,
        stdout="[(False, False), (True, True)]\n",
    )


@pytest.mark.parametrize("hook, error", [
    ("lambda g: torch.ones(3)", "RuntimeError: hook '<lambda>' has changed the size of value"),
    ("lambda g: g.double()",
     "RuntimeError: hook '<lambda>' has changed the type of value (was torch.FloatTensor got torch.DoubleTensor)"),
    ("lambda g: 1", "TypeError: expected Variable, but hook returned 'int'"),
])
def test_tensor_hook_return_value_errors(oracle, hook, error):
    oracle.check(
        f"""
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        y.register_hook({hook})
        y.sum().backward()
        """,
        error=error,
    )


def test_register_hook_on_a_tensor_without_grad(oracle):
    oracle.check("torch.ones(2).register_hook(lambda g: g)",
                 error="RuntimeError: cannot register a hook on a tensor that doesn't require gradient")


def test_hook_stays_bound_to_the_grad_fn_at_registration_time(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        seen = []
        y.register_hook(lambda g: seen.append(("old", g.tolist())))
        y.mul_(3)
        y.register_hook(lambda g: seen.append(("new", g.tolist())))
        y.sum().backward()
        print(seen, x.grad)
        """,
        stdout="[('new', [1.0, 1.0]), ('old', [3.0, 3.0])] tensor([6., 6.])\n",
    )


def test_post_accumulate_grad_hook_sees_the_updated_leaf(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        seen = []
        h = x.register_post_accumulate_grad_hook(lambda p: seen.append((p is x, p.grad.tolist())))
        (x * 3).sum().backward()
        (x * 3).sum().backward()
        h.remove()
        (x * 3).sum().backward()
        print(seen)
        (x * 2).register_post_accumulate_grad_hook(lambda p: None)
        """,
        stdout="[(True, [3.0, 3.0]), (True, [6.0, 6.0])]\n",
        error="RuntimeError: post accumulate grad hooks cannot be registered on non-leaf tensors",
    )


def test_hook_firing_order(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        b = x * 2
        c = b * 3
        log = []
        node = b.grad_fn
        node.register_hook(lambda gi, go: log.append("node post-hook") or None)
        node.register_prehook(lambda go: log.append("node pre-hook") or None)
        b.register_hook(lambda g: log.append("tensor hook") or None)
        b.retain_grad()
        b.register_hook(lambda g: log.append(("tensor hook 2", b.grad)) or None)
        c.sum().backward(retain_graph=True)
        print(log, b.grad, x.grad)
        log.clear()
        torch.autograd.grad(c.sum(), b, retain_graph=True)
        print(log, b.grad, x.grad)
        log.clear()
        c.sum().backward(inputs=[b])
        print(log, b.grad, x.grad)
        """,
        stdout="['tensor hook', ('tensor hook 2', None), 'node pre-hook', 'node post-hook'] tensor([3., 3.]) "
               "tensor([6., 6.])\n"
               "['tensor hook', ('tensor hook 2', tensor([3., 3.]))] tensor([6., 6.]) tensor([6., 6.])\n"
               "['tensor hook', ('tensor hook 2', tensor([6., 6.])), 'node pre-hook', 'node post-hook'] "
               "tensor([9., 9.]) tensor([6., 6.])\n",
    )


# views and clone ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("expr, name", [
    ("x.view(4)", "ViewBackward0"), ("x.reshape(4)", "ViewBackward0"), ("x[0]", "SelectBackward0"),
    ("x[0:1]", "SliceBackward0"), ("x.t()", "TBackward0"), ("x.transpose(0, 1)", "TransposeBackward0"),
    ("x.expand(3, 2, 2)", "ExpandBackward0"), ("x.unsqueeze(0)", "UnsqueezeBackward0"),
])
def test_views_share_storage_and_are_non_leaf(oracle, expr, name):
    oracle.check(
        f"""
        x = torch.ones(2, 2, requires_grad=True)
        v = {expr}
        print(v._base is x, v._is_view(), v.is_leaf, v.grad_fn.name())
        with torch.no_grad():
            x.mul_(7)
        print(v.flatten()[0].item())
        """,
        stdout=f"True True False {name}\n7.0\n",
    )


def test_setitem_writes_into_the_tensor_and_its_views(oracle):
    oracle.check(
        """
        y = torch.ones(3)
        y[0] = 4
        z = torch.ones(2, 2)
        v = z[0]
        z[0, 1] = 3
        x = torch.ones(2, requires_grad=True)
        with torch.no_grad():
            x[1] = 7
        print(y, v, x, y._version, z._version, x._version)
        """,
        stdout="tensor([4., 1., 1.]) tensor([1., 3.]) tensor([1., 7.], requires_grad=True) 1 1 1\n",
    )


def test_clone_copies(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        c = x.clone()
        print(c._base, c._is_view(), c.grad_fn.name())
        with torch.no_grad():
            c[0] = 5
        print(x)
        """,
        stdout="None False CloneBackward0\ntensor([1., 1.], requires_grad=True)\n",
    )


def test_in_place_on_a_view_of_a_non_leaf_rewrites_the_base_node(oracle):
    oracle.check(
        """
        base = torch.ones(4, requires_grad=True)
        b = base.clone()
        v = b[1:3]
        v.mul_(3)
        print(b)
        print(v.grad_fn.name(), b.grad_fn.name())
        b.sum().backward()
        print(base.grad)
        """,
        stdout="tensor([1., 3., 3., 1.], grad_fn=<CopySlices>)\nAsStridedBackward0 torch::autograd::CopySlices\n"
               "tensor([1., 3., 3., 1.])\n",
    )


def test_in_place_on_a_view_of_a_leaf_that_requires_grad(oracle):
    oracle.check("x = torch.ones(2, requires_grad=True)\nx[0:1].add_(1)",
                 error="RuntimeError: a view of a leaf Variable that requires grad is being used in an in-place "
                       "operation.")


def test_in_place_on_a_multi_output_view(oracle):
    oracle.check(
        "a = torch.ones(3, requires_grad=True).clone()\nu = a.unbind()\nu[0].mul_(2)",
        error="RuntimeError: Output 0 of Unbind is a view and is being modified inplace. This view is the output of "
              "a function that returns multiple views. Such functions do not allow the output views to be modified "
              "inplace. You should replace the inplace operation by an out-of-place one.",
    )


def test_view_made_under_no_grad_modified_in_grad_mode(oracle):
    oracle.check(
        """
        a = torch.ones(3, requires_grad=True).clone()
        with torch.no_grad():
            v = a[0:2]
        v.mul_(2)
        """,
        error="RuntimeError: A view was created in no_grad mode and is being modified inplace with grad mode "
              "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your "
              "code by moving both the view and the inplace either both inside the no_grad block (if you don't want "
              "the inplace to be tracked) or both outside (if you want the inplace to be tracked).",
    )


# repr formats ----------------------------------------------------------------------------------------------
def test_repr_formats(oracle):
    oracle.check(
        """
        x = torch.ones(2, 2, requires_grad=True)
        print(x)
        y = x + 2
        print(y)
        out = (y * y * 3).mean()
        print(out)
        out.backward()
        print(x.grad)
        print(torch.tensor(3., requires_grad=True))
        d = torch.tensor([1., 2.], dtype=torch.float64, requires_grad=True)
        print(d * 2)
        print(d)
        print(torch.tensor([], requires_grad=True))
        w = torch.tensor([-507307.8871, 525152.6237, -1442456.2454], dtype=torch.float64, requires_grad=True)
        print(w * 1)
        print(str(y) == repr(y))
        print(y.grad_fn)
        """,
        stdout="""\
        tensor([[1., 1.],
                [1., 1.]], requires_grad=True)
        tensor([[3., 3.],
                [3., 3.]], grad_fn=<AddBackward0>)
        tensor(27., grad_fn=<MeanBackward0>)
        tensor([[4.5000, 4.5000],
                [4.5000, 4.5000]])
        tensor(3., requires_grad=True)
        tensor([2., 4.], dtype=torch.float64, grad_fn=<MulBackward0>)
        tensor([1., 2.], dtype=torch.float64, requires_grad=True)
        tensor([], requires_grad=True)
        tensor([ -507307.8871,   525152.6237, -1442456.2454], dtype=torch.float64,
               grad_fn=<MulBackward0>)
        True
        <AddBackward0 object at 0x...>
        """,
    )


# legacy constructors ----------------------------------------------------------------------------------------
def test_legacy_size_constructors(oracle):
    oracle.check(
        """
        t = torch.Tensor(3, 5)
        print(t.shape, t.dtype, t.requires_grad, t.is_leaf)
        t2 = torch.FloatTensor(3, 3)
        t2.requires_grad = True
        print(t2.shape, t2.dtype, t2.requires_grad, t2.is_leaf, t2.grad_fn)
        print(torch.Tensor([1, 2]), torch.FloatTensor([[1], [2]]).shape, torch.Tensor().shape)
        """,
        stdout="torch.Size([3, 5]) torch.float32 False True\ntorch.Size([3, 3]) torch.float32 True True None\n"
               "tensor([1., 2.]) torch.Size([2, 1]) torch.Size([0])\n",
    )


# §10 acceptance checks ------------------------------------------------------------------------------------------
def test_check_01_print_of_an_op_result(oracle):
    oracle.check("x = torch.ones(2, 2, requires_grad=True)\nprint(x + 2)",
                 stdout="tensor([[3., 3.],\n        [3., 3.]], grad_fn=<AddBackward0>)\n")


def test_check_02_print_of_a_scalar_leaf(oracle):
    oracle.check("print(torch.tensor(3., requires_grad=True))", stdout="tensor(3., requires_grad=True)\n")


def test_check_03_tutorial_mean(oracle):
    oracle.check(
        """
        x = torch.ones(2, 2, requires_grad=True)
        out = ((x + 2) * (x + 2) * 3).mean()
        out.backward()
        print(out)
        print(x.grad)
        """,
        stdout="tensor(27., grad_fn=<MeanBackward0>)\ntensor([[4.5000, 4.5000],\n        [4.5000, 4.5000]])\n",
    )


def test_check_04_leaf_flags(oracle):
    oracle.check("x = torch.ones(2, 2, requires_grad=True)\nprint(x.is_leaf, (x + 2).is_leaf, x.grad_fn)",
                 stdout="True False None\n")


def test_check_05_contagion(oracle):
    oracle.check(
        "x = torch.randn(2, requires_grad=True)\n"
        "print((torch.randn(2) * 2).requires_grad, (torch.randn(2) * x).requires_grad)",
        stdout="False True\n",
        compare=False,
    )


def test_check_11_non_leaf_grad_is_none_and_warns():
    x = gs.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match=re.escape("is not a leaf Tensor is being accessed")):
        assert (x * 2).grad is None


def test_check_12_retain_grad(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        y = x * 3
        y.retain_grad()
        y.sum().backward()
        x.retain_grad()
        print(y.grad, x.retains_grad)
        torch.ones(2).retain_grad()
        """,
        stdout="tensor([1., 1.]) False\n",
        error="RuntimeError: can't retain_grad on Tensor that has requires_grad=False",
    )


def test_check_13_int_requires_grad(oracle):
    oracle.check("torch.tensor([1, 2], requires_grad=True)",
                 error="RuntimeError: Only Tensors of floating point and complex dtype can require gradients")


def test_check_17_detach_versus_data(oracle):
    oracle.check(
        """
        x = torch.ones(3, requires_grad=True)
        y = x * 2
        d = y.detach()
        print(d.data_ptr() == y.data_ptr())
        d.zero_()
        print(y._version, y)
        y.data.zero_()
        print(y._version)
        """,
        stdout="True\n1 tensor([0., 0., 0.], grad_fn=<MulBackward0>)\n1\n",
    )


def test_check_20_tensor_hook_scales_and_is_removable(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        h = y.register_hook(lambda g: g * 10)
        y.sum().backward(retain_graph=True)
        print(x.grad)
        h.remove()
        x.grad = None
        y.sum().backward(retain_graph=True)
        print(x.grad)
        y.register_hook(lambda g: None)
        x.grad = None
        y.sum().backward()
        print(x.grad)
        """,
        stdout="tensor([20., 20.])\ntensor([2., 2.])\ntensor([2., 2.])\n",
    )


def test_check_27_backward_inputs(oracle):
    oracle.check(
        """
        a = torch.ones(2, requires_grad=True)
        b = torch.ones(2, requires_grad=True)
        (a * b * 3).sum().backward(inputs=[a])
        print(a.grad, b.grad)
        (a * b).sum().backward(inputs=[])
        """,
        stdout="tensor([3., 3.]) None\n",
        error="RuntimeError: `inputs` argument to `backward()` cannot be empty.",
    )


def test_check_34_numpy_on_a_tensor_that_requires_grad(oracle):
    oracle.check("torch.ones(2, requires_grad=True).numpy()",
                 error="RuntimeError: Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                       "instead.")


def test_check_35_in_place_on_a_slice_of_a_non_leaf_clone(oracle):
    oracle.check(
        """
        base = torch.ones(4, requires_grad=True)
        b = base.clone()
        b[1:3].mul_(3)
        print(b)
        b.sum().backward()
        print(base.grad)
        """,
        stdout="tensor([1., 3., 3., 1.], grad_fn=<CopySlices>)\ntensor([1., 3., 3., 1.])\n",
    )


# gradscope.save / gradscope.load ----------------------------------------------------------------------------------
def test_save_load_round_trip(oracle, tmp_path):
    oracle.check(
        """
        import io
        w = torch.tensor([[1., 2.]], requires_grad=True)
        state = {"w": w, "step": 3, "names": ["a", "b"], "pair": (torch.arange(3), None),
                 "d": torch.ones(2, dtype=torch.float64), "flag": torch.tensor([True, False])}
        torch.save(state, path)
        back = torch.load(path)
        print(sorted(back), back["step"], back["names"], back["pair"], back["d"], back["flag"])
        print(back["w"], back["w"].is_leaf, back["w"].grad_fn, back["w"] is w)
        buffer = io.BytesIO()
        torch.save(torch.tensor(2.5), buffer)
        buffer.seek(0)
        print(torch.load(buffer))
        """,
        env={"path": str(tmp_path / "state.pt")},
        stdout="['d', 'flag', 'names', 'pair', 'step', 'w'] 3 ['a', 'b'] (tensor([0, 1, 2]), None) "
               "tensor([1., 1.], dtype=torch.float64) tensor([ True, False])\n"
               "tensor([[1., 2.]], requires_grad=True) True None False\ntensor(2.5000)\n",
    )


class _Payload:
    """Unpickling this object would create the marker file: proof that code ran."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').close()",))


def test_load_rejects_a_plain_pickle_without_running_it(tmp_path):
    import pickle

    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"w": _Payload(marker)}))
    with pytest.raises(ValueError):
        gs.load(path)
    assert not marker.exists()


def test_load_rejects_pickled_arrays_inside_a_save_file(tmp_path):
    import io
    import zipfile

    import numpy as np

    marker = tmp_path / "pwned"
    good = tmp_path / "good.pt"
    gs.save({"w": gs.ones(2)}, good)
    evil = tmp_path / "evil.pt"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(evil, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith(".npy"):
                stream = io.BytesIO()
                np.save(stream, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
                data = stream.getvalue()
            dst.writestr(name, data)
    with pytest.raises(ValueError):
        gs.load(evil)
    assert not marker.exists()


def test_load_rejects_a_torch_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    marker = tmp_path / "pwned"
    path = tmp_path / "torch.pt"
    torch.save({"w": torch.ones(2), "payload": _Payload(marker)}, path)
    with pytest.raises(ValueError):
        gs.load(path)
    assert not marker.exists()


def test_complex_casts_and_device_flags_as_torch(oracle):
    oracle.check(
        """
        x = torch.tensor([1.5, -2.0], requires_grad=True)
        y = x.cfloat()
        print(y, x.cdouble().dtype, y.grad_fn)
        print([getattr(x, name) for name in ("is_mps", "is_xpu", "is_xla", "is_ipu", "is_mtia", "is_maia",
                                             "is_vulkan", "is_mkldnn", "is_nested", "is_cpu")])
        """,
        stdout="tensor([ 1.5000+0.j, -2.0000+0.j], grad_fn=<ToCopyBackward0>) torch.complex128 "
               "<ToCopyBackward0 object at 0x...>\n"
               "[False, False, False, False, False, False, False, False, False, True]\n",
    )


def test_resize_in_place_as_torch(oracle):
    oracle.check(
        """
        x = torch.arange(6.)
        print(x.resize_(2, 3), x.shape, x._version)
        print(x.resize_(2), x)
        y = torch.arange(4.)
        y.resize_(6)
        print(y.shape, y[:4])
        z = torch.arange(4.)
        print(z.resize_as_(torch.ones(2, 2)).shape, z._version)
        a = torch.arange(4.)
        print(a.resize_((2, 2)).shape, a.resize_(torch.Size([4])).shape, a._version)
        c = torch.ones(2, 3).t()
        c.resize_(3, 2)
        print(c.is_contiguous(), c.shape)
        torch.ones(2, requires_grad=True).resize_(3)
        """,
        error="RuntimeError: cannot resize variables that require grad",
    )


def test_legacy_types_and_type_conversions_as_torch(oracle):
    oracle.check(
        """
        x = torch.tensor([[1.5, -2.0], [0.25, 3.0]])
        for t in (torch.ByteTensor, torch.CharTensor, torch.ShortTensor, torch.HalfTensor, torch.IntTensor,
                  torch.DoubleTensor, torch.FloatTensor, torch.BoolTensor):
            y = x.type(t)
            print(t.__name__, y.dtype, isinstance(y, t), y.type(), x.type(t.dtype).dtype, isinstance(x, t))
        print(torch.ByteTensor([1, 2]), torch.ShortTensor(2).shape, x.type(torch.FloatTensor) is x)
        print(x.type("torch.IntTensor"), x.type("torch.DoubleTensor").dtype)
        x.type("FloatTensor")
        """,
        error="ValueError: invalid type: 'FloatTensor'",
    )


def test_T_of_other_than_matrices_warns_as_torch(oracle):
    oracle.check(
        """
        torch.set_warn_always(True)  # PyTorch warns once a process: always, so no earlier test hides it
        try:
            print(torch.ones(2, 3, 4).T.shape, torch.ones(3).T.shape, torch.ones(()).T.shape, torch.ones(2, 3).T.shape)
        finally:
            torch.set_warn_always(False)
        """,
        stdout="torch.Size([4, 3, 2]) torch.Size([3]) torch.Size([]) torch.Size([3, 2])\n",
        warns=("UserWarning: The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
               "deprecated and it will throw an error in a future release. Consider `x.mT` to transpose batches of "
               "matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.",) * 2
              + ("UserWarning: Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases.",),
    )


def test_data_and_requires_grad_attributes_refuse_as_torch(oracle):
    oracle.check(
        """
        import numpy as np
        x = torch.randn(2, requires_grad=True)
        for name in ("data", "requires_grad"):
            try:
                exec(f"del x.{name}")
            except RuntimeError as error:
                print(error)
        for value in (None, np.ones(2), [1.0, 2.0]):
            try:
                x.data = value
            except TypeError as error:
                print(error)
        for value in (None, 1, np.bool_(True), "yes", False):
            try:
                x.requires_grad = value
            except RuntimeError as error:
                print(error)
        y = torch.zeros(2)
        y.data = torch.ones(3)
        print(y, x.requires_grad)
        """,
    )


def test_order_comparisons_refuse_complex_numbers_as_torch(oracle):
    oracle.check(
        """
        x = torch.tensor([1 + 1j, 2])
        f = torch.tensor([1., 3.])
        i = torch.tensor([1, 3])
        for expr in ("x < 1", "x > x", "x <= 1", "x >= 1", "torch.lt(x, 1)", "f < x", "f < 1j", "x.gt(f)",
                     "f > f", "i >= 2", "f.lt(2)", "x == x", "x != 1", "torch.less(f, i)", "i < True"):
            try:
                print(expr, eval(expr))
            except NotImplementedError as error:
                print(expr, error)
        """,
    )
