"""Sample calls of every differentiable function: the table the op tests run over.

A sample is one call `fn(lib, *inputs)`, written once for both libraries: `lib` is gradscope or
torch (`lib.F` is its functional namespace) and `inputs` are floating tensors the tests build from
`shapes` and `domain`. Arguments that are not differentiated (indices, masks, class targets,
weights) are built inside the call, with `const`, so they follow the inputs' dtype.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from samples_linalg_extra import linalg_extra_calls
from samples_linalg_nn import linalg_nn_calls
from samples_nn import nn_calls
from samples_pointwise import pointwise_calls
from samples_selection import selection_calls
from samples_torch import torch_calls

SHAPES = ((), (3,), (2, 3), (1, 3))
# pairs that broadcast, including 0-dim and size-1 dims on either side
BROADCAST_PAIRS = (((2, 3), (3,)), ((3,), (2, 3)), ((2, 3), (1, 3)), ((), (2, 3)), ((2, 3), ()),
                   ((2, 1), (1, 3)), ((1, 3), (2, 1)))

# every domain keeps inputs away from the kinks of the ops that use it (0 for relu/abs/sign,
# integers and half-integers for floor/round); kinks are tested on purpose elsewhere
DOMAINS: dict[str, Callable] = {
    "signed": lambda rng, shape: rng.choice((-1.0, 1.0), shape) * rng.uniform(0.5, 1.5, shape),
    "positive": lambda rng, shape: rng.uniform(0.5, 2.0, shape),
    "unit": lambda rng, shape: rng.uniform(0.1, 0.9, shape),
    "offgrid": lambda rng, shape: rng.integers(-2, 2, shape) + rng.uniform(0.1, 0.4, shape),
}


@dataclass(frozen=True)
class Sample:
    """One call to differentiate: `fn(lib, *inputs)` returns a tensor or a tuple of tensors."""

    name: str
    fn: Callable
    shapes: tuple
    domain: str | tuple[str, ...] = "signed"
    eps: float = 1e-6  # finite-difference step
    atol: float = 1e-6  # looser for samples that round through float32

    def inputs(self) -> list[np.ndarray]:
        """The float64 input values, seeded by the sample's name (the same on every run)."""
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        domains = (self.domain,) * len(self.shapes) if isinstance(self.domain, str) else self.domain
        return [np.asarray(DOMAINS[domain](rng, shape), dtype=np.float64)
                for domain, shape in zip(domains, self.shapes, strict=True)]

    def __repr__(self) -> str:
        return self.name


def const(lib, values, like):
    """A constant tensor (weights, targets) with the dtype of the tensor `like`."""
    return lib.tensor(values, dtype=like.dtype)


def checkerboard(shape) -> np.ndarray:
    """A fixed boolean pattern with both values in it (conditions and masks)."""
    return np.asarray(np.indices(shape).sum(axis=0) % 2 == 0)


def label(*shapes) -> str:
    return ",".join("x".join(map(str, shape)) or "scalar" for shape in shapes)


def dims_of(shape) -> list:
    """Every way to name dims of `shape` in a reduction: each dim, a negative one, all of them, unsorted."""
    ndim = len(shape)
    if ndim == 0:
        return [0, -1]
    dims = list(range(ndim)) + [-1]
    if ndim > 1:
        dims += [tuple(range(ndim)), tuple(range(ndim))[::-1]]
    return dims


def _unary(name: str, fn: Callable, domain: str = "signed", shapes=SHAPES, **options) -> list[Sample]:
    return [Sample(f"{name}[{label(shape)}]", fn, (shape,), domain, **options) for shape in shapes]


def _binary(name: str, fn: Callable, domain="signed") -> list[Sample]:
    pairs = tuple((shape, shape) for shape in SHAPES) + BROADCAST_PAIRS
    return [Sample(f"{name}[{label(*pair)}]", fn, pair, domain) for pair in pairs]


