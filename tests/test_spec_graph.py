"""Spec §2: graph nodes (names, next_functions, Node members and hooks), saved tensors (attributes, identity
rules, raw saved tensors and their hooks), saved_tensors_hooks and register_multi_grad_hook."""

from __future__ import annotations

import pytest

FREED = (
    "RuntimeError: Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you "
    "need to access saved tensors after calling backward."
)

# `a` is 2x3 and `b` is 3x2, both require grad (spec §2 table, torch 2.13 run).
NODE_NAMES = [
    ("a + a", "AddBackward0"), ("a - 1", "SubBackward0"), ("a - a", "SubBackward0"), ("1 - a", "RsubBackward1"),
    ("a * a", "MulBackward0"), ("torch.outer(a[0], a[1])", "MulBackward0"), ("a / 2", "DivBackward0"),
    ("a / a", "DivBackward0"), ("-a", "NegBackward0"), ("a ** 2", "PowBackward0"), ("a.square()", "PowBackward0"),
    ("a ** a", "PowBackward1"), ("2 ** a", "PowBackward2"), ("a.exp()", "ExpBackward0"), ("a.log()", "LogBackward0"),
    ("a.sin()", "SinBackward0"), ("a.cos()", "CosBackward0"), ("a.tanh()", "TanhBackward0"),
    ("a.sigmoid()", "SigmoidBackward0"), ("a.relu()", "ReluBackward0"), ("a.sqrt()", "SqrtBackward0"),
    ("a.abs()", "AbsBackward0"), ("a.log1p()", "Log1PBackward0"), ("a.reciprocal()", "ReciprocalBackward0"),
    ("a.sum()", "SumBackward0"), ("a.sum(0)", "SumBackward1"), ("a.mean()", "MeanBackward0"),
    ("a.mean(1)", "MeanBackward1"), ("a.max()", "MaxBackward1"), ("a.max(0)[0]", "MaxBackward0"),
    ("a.min()", "MinBackward1"), ("a.mm(b)", "MmBackward0"), ("a @ b", "MmBackward0"),
    ("torch.nn.functional.linear(a, b.t())", "MmBackward0"), ("a[0] @ b[:, 0]", "DotBackward0"),
    ("torch.dot(a[0], b[:, 0])", "DotBackward0"), ("a[None] @ b", "UnsafeViewBackward0"),
    ("torch.bmm(a[None], b[None])", "BmmBackward0"), ("torch.mv(a, b[:, 0])", "MvBackward0"),
    ("torch.addmm(a[:, :2], a, b)", "AddmmBackward0"), ("a.t()", "TBackward0"), ("a.T", "PermuteBackward0"),
    ("a.permute(1, 0)", "PermuteBackward0"), ("a.transpose(0, 1)", "TransposeBackward0"),
    ("a.view(6)", "ViewBackward0"), ("a.reshape(6)", "ViewBackward0"), ("a.flatten()", "ViewBackward0"),
    ("torch.einsum('ij,jk->ik', a, b)", "ViewBackward0"), ("a.t().reshape(6)", "UnsafeViewBackward0"),
    ("a.unsqueeze(0)", "UnsqueezeBackward0"), ("a[None].squeeze(0)", "SqueezeBackward1"),
    ("a[None].expand(2, 2, 3)", "ExpandBackward0"), ("a[0]", "SelectBackward0"), ("a[:, 1:]", "SliceBackward0"),
    ("a[[0, 1]]", "IndexBackward0"), ("a[a > 0]", "IndexBackward0"), ("torch.cat([a, a])", "CatBackward0"),
    ("torch.stack([a, a])", "StackBackward0"), ("a.clone()", "CloneBackward0"),
    ("a.t().contiguous()", "CloneBackward0"), ("a.softmax(0)", "SoftmaxBackward0"),
    ("a.log_softmax(0)", "LogSoftmaxBackward0"), ("torch.where(a > 0, a, b.t())", "WhereBackward0"),
    ("a.clamp(0, 1)", "ClampBackward1"), ("a.double()", "ToCopyBackward0"), ("a.to(torch.float64)", "ToCopyBackward0"),
    ("torch.nn.functional.mse_loss(a, b.t())", "MseLossBackward0"),
    ("torch.nn.functional.cross_entropy(a, torch.tensor([0, 2]))", "NllLossBackward0"), ("a.var()", "VarBackward0"),
    ("a.std()", "StdBackward0"), ("a.norm()", "LinalgVectorNormBackward0"), ("a.prod()", "ProdBackward0"),
    ("a.split(1)[0]", "SplitBackward0"), ("a.chunk(2)[0]", "SplitBackward0"), ("a.unbind()[0]", "UnbindBackward0"),
    ("a.gather(1, torch.tensor([[0], [1]]))", "GatherBackward0"), ("a.amax(0)", "AmaxBackward0"),
    ("a.logsumexp(0)", "LogsumexpBackward0"), ("torch.nn.functional.silu(a)", "SiluBackward0"),
    ("torch.nn.functional.gelu(a)", "GeluBackward0"), ("torch.nn.functional.leaky_relu(a)", "LeakyReluBackward0"),
    ("torch.maximum(a, b.t())", "MaximumBackward0"),
    ("torch.nn.BCEWithLogitsLoss()(a, b.t())", "BinaryCrossEntropyWithLogitsBackward0"),
]


