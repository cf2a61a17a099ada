"""A node's outputs are its op's differentiable outputs, numbered among themselves, as PyTorch's: a hook on
max(dim)'s node gets one gradient (its indices are not an output of the node), batch and layer norm's nodes one (their
mean and rstd aren't differentiable), group norm's three; linalg.lu's L and U are outputs 0 and 1 of its node, which
the next node's edge names. Before, every forward output counted: hooks got a gradient (None) for indices, and
`next_functions` named L as output 1."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).standard_normal((4, 5))
A = np.random.default_rng(1).standard_normal((4, 4)) + 4 * np.eye(4)
N = np.random.default_rng(2).standard_normal((4, 3, 2))

CASES = {
    "max_dim": lambda T, F, x, a, n: x.max(1),
    "min_dim": lambda T, F, x, a, n: x.min(1),
    "sort": lambda T, F, x, a, n: x.sort(1),
    "topk": lambda T, F, x, a, n: x.topk(2),
    "kthvalue": lambda T, F, x, a, n: x.kthvalue(2),
    "median_dim": lambda T, F, x, a, n: x.median(1),
    "mode": lambda T, F, x, a, n: x.mode(1),
    "cummax": lambda T, F, x, a, n: x.cummax(1),
    "cummin": lambda T, F, x, a, n: x.cummin(1),
    "frexp": lambda T, F, x, a, n: T.frexp(x),
    "var_mean": lambda T, F, x, a, n: T.var_mean(x, 1),
    "aminmax": lambda T, F, x, a, n: T.aminmax(x, dim=1),
    "max_pool2d_indices": lambda T, F, x, a, n: F.max_pool2d(x.view(1, 1, 4, 5), 2, return_indices=True),
    "adaptive_max_pool2d_indices": lambda T, F, x, a, n: F.adaptive_max_pool2d(x.view(1, 1, 4, 5), 2,
                                                                                 return_indices=True),
    "lu_factor": lambda T, F, x, a, n: T.linalg.lu_factor(a),
    "lu_factor_ex": lambda T, F, x, a, n: T.linalg.lu_factor_ex(a),
    "lu": lambda T, F, x, a, n: T.linalg.lu(a),
    "lu_unpack": lambda T, F, x, a, n: T.lu_unpack(*T.linalg.lu_factor(a)),
    "inv_ex": lambda T, F, x, a, n: T.linalg.inv_ex(a),
    "cholesky_ex": lambda T, F, x, a, n: T.linalg.cholesky_ex(a @ a.mT),
    "solve_ex": lambda T, F, x, a, n: T.linalg.solve_ex(a, x[:, :2]),
    "lstsq": lambda T, F, x, a, n: T.linalg.lstsq(a, x[:, :2]),
    "slogdet": lambda T, F, x, a, n: T.linalg.slogdet(a),
    "svd": lambda T, F, x, a, n: T.linalg.svd(a),
    "batch_norm": lambda T, F, x, a, n: (F.batch_norm(n, None, None, training=True),),
    "batch_norm_eval": lambda T, F, x, a, n: (F.batch_norm(n, T.zeros(3, dtype=T.float64),
                                                           T.ones(3, dtype=T.float64)),),
    "layer_norm": lambda T, F, x, a, n: (F.layer_norm(n, (2,)),),
    "group_norm": lambda T, F, x, a, n: (F.group_norm(n, 3),),
}


def _run(lib, name):
    x, a, n = (lib.tensor(v, requires_grad=True) for v in (X, A, N))
    outputs = tuple(CASES[name](lib, lib.nn.functional, x, a, n))
    node = next(o.grad_fn for o in outputs if o.grad_fn is not None)
    seen = []
    node.register_prehook(lambda grads: seen.append(("prehook", [g is None for g in grads])))
    node.register_hook(lambda grads_in, grads_out: seen.append(("hook", [g is None for g in grads_out])))
    metadata = [(o.requires_grad, o.output_nr if o.grad_fn is node else None) for o in outputs]
    # the next node's edge to each differentiable output names it by its number on the node
    edges = [(o * 2).grad_fn.next_functions[0][1] for o in outputs if o.grad_fn is node]
    total = sum((o * (i + 1)).sum() for i, o in enumerate(outputs) if o.grad_fn is node)
    total.backward()
    grads = [None if t.grad is None else t.grad.numpy() for t in (x, a, n)]
    return metadata, edges, seen, grads


@pytest.mark.parametrize("name", sorted(CASES))
def test_node_outputs_match_torch(name):
    metadata, edges, seen, grads = _run(gradscope, name)
    metadata_t, edges_t, seen_t, grads_t = _run(torch, name)
    assert (metadata, edges, seen) == (metadata_t, edges_t, seen_t)
    for mine, theirs in zip(grads, grads_t, strict=True):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-9)


def test_group_norm_statistics_are_differentiable_outputs():
    """native_group_norm's mean and rstd take gradients as PyTorch's do (F.group_norm hands them to no one, but its
    node has them as outputs 1 and 2): checked against torch.native_group_norm and by gradcheck/gradgradcheck."""
    from gradscope.autograd.dispatch import apply
    from gradscope.ops import normalization as N_ops

    weight = np.random.default_rng(3).standard_normal(3)
    x = np.random.default_rng(4).standard_normal((2, 3, 5))

    def mine(x, w):
        return apply(N_ops.native_group_norm, (x, w, None), (2, 3, 5, 3, 1e-5))

    def grads(lib, forward):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(weight, requires_grad=True)
        out, mean, rstd = forward(xt, wt)
        assert [t.output_nr for t in (out, mean, rstd)] == [0, 1, 2]
        (out.sum() + (mean * 2).sum() + (rstd ** 2).sum()).backward()
        return xt.grad.numpy(), wt.grad.numpy()

    theirs = grads(torch, lambda xt, wt: torch.native_group_norm(xt, wt, None, 2, 3, 5, 3, 1e-5))
    for a, b in zip(grads(gradscope, mine), theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    inputs = (gradscope.tensor(x, requires_grad=True), gradscope.tensor(weight, requires_grad=True))
    assert gradscope.autograd.gradcheck(mine, inputs)
    assert gradscope.autograd.gradgradcheck(mine, inputs)