def _elementwise() -> list[Sample]:
    samples = []
    for name, fn, domain in [
        ("neg", lambda lib, x: -x, "signed"),
        ("exp", lambda lib, x: lib.exp(x), "signed"),
        ("log", lambda lib, x: lib.log(x), "positive"),
        ("log1p", lambda lib, x: lib.log1p(x), "positive"),
        ("sqrt", lambda lib, x: lib.sqrt(x), "positive"),
        ("rsqrt", lambda lib, x: lib.rsqrt(x), "positive"),
        ("reciprocal", lambda lib, x: lib.reciprocal(x), "signed"),
        ("sin", lambda lib, x: lib.sin(x), "signed"),
        ("cos", lambda lib, x: x.cos(), "signed"),
        ("tanh", lambda lib, x: lib.tanh(x), "signed"),
        ("sigmoid", lambda lib, x: x.sigmoid(), "signed"),
        ("relu", lambda lib, x: lib.relu(x), "signed"),
        ("leaky_relu", lambda lib, x: lib.F.leaky_relu(x, 0.2), "signed"),
        ("gelu", lambda lib, x: lib.F.gelu(x), "signed"),
        ("gelu_tanh", lambda lib, x: lib.F.gelu(x, approximate="tanh"), "signed"),
        ("erf", lambda lib, x: x.erf(), "signed"),
        ("erf_function", lambda lib, x: lib.erf(x), "signed"),
        ("silu", lambda lib, x: lib.F.silu(x), "signed"),
        ("abs", lambda lib, x: x.abs(), "signed"),
        ("sign", lambda lib, x: x.sign(), "offgrid"),
        ("floor", lambda lib, x: x.floor(), "offgrid"),
        ("ceil", lambda lib, x: x.ceil(), "offgrid"),
        ("round", lambda lib, x: x.round(), "offgrid"),
        ("trunc", lambda lib, x: x.trunc(), "offgrid"),
        ("clone", lambda lib, x: x.clone(), "signed"),
        ("clamp_min", lambda lib, x: x.clamp(min=-0.9), "signed"),
        ("clamp_max", lambda lib, x: lib.clamp(x, max=0.8), "signed"),
        ("clamp_both", lambda lib, x: x.clamp(-0.9, 0.8), "signed"),
        ("clamp_min_method", lambda lib, x: x.clamp_min(-0.9), "signed"),
        ("clamp_max_function", lambda lib, x: lib.clamp_max(x, 0.8), "signed"),
        ("square", lambda lib, x: x.square(), "signed"),
        ("pow_2", lambda lib, x: x ** 2, "signed"),
        ("pow_3", lambda lib, x: lib.pow(x, 3), "signed"),
        ("pow_1", lambda lib, x: x ** 1, "signed"),
        ("pow_0", lambda lib, x: x ** 0, "signed"),
        ("pow_half", lambda lib, x: x ** 0.5, "positive"),
        ("pow_neg", lambda lib, x: x ** -1.5, "positive"),
        ("rpow_2", lambda lib, x: 2 ** x, "signed"),
        ("rpow_half", lambda lib, x: lib.pow(0.5, x), "signed"),
        ("rsub_1", lambda lib, x: 1 - x, "signed"),
        ("rsub_float", lambda lib, x: 2.5 - x, "signed"),
        ("add_scalar", lambda lib, x: x + 2, "signed"),
        ("radd_scalar", lambda lib, x: 2.5 + x, "signed"),
        ("sub_scalar", lambda lib, x: x - 2, "signed"),
        ("mul_scalar", lambda lib, x: 3 * x, "signed"),
        ("div_scalar", lambda lib, x: x / 4, "signed"),
        ("rdiv_scalar", lambda lib, x: 2 / x, "signed"),
        ("where_scalar", lambda lib, x: lib.where(lib.tensor(checkerboard(x.shape)), x, 0.5), "signed"),
    ]:
        samples += _unary(name, fn, domain)
    # NOTE: a float32 round trip loses digits, so these take a large step and a loose tolerance.
    samples += _unary("to_float64", lambda lib, x: x.to(lib.float32).to(lib.float64), eps=1e-2, atol=1e-4)
    samples += _unary("double", lambda lib, x: x.float().double(), shapes=((2, 3),), eps=1e-2, atol=1e-4)
    for name, fn, domain in [
        ("add", lambda lib, x, y: x + y, "signed"),
        ("add_alpha", lambda lib, x, y: lib.add(x, y, alpha=0.5), "signed"),
        ("sub", lambda lib, x, y: x - y, "signed"),
        ("sub_alpha", lambda lib, x, y: lib.sub(x, y, alpha=2), "signed"),
        ("mul", lambda lib, x, y: x * y, "signed"),
        ("div", lambda lib, x, y: x / y, "signed"),
        ("pow_tensor", lambda lib, x, y: x ** y, ("positive", "signed")),
        ("maximum", lambda lib, x, y: lib.maximum(x, y), "signed"),
        ("minimum", lambda lib, x, y: lib.minimum(x, y), "signed"),
        ("where", lambda lib, x, y: lib.where(
            lib.tensor(checkerboard(np.broadcast_shapes(x.shape, y.shape))), x, y), "signed"),
    ]:
        samples += _binary(name, fn, domain)
    # tensor bounds get gradients too; with random bounds some mins exceed their max
    for name, fn, shapes in [
        ("clamp_tensors", lambda lib, x, lo, hi: x.clamp(lo, hi), ((2, 3), (2, 3), (2, 3))),
        ("clamp_tensors", lambda lib, x, lo, hi: lib.clamp(x, lo, hi), ((2, 3), (3,), ())),
        ("clamp_tensor_min", lambda lib, x, lo: x.clamp(min=lo), ((2, 3), (3,))),
        ("clamp_tensor_max", lambda lib, x, hi: lib.clamp(x, max=hi), ((3,), ())),
        ("clamp_min_tensor", lambda lib, x, lo: x.clamp_min(lo), ((2, 3), (1, 3))),
        ("clamp_max_tensor", lambda lib, x, hi: lib.clamp_max(x, hi), ((2, 3), (2, 3))),
    ]:
        samples.append(Sample(f"{name}[{label(*shapes)}]", fn, shapes))
    return samples