@pytest.mark.parametrize("expr, name", NODE_NAMES)
def test_node_names(oracle, expr, name):
    oracle.check(
        f"""
        a = torch.tensor([[0.5, 1., 2.], [1.5, 0.25, 0.75]], requires_grad=True)
        b = torch.tensor([[1., 2.], [0.5, 0.5], [3., 1.]], requires_grad=True)
        node = ({expr}).grad_fn
        print(node.name(), type(node).__name__, isinstance(node, torch.autograd.graph.Node))
        """,
        stdout=f"{name} {name} True\n",
    )


def test_accumulate_grad_node(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        acc = (x * 2).grad_fn.next_functions[0][0]
        print(acc, acc.name(), type(acc).__name__)
        print(acc.variable is x, acc.next_functions, isinstance(acc, torch.autograd.graph.Node))
        print(acc is (x * 3).grad_fn.next_functions[0][0], acc._sequence_nr() == 2 ** 64 - 1)
        """,
        stdout="<AccumulateGrad object at 0x...> torch::autograd::AccumulateGrad AccumulateGrad\nTrue () True\n"
               "True True\n",
    )


def test_grad_fn_is_the_same_object_on_each_access(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        print(y.grad_fn is y.grad_fn, x.grad_fn)
        """,
        stdout="True None\n",
    )