def _reductions() -> list[Sample]:
    samples = []
    for shape in SHAPES:
        one = (shape,)
        samples += [
            Sample(f"sum[{label(shape)}]", lambda lib, x: x.sum(), one),
            Sample(f"mean[{label(shape)}]", lambda lib, x: lib.mean(x), one),
            Sample(f"max[{label(shape)}]", lambda lib, x: x.max(), one),
            Sample(f"min[{label(shape)}]", lambda lib, x: lib.min(x), one),
            Sample(f"amax[{label(shape)}]", lambda lib, x: x.amax(), one),
            Sample(f"amin[{label(shape)}]", lambda lib, x: lib.amin(x), one),
            Sample(f"prod[{label(shape)}]", lambda lib, x: x.prod(), one),
            Sample(f"var[{label(shape)}]", lambda lib, x: x.var(correction=0), one),
            Sample(f"std[{label(shape)}]", lambda lib, x: x.std(unbiased=False), one),
        ]
        if math.prod(shape) > 1:
            samples += [Sample(f"var_unbiased[{label(shape)}]", lambda lib, x: x.var(), one),
                        Sample(f"std_unbiased[{label(shape)}]", lambda lib, x: lib.std(x), one)]
        for p in (2, 1, math.inf, 3, 0):
            samples.append(Sample(f"norm_p{p}[{label(shape)}]", lambda lib, x, p=p: x.norm(p), one))
        for dim in dims_of(shape):
            reduced = math.prod(shape[d] for d in (dim if isinstance(dim, tuple) else (dim,))) if shape else 1
            for keepdim in (False, True):
                tag = f"dim{dim}{'_keepdim' if keepdim else ''}[{label(shape)}]".replace(" ", "")
                samples += [
                    Sample(f"sum_{tag}", lambda lib, x, d=dim, k=keepdim: x.sum(d, keepdim=k), one),
                    Sample(f"mean_{tag}", lambda lib, x, d=dim, k=keepdim: lib.mean(x, d, k), one),
                    Sample(f"amax_{tag}", lambda lib, x, d=dim, k=keepdim: x.amax(d, k), one),
                    Sample(f"amin_{tag}", lambda lib, x, d=dim, k=keepdim: lib.amin(x, d, keepdim=k), one),
                    Sample(f"logsumexp_{tag}", lambda lib, x, d=dim, k=keepdim: x.logsumexp(d, k), one),
                    Sample(f"var0_{tag}", lambda lib, x, d=dim, k=keepdim: x.var(d, keepdim=k, correction=0), one),
                    Sample(f"std0_{tag}", lambda lib, x, d=dim, k=keepdim: lib.std(x, d, False, k), one),
                ]
                for p in (2, 1, math.inf, 3):
                    samples.append(Sample(f"norm_p{p}_{tag}", lambda lib, x, p=p, d=dim, k=keepdim:
                                          x.norm(p, d, k), one))
                if reduced > 1:
                    samples += [
                        Sample(f"var_{tag}", lambda lib, x, d=dim, k=keepdim: lib.var(x, d, keepdim=k), one),
                        Sample(f"std_{tag}", lambda lib, x, d=dim, k=keepdim: x.std(d, keepdim=k), one),
                    ]
                if not isinstance(dim, tuple):
                    samples += [
                        Sample(f"prod_{tag}", lambda lib, x, d=dim, k=keepdim: x.prod(d, keepdim=k), one),
                        Sample(f"max_{tag}", lambda lib, x, d=dim, k=keepdim: x.max(d, keepdim=k), one),
                        Sample(f"min_{tag}", lambda lib, x, d=dim, k=keepdim: lib.min(x, d, k), one),
                    ]
    return samples