def test_next_functions(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        w = torch.ones(2)
        y = x * w + x
        print(y.grad_fn.next_functions)
        print(y.grad_fn.next_functions[0][0].next_functions)
        print((x * 2).grad_fn.next_functions)
        u = torch.ones(3, requires_grad=True).clone()
        parts = u.unbind()
        print(parts[1].output_nr, (parts[1] + parts[2]).grad_fn.next_functions)
        """,
        stdout="((<MulBackward0 object at 0x...>, 0), (<AccumulateGrad object at 0x...>, 0))\n"
               "((<AccumulateGrad object at 0x...>, 0), (None, 0))\n"
               "((<AccumulateGrad object at 0x...>, 0), (None, 0))\n"
               "1 ((<UnbindBackward0 object at 0x...>, 1), (<UnbindBackward0 object at 0x...>, 2))\n",
    )


@pytest.mark.parametrize("expr, edges", [
    ("a + 1", "['AccumulateGrad', None]"), ("1 + a", "['AccumulateGrad', None]"), ("a - 1", "['AccumulateGrad', None]"),
    ("1 - a", "['AccumulateGrad']"), ("a * 2", "['AccumulateGrad', None]"), ("a / 2", "['AccumulateGrad', None]"),
    ("2 / a", "['ReciprocalBackward0', None]"), ("a ** 2", "['AccumulateGrad']"), ("2 ** a", "['AccumulateGrad']"),
    ("a.clamp(0, 1)", "['AccumulateGrad']"), ("torch.where(a > 0, a, 0.)", "['AccumulateGrad', None]"),
    ("a.pow(a)", "['AccumulateGrad', 'AccumulateGrad']"),
])
def test_next_functions_have_one_entry_per_differentiable_forward_input(oracle, expr, edges):
    oracle.check(
        f"""
        a = torch.ones(2, requires_grad=True)
        edges = ({expr}).grad_fn.next_functions
        print([None if node is None else type(node).__name__ for node, _ in edges])
        """,
        stdout=f"{edges}\n",
    )


def test_multi_output_ops_share_one_node(oracle):
    oracle.check(
        """
        u = torch.ones(3, requires_grad=True).clone()
        parts = u.unbind()
        print(parts[0].grad_fn is parts[2].grad_fn, [p.output_nr for p in parts])
        """,
        stdout="True [0, 1, 2]\n",
    )


def test_node_metadata_requires_grad_and_sequence_numbers(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        y = x * 2
        z = y + 1
        print(y.grad_fn.metadata)
        y.grad_fn.metadata["tag"] = "mine"
        print(y.grad_fn.metadata, z.grad_fn.next_functions[0][0].metadata)
        print(z.grad_fn._sequence_nr() > y.grad_fn._sequence_nr(), y.grad_fn.requires_grad)
        """,
        stdout="{}\n{'tag': 'mine'} {'tag': 'mine'}\nTrue True\n",
    )


def test_node_post_hook_and_pre_hook(oracle):
    oracle.check(
        """
        a = torch.ones(2, requires_grad=True)
        b = torch.ones(2, requires_grad=True)
        y = a * b
        seen = []
        def post(grad_inputs, grad_outputs):
            seen.append((len(grad_inputs), grad_outputs[0].tolist()))
            return (grad_inputs[0] * 10, grad_inputs[1])
        h = y.grad_fn.register_hook(post)
        y.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] * 2,))
        y.sum().backward(retain_graph=True)
        print(seen, a.grad, b.grad, type(h).__name__)
        h.remove()
        y.sum().backward()
        print(a.grad, b.grad)
        """,
        stdout="[(2, [2.0, 2.0])] tensor([20., 20.]) tensor([2., 2.]) RemovableHandle\n"
               "tensor([22., 22.]) tensor([4., 4.])\n",
    )


def test_node_post_hook_returning_the_wrong_count(oracle):
    oracle.check(
        """
        a = torch.ones(2, requires_grad=True)
        y = a * a
        y.grad_fn.register_hook(lambda gi, go: (gi[0],))
        y.sum().backward()
        """,
        error="RuntimeError: hook '<lambda>' has returned an incorrect number of values (got 1, but expected 2)",
    )


def test_accumulate_grad_post_hook_gets_no_grad_inputs(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        y = x * 3
        seen = []
        y.grad_fn.next_functions[0][0].register_hook(lambda gi, go: seen.append((gi, go)))
        y.sum().backward()
        print(seen)
        """,
        stdout="[((), (tensor([3., 3.]),))]\n",
    )


# saved tensors -------------------------------------------------------------------------------------------------
def test_saved_attributes(oracle):
    oracle.check(
        """
        a = torch.ones(2, 3, requires_grad=True)
        b = torch.ones(3, 2, requires_grad=True)
        p = a.pow(2).grad_fn
        print(sorted(n for n in dir(p) if n.startswith("_saved_")), p._saved_exponent, p._saved_self is a)
        m = (a * a).grad_fn
        print(sorted(n for n in dir(m) if n.startswith("_saved_")))
        mm = a.mm(b).grad_fn
        print(mm._saved_self is a, mm._saved_mat2 is b, mm._saved_self_sym_sizes, mm._saved_self_sym_strides)
        s = a.sum().grad_fn
        print(sorted(n for n in dir(s) if n.startswith("_saved_")), s._saved_self_sym_sizes)
        mean = a.mean().grad_fn
        print(mean._saved_self_sym_numel, mean._saved_self_sym_sizes, (a + a).grad_fn._saved_alpha)
        print(type(p._raw_saved_self).__name__)
        """,
        stdout="['_saved_exponent', '_saved_self'] 2 True\n['_saved_other', '_saved_self']\n"
               "True True (2, 3) (3, 1)\n['_saved_self_sym_sizes'] (2, 3)\n6 (2, 3) 1\nSavedTensor\n",
    )


def test_saved_tensor_identity_rules(oracle):
    oracle.check(
        """
        x = torch.randn(5, requires_grad=True)
        y = x.pow(2)
        print(x.equal(y.grad_fn._saved_self), x is y.grad_fn._saved_self)
        y = x.exp()
        print(y.equal(y.grad_fn._saved_result), y is y.grad_fn._saved_result)
        """,
        stdout="True True\nTrue False\n",
    )


def test_saved_tensors_are_freed_by_backward(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        y = x.exp()
        y.sum().backward()
        y.grad_fn._saved_result
        """,
        error=FREED,
    )
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        y = x.exp()
        y.sum().backward(retain_graph=True)
        print(y.grad_fn._saved_result)
        """,
        stdout="tensor([2.7183, 2.7183], grad_fn=<ExpBackward0>)\n",
    )


def test_raw_saved_tensor_hooks(oracle):
    oracle.check(
        """
        a = torch.ones(2, requires_grad=True)
        d = a.pow(2)
        def pack(t):
            print("pack", t)
            return ("box", t)
        def unpack(box):
            print("unpack")
            return box[1]
        d.grad_fn._raw_saved_self.register_hooks(pack, unpack)
        print(d.grad_fn._saved_self)
        d.sum().backward()
        print(a.grad)
        d.grad_fn._raw_saved_self.register_hooks(pack, unpack)
        """,
        stdout="pack tensor([1., 1.])\nunpack\ntensor([1., 1.], requires_grad=True)\nunpack\ntensor([2., 2.])\n",
        error="RuntimeError: Calling register_hooks on a saved tensor after it has been freed. Saved intermediate "
              "values of the graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True "
              "if you need to backward through the graph a second time or if you need to access saved variables "
              "after calling backward.",
    )
    oracle.check(
        """
        d = torch.ones(2, requires_grad=True).pow(2)
        d.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)
        d.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)
        """,
        error="RuntimeError: Calling register_hooks on a saved tensor whose hooks have already been set. Hint: only "
              "one pair of hooks is allowed at a time.",
    )


def test_saved_tensors_hooks_pack_in_forward_unpack_in_backward(oracle):
    oracle.check(
        """
        a = torch.ones(2, requires_grad=True)
        b = torch.full((2,), 3., requires_grad=True)
        log = []
        def pack(t):
            log.append(("pack", t.tolist(), t is a, t is b))
            return t
        def unpack(t):
            log.append(("unpack", t.tolist()))
            return t
        with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
            c = a * b
        print(log)
        log.clear()
        c.sum().backward()
        print(log, a.grad, b.grad)
        """,
        stdout="[('pack', [3.0, 3.0], False, True), ('pack', [1.0, 1.0], True, False)]\n"
               "[('unpack', [3.0, 3.0]), ('unpack', [1.0, 1.0])] tensor([3., 3.]) tensor([1., 1.])\n",
    )


def test_saved_tensors_hooks_rewrap_inputs(oracle):
    oracle.check(
        """
        a = torch.ones(2, requires_grad=True)
        with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            c = a * a
        print(c.grad_fn._saved_self is a, c.grad_fn._saved_self.equal(a))
        """,
        stdout="False True\n",
    )


def test_saved_tensors_hooks_are_thread_local(oracle):
    oracle.check(
        """
        import threading
        a = torch.ones(2, requires_grad=True)
        log = []
        with torch.autograd.graph.saved_tensors_hooks(lambda t: log.append("pack") or t, lambda t: t):
            worker = threading.Thread(target=lambda: a * a)
            worker.start()
            worker.join()
        print(log)
        """,
        stdout="[]\n",
    )


def test_save_on_cpu(oracle):
    oracle.check(
        """
        a = torch.tensor([1., 2.], requires_grad=True)
        b = torch.tensor([3., 4.], requires_grad=True)
        with torch.autograd.graph.save_on_cpu(pin_memory=False):
            y = (a * b).exp()
        y.sum().backward()
        print(a.grad, b.grad)
        """,
        stdout="tensor([   60.2566, 11923.8320]) tensor([  20.0855, 5961.9160])\n",  # b*e^(ab), a*e^(ab)
    )


def test_disable_saved_tensors_hooks(oracle):
    oracle.check(
        """
        with torch.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
            with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
        """,
        error="RuntimeError: no hooks here",
    )


def test_register_multi_grad_hook_all_and_any(oracle):
    oracle.check(
        """
        a = torch.ones(3, requires_grad=True)
        b = torch.ones(3, requires_grad=True)
        c = torch.ones(3, requires_grad=True)
        seen = []
        h = torch.autograd.graph.register_multi_grad_hook((a, b, c), seen.append)
        (a * 2 + b * 3).sum().backward()
        print(seen)
        h.remove()
        (a * 2).sum().backward()
        print(len(seen))
        anyseen = []
        torch.autograd.graph.register_multi_grad_hook((a, b), anyseen.append, mode="any")
        (a * 2 + b * 3).sum().backward()
        print(anyseen)
        """,
        stdout="[[tensor([2., 2., 2.]), tensor([3., 3., 3.]), None]]\n1\n"
               "[tensor([3., 3., 3.])]\n",
    )


MULTI_GRAD_SCENARIOS = {
    "root_and_interior": "register((c, b)); c.backward(retain_graph=True)",
    "root_and_interior_by_grad": "register((c, b)); torch.autograd.grad(c, b, retain_graph=True)",
    "root_only": "register((c,)); c.backward(retain_graph=True)",
    "root_and_leaf": "register((c, a)); c.backward(retain_graph=True)",
    "nonscalar_root": "register((b,)); b.backward(torch.ones(2), retain_graph=True)",
    "two_roots": "d = (a * 3).sum(); register((c, d)); torch.autograd.backward([c, d], retain_graph=True)",
    "one_of_two_roots": "d = (a * 3).sum(); register((c, d)); torch.autograd.backward([c], retain_graph=True)",
    "interior_with_inputs": "register((b, e)); c.backward(inputs=[w], retain_graph=True)",
    "leaf_input_of_grad": "register((b, a)); torch.autograd.grad(c, a, retain_graph=True)",
    "unused_leaf_of_grad": "register((b, w)); torch.autograd.grad(c, b, retain_graph=True)",
    "twice": "register((e, b)); c.backward(retain_graph=True); c.backward(retain_graph=True)",
    "not_requiring_grad": "register((b, torch.ones(2)))",
    "view_before_requires_grad": "z = torch.zeros(2); v = z[:1]; z.requires_grad_(); register((v,))",
}


@pytest.mark.parametrize("mode", ["all", "any"])
@pytest.mark.parametrize("scenario", MULTI_GRAD_SCENARIOS)
def test_multi_grad_hook_counts_as_pytorch(oracle, scenario, mode):
    """PyTorch's "all" mode counts the tensors whose nodes will run (torch._C._will_engine_execute_node, where a
    one-root backward's root is not in the graph) when the first hook runs, and calls fn on reaching that count,
    then counts afresh; autograd.grad refuses a leaf it runs; "any" calls fn once per backward."""
    oracle.check(f"""
        a = torch.tensor([1., 2.], requires_grad=True)
        w = torch.tensor([3., 4.], requires_grad=True)
        b = a * 2
        e = b * w
        c = e.sum()

        def show(grads):
            if isinstance(grads, list):
                print("all", [None if g is None else g.tolist() for g in grads])
            else:
                print("any", grads.tolist())

        def register(tensors):
            return torch.autograd.graph.register_multi_grad_hook(tensors, show, mode="{mode}")

        try:
            {MULTI_GRAD_SCENARIOS[scenario]}
        except Exception as error:
            print(type(error).__name__, error)
    """)


def test_nan_producing_ops_warn_nothing_even_with_all_warnings_shown(oracle):
    oracle.check(
        """
        import warnings
        warnings.simplefilter("always")
        a = torch.tensor([-1., 0.], requires_grad=True)
        (a ** a).sum().backward()
        print(a.log(), a.sqrt(), a.log1p(), a / 0)
        """,
        stdout="tensor([nan, -inf], grad_fn=<LogBackward0>) tensor([nan, 0.], grad_fn=<SqrtBackward0>) "
               "tensor([-inf, 0.], grad_fn=<Log1PBackward0>) tensor([-inf, nan], grad_fn=<DivBackward0>)\n",
        warns=(),
    )


# §10 acceptance checks ------------------------------------------------------------------------------------------
def test_check_18_next_functions(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        w = torch.ones(2)
        y = x * w + x
        print(y.grad_fn.next_functions)
        print(y.grad_fn.next_functions[0][0].next_functions[1])
        """,
        stdout="((<MulBackward0 object at 0x...>, 0), (<AccumulateGrad object at 0x...>, 0))\n(None, 0)\n",
    )