def _linalg() -> list[Sample]:
    matmul_pairs = (((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)), ((2, 2, 3), (3,)),
                    ((3,), (2, 3, 4)), ((2, 2, 3), (3, 4)), ((2, 3), (2, 3, 4)), ((2, 2, 3), (2, 3, 4)),
                    ((2, 1, 2, 3), (3, 3, 2)), ((1, 2, 3), (2, 3, 2)))
    samples = [Sample(f"matmul[{label(*pair)}]", lambda lib, a, b: a @ b, pair) for pair in matmul_pairs]
    samples += [
        Sample("mm[2x3,3x4]", lambda lib, a, b: lib.mm(a, b), ((2, 3), (3, 4))),
        Sample("bmm[2x2x3,2x3x4]", lambda lib, a, b: a.bmm(b), ((2, 2, 3), (2, 3, 4))),
        Sample("dot[3,3]", lambda lib, a, b: lib.dot(a, b), ((3,), (3,))),
        Sample("mv[2x3,3]", lambda lib, a, b: a.mv(b), ((2, 3), (3,))),
        Sample("outer[3,2]", lambda lib, a, b: lib.outer(a, b), ((3,), (2,))),
        Sample("matmul_transposed[3x2,3x4]", lambda lib, a, b: a.t() @ b, ((3, 2), (3, 4))),
    ]
    for equation, shapes in (("ij,jk->ik", ((2, 3), (3, 4))), ("i,i->", ((3,), (3,))), ("ij->ji", ((2, 3),)),
                             ("ij->", ((2, 3),)), ("bij,bjk->bik", ((2, 2, 3), (2, 3, 4))), ("ij,j->i", ((2, 3), (3,))),
                             ("i,j->ij", ((3,), (2,))), ("ij,jk", ((2, 3), (3, 2))), ("ij,ij->i", ((2, 3), (2, 3))),
                             ("ii->i", ((3, 3),)), ("ii", ((3, 3),)), ("ij->j", ((2, 3),))):
        samples.append(Sample(f"einsum_{equation}[{label(*shapes)}]",
                              lambda lib, *xs, equation=equation: lib.einsum(equation, *xs), shapes))
    samples.append(Sample("einsum_list[2x3,3x4]", lambda lib, a, b: lib.einsum("ij,jk->ik", [a, b]),
                          ((2, 3), (3, 4))))
    for bias in ((2, 4), (4,), (1, 4), (), (2, 1)):
        samples += [
            Sample(f"addmm[{label(bias)}]", lambda lib, c, a, b: lib.addmm(c, a, b), (bias, (2, 3), (3, 4))),
            Sample(f"addmm_scaled[{label(bias)}]", lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=2),
                   (bias, (2, 3), (3, 4))),
        ]
    # column-major operands (a linear layer's weight.t()): their gradients are computed in that layout
    samples += [
        Sample("addmm_transposed[4,3x2,4x3]", lambda lib, c, a, b: lib.addmm(c, a.t(), b.t()), ((4,), (3, 2), (4, 3))),
        Sample("linear[2x3,4x3,4]", lambda lib, x, w, b: lib.F.linear(x, w, b), ((2, 3), (4, 3), (4,))),
        Sample("linear_without_bias[2x3,4x3]", lambda lib, x, w: lib.F.linear(x, w), ((2, 3), (4, 3))),
    ]
    return samples