def test_check_19_saved_identity(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        print(x.pow(2).grad_fn._saved_self is x)
        y = x.exp()
        print(y.grad_fn._saved_result is y, y.grad_fn._saved_result.equal(y))
        """,
        stdout="True\nFalse True\n",
    )


def test_check_32_saved_tensors_hooks_and_raw_saved_hooks(oracle):
    oracle.check(
        """
        a = torch.ones(2, requires_grad=True)
        b = torch.ones(2, requires_grad=True)
        calls = []
        with torch.autograd.graph.saved_tensors_hooks(lambda t: calls.append("pack") or t,
                                                      lambda t: calls.append("unpack") or t):
            y = a * b
        print(calls)
        y.sum().backward()
        print(calls)
        z = a.pow(2)
        z.grad_fn._raw_saved_self.register_hooks(lambda t: calls.append("raw pack") or t, lambda t: t)
        print(calls[-1])
        z.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)
        """,
        stdout="['pack', 'pack']\n['pack', 'pack', 'unpack', 'unpack']\nraw pack\n",
        error="RuntimeError: Calling register_hooks on a saved tensor whose hooks have already been set. Hint: only "
              "one pair of hooks is allowed at a time.",
    )


def test_check_33_multi_grad_hook_with_an_unused_tensor(oracle):
    oracle.check(
        """
        a = torch.ones(3, requires_grad=True)
        b = torch.ones(3, requires_grad=True)
        c = torch.ones(3, requires_grad=True)
        torch.autograd.graph.register_multi_grad_hook((a, b, c), lambda grads: print(grads))
        (a * 2 + b * 3).sum().backward()
        """,
        stdout="[tensor([2., 2., 2.]), tensor([3., 3., 3.]), None]\n",
    )


def test_calling_a_node_runs_its_backward_as_torch(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        c = torch.full((2,), 3.)
        print((x * c).grad_fn(torch.ones(2)), (x * c).grad_fn(None))
        y = x.exp()
        print(y.grad_fn(torch.ones(2)))
        with torch.no_grad():
            print(y.grad_fn(torch.ones(2)))
        a, b = x.split(1)
        print(a.grad_fn(torch.ones(1), None))
        loss = (x * 2).sum()
        loss.backward()
        print(loss.grad_fn(torch.tensor(1.)), x.sum().grad_fn(torch.tensor(2.)))
        accumulate = (x * 2).grad_fn.next_functions[0][0]
        x.grad = None
        print(accumulate(torch.ones(2)), x.grad)
        z = x * x
        z.sum().backward()
        (x ** 2).grad_fn(torch.ones(2), torch.ones(2))
        """,
        error="TypeError: expected 1 arguments, got 2 instead",
    )
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        z = x * x
        z.sum().backward()
        z.grad_fn(torch.ones(2))
        """,
        error="RuntimeError: " + FREED.split(": ", 1)[1],
    )