def _nn() -> list[Sample]:
    samples = []
    for shape in SHAPES:
        for dim in range(-1, max(len(shape), 1)):
            samples += [
                Sample(f"softmax_dim{dim}[{label(shape)}]", lambda lib, x, d=dim: lib.softmax(x, d), (shape,)),
                Sample(f"log_softmax_dim{dim}[{label(shape)}]", lambda lib, x, d=dim: x.log_softmax(d), (shape,)),
            ]
        for reduction in ("mean", "sum", "none"):
            samples.append(Sample(f"mse_loss_{reduction}[{label(shape)}]",
                                  lambda lib, x, t, r=reduction: lib.F.mse_loss(x, t, reduction=r), (shape, shape)))
    for reduction in ("mean", "sum", "none"):
        samples += [
            Sample(f"nll_loss_{reduction}[2x3]", lambda lib, x, r=reduction:
                   lib.F.nll_loss(x, lib.tensor([2, 0]), reduction=r), ((2, 3),)),
            Sample(f"nll_loss_weight_{reduction}[3x3]", lambda lib, x, r=reduction:
                   lib.F.nll_loss(x, lib.tensor([2, 0, 2]), const(lib, [0.2, 1.0, 3.0], x), reduction=r), ((3, 3),)),
            Sample(f"nll_loss_ignore_{reduction}[3x3]", lambda lib, x, r=reduction:
                   lib.F.nll_loss(x, lib.tensor([1, 0, 2]), ignore_index=0, reduction=r), ((3, 3),)),
            Sample(f"nll_loss_unbatched_{reduction}[3]", lambda lib, x, r=reduction:
                   lib.F.nll_loss(x, lib.tensor(1), reduction=r), ((3,),)),
        ]
        for shape in ((), (3,), (2, 3)):
            pair, domains = (shape, shape), ("signed", "unit")
            samples += [
                Sample(f"bce_logits_{reduction}[{label(shape)}]", lambda lib, x, t, r=reduction:
                       lib.F.binary_cross_entropy_with_logits(x, t, reduction=r), pair, domains),
                Sample(f"bce_logits_weight_{reduction}[{label(shape)}]", lambda lib, x, t, r=reduction:
                       lib.F.binary_cross_entropy_with_logits(
                           x, t, weight=const(lib, np.full(x.shape, 0.7), x), reduction=r), pair, domains),
            ]
        samples.append(Sample(f"bce_logits_pos_weight_{reduction}[2x3]", lambda lib, x, t, r=reduction:
                              lib.F.binary_cross_entropy_with_logits(
                                  x, t, weight=const(lib, [0.5, 1.0, 2.0], x),
                                  pos_weight=const(lib, [3.0, 1.0, 0.5], x),
                                  reduction=r), ((2, 3), (2, 3)), ("signed", "unit")))
    return samples


def _setitem(index, value_from):
    def fn(lib, x, v):
        y = x.clone()
        y[index(lib) if callable(index) else index] = value_from(v)
        return y
    return fn


def _shape() -> list[Sample]:
    m = ((2, 3),)
    samples = [
        Sample("view[2x3]", lambda lib, x: x.view(3, 2), m),
        Sample("view_flat[2x3]", lambda lib, x: x.view(-1), m),
        Sample("view[scalar]", lambda lib, x: x.view(1, 1), ((),)),
        Sample("view_as_scalar[1]", lambda lib, x: x.view(()), ((1,),)),
        Sample("reshape_view[2x3]", lambda lib, x: x.reshape(3, 2), m),
        Sample("reshape_copy[2x3]", lambda lib, x: x.t().reshape(6), m),
        Sample("reshape_copy_infer[2x2x3]", lambda lib, x: x.transpose(0, 2).reshape(-1, 2), ((2, 2, 3),)),
        Sample("flatten[2x3]", lambda lib, x: x.flatten(), m),
        Sample("flatten[scalar]", lambda lib, x: lib.flatten(x), ((),)),
        Sample("flatten_start[2x2x3]", lambda lib, x: x.flatten(1), ((2, 2, 3),)),
        Sample("t[2x3]", lambda lib, x: x.t(), m),
        Sample("t[3]", lambda lib, x: lib.t(x), ((3,),)),
        Sample("t[scalar]", lambda lib, x: x.t(), ((),)),
        Sample("T[2x3]", lambda lib, x: x.T, m),
        Sample("mT[2x2x3]", lambda lib, x: x.mT, ((2, 2, 3),)),
        Sample("transpose[2x3]", lambda lib, x: x.transpose(0, 1), m),
        Sample("transpose_neg[2x2x3]", lambda lib, x: lib.transpose(x, 0, -1), ((2, 2, 3),)),
        Sample("permute[2x3x4]", lambda lib, x: x.permute(2, 0, 1), ((2, 3, 4),)),
        Sample("permute_tuple[2x3x4]", lambda lib, x: lib.permute(x, (1, -1, 0)), ((2, 3, 4),)),
        Sample("squeeze[1x3]", lambda lib, x: x.squeeze(), ((1, 3),)),
        Sample("squeeze_all[1x3x1]", lambda lib, x: lib.squeeze(x), ((1, 3, 1),)),
        Sample("squeeze_dim0[1x3]", lambda lib, x: x.squeeze(0), ((1, 3),)),
        Sample("squeeze_dim_noop[1x3]", lambda lib, x: x.squeeze(1), ((1, 3),)),
        Sample("squeeze_dims[1x3x1]", lambda lib, x: x.squeeze((0, 2)), ((1, 3, 1),)),
        Sample("squeeze[scalar]", lambda lib, x: x.squeeze(), ((),)),
        Sample("expand[1x3]", lambda lib, x: x.expand(2, 3), ((1, 3),)),
        Sample("expand[3]", lambda lib, x: x.expand(2, 2, 3), ((3,),)),
        Sample("expand[scalar]", lambda lib, x: x.expand((2, 3)), ((),)),
        Sample("expand_infer[2x1]", lambda lib, x: x.expand(-1, 3), ((2, 1),)),
        Sample("expand_as[1x3]", lambda lib, x: x.expand_as(lib.tensor(np.zeros((2, 3)))), ((1, 3),)),
        Sample("contiguous[3x2]", lambda lib, x: x.t().contiguous(), ((3, 2),)),
        Sample("contiguous_noop[2x3]", lambda lib, x: x.contiguous(), m),
    ]
    for shape in SHAPES:
        for dim in (0, -1):
            samples.append(Sample(f"unsqueeze_dim{dim}[{label(shape)}]", lambda lib, x, d=dim: x.unsqueeze(d),
                                  (shape,)))
    getitems = [
        ("int", lambda lib: 1), ("negative_int", lambda lib: -1), ("int_int", lambda lib: (1, 2)),
        ("slice_step", lambda lib: (slice(None), slice(None, None, 2))), ("slice_full", lambda lib: slice(None)),
        ("slice_rows", lambda lib: slice(1, 2)), ("slice_negative", lambda lib: (slice(None), slice(-2, None))),
        ("none", lambda lib: None), ("ellipsis", lambda lib: Ellipsis), ("ellipsis_int", lambda lib: (Ellipsis, 1)),
        ("int_none_slice", lambda lib: (0, None, slice(1, None))), ("full_slices", lambda lib: (slice(None),) * 2),
        ("int_list", lambda lib: [0, 0, 1]), ("bool_mask", lambda lib: lib.tensor(checkerboard((2, 3)))),
        ("row_mask", lambda lib: lib.tensor([False, True])),
        ("tensor_repeats", lambda lib: lib.tensor([1, 1, 0])), ("two_tensors", lambda lib: ([0, 1, 1], [2, 2, 0])),
        ("slice_and_list", lambda lib: (slice(None), [0, 2, 2])),
        ("tensor_2d", lambda lib: lib.tensor([[0, 1], [1, 1]])),
    ]
    for name, index in getitems:
        samples.append(Sample(f"getitem_{name}[2x3]", lambda lib, x, index=index: x[index(lib)], m))
    samples += [
        Sample("getitem_chain[2x3]", lambda lib, x: x[1][0], m),
        Sample("getitem_ellipsis[scalar]", lambda lib, x: x[...], ((),)),
        Sample("getitem_none[scalar]", lambda lib, x: x[None], ((),)),
        Sample("setitem_int[2x3,3]", _setitem(0, lambda v: v), ((2, 3), (3,))),
        Sample("setitem_slice[2x3,2]", _setitem((slice(None), 1), lambda v: v), ((2, 3), (2,))),
        Sample("setitem_tensor[3x3,2x3]", _setitem(lambda lib: lib.tensor([0, 2]), lambda v: v), ((3, 3), (2, 3))),
        Sample("setitem_broadcast[3x3,3]", _setitem(lambda lib: lib.tensor([1, 0]), lambda v: v), ((3, 3), (3,))),
        Sample("setitem_mask[2x3,scalar]", _setitem(lambda lib: lib.tensor(checkerboard((2, 3))), lambda v: v),
               ((2, 3), ())),
        Sample("copy_[2x3,3]", lambda lib, x, src: x.clone().copy_(src), ((2, 3), (3,))),
        Sample("fill_[2x3]", lambda lib, x: x.clone().fill_(2.0), m),
        Sample("zero_[2x3]", lambda lib, x: x.clone().zero_(), m),
        Sample("fill_tensor[2x3,scalar]", lambda lib, x, v: x.clone().fill_(v), ((2, 3), ())),
        Sample("fill[2x3]", lambda lib, x: lib.fill(x, 2.0), m),
        Sample("fill_new_tensor[2x3,scalar]", lambda lib, x, v: lib.fill(x, v), ((2, 3), ())),
        Sample("setitem_ellipsis[2x3,scalar]", _setitem(Ellipsis, lambda v: v), ((2, 3), ())),
        Sample("masked_fill_tensor[2x3,scalar]", lambda lib, x, v: x.masked_fill(lib.tensor(checkerboard((2, 3))), v),
               ((2, 3), ())),
        Sample("uniform_[2x3]", lambda lib, x: x.clone().uniform_(0.25, 0.25), m),
        Sample("normal_[2x3]", lambda lib, x: x.clone().normal_(0.5, 0.0), m),
        Sample("cat_dim0[2x3,1x3]", lambda lib, a, b: lib.cat([a, b]), ((2, 3), (1, 3))),
        Sample("cat_dim1[2x3,2x1,2x2]", lambda lib, a, b, c: lib.cat((a, b, c), dim=-1), ((2, 3), (2, 1), (2, 2))),
        Sample("cat[3,2]", lambda lib, a, b: lib.cat([a, b], 0), ((3,), (2,))),
        Sample("stack[scalar,scalar]", lambda lib, a, b: lib.stack([a, b]), ((), ())),
        Sample("gather_dim1[2x3]", lambda lib, x: x.gather(1, lib.tensor([[0, 0], [2, 1]])), m),
        Sample("gather_dim0[2x3]", lambda lib, x: lib.gather(x, 0, lib.tensor([[1, 0, 1]])), m),
        Sample("masked_fill[2x3]", lambda lib, x: x.masked_fill(lib.tensor(checkerboard((2, 3))), 0.5), m),
        Sample("masked_fill_broadcast[2x3]", lambda lib, x: lib.masked_fill(x, lib.tensor([True, False, True]), -1.0),
               m),
        Sample("split[2x3]", lambda lib, x: x.split(1), m),
        Sample("split_dim1[2x3]", lambda lib, x: lib.split(x, 2, dim=1), m),
        Sample("split_sizes[2x3]", lambda lib, x: x.split([1, 2], 1), m),
        Sample("chunk[2x3]", lambda lib, x: x.chunk(2), m),
        Sample("chunk_dim1[2x3]", lambda lib, x: lib.chunk(x, 3, 1), m),
        Sample("unbind[2x3]", lambda lib, x: x.unbind(), m),
        Sample("unbind_dim1[2x3]", lambda lib, x: lib.unbind(x, 1), m),
    ]
    for dim in (0, 1, -1):
        samples.append(Sample(f"stack_dim{dim}[3,3]", lambda lib, a, b, d=dim: lib.stack((a, b), d), ((3,), (3,))))
    return samples


SAMPLES: list[Sample] = _elementwise() + _reductions() + _linalg() + _nn() + _shape() + [
    Sample(f"{name}[{label(*shapes)}]", fn, shapes) for name, fn, shapes in nn_calls()] + [
    Sample(f"{name}[{label(*shapes)}]", fn, shapes, **options)
    for name, fn, shapes, options in linalg_nn_calls() + linalg_extra_calls()] + [
    Sample(f"{name}[{label(*shapes)}]", fn, shapes, **options) for name, fn, shapes, options in torch_calls()] + [
    Sample(f"{name}[{label(*shapes)}]", fn, shapes, **options) for name, fn, shapes, options in selection_calls()] + [
    Sample(f"{name}[{label(*shapes)}]", fn, shapes, **options) for name, fn, shapes, options in pointwise_calls()]
