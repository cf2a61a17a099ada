"""Fused neural-network primitives, given their own rules for numerical stability."""

from __future__ import annotations

import functools
import math

import numpy as np

from gradscope.ops import activation_backwards as A
from gradscope.ops.activation_backwards import rule as backward_rule
from gradscope.ops.reduction import mean_of_all
from gradscope.ops.registry import REGISTRY, primitive


def _axes(x, dim: int) -> tuple:
    """The reduced axes: `dim`, or none at all for a 0-dim tensor (its dim 0 is itself)."""
    return (dim,) if x.ndim else ()


def _sums_along(a, dim: int):
    """Sums of an ndarray along `dim`, kept as a dim of size 1.

    NOTE: along the last dim NumPy's reduction runs its inner loop once per row (~330 instructions a row: 21k on
    (64, 10), a quarter of a log_softmax); a product with ones is one BLAS call (~8k)."""
    if a.ndim > 1 and dim == a.ndim - 1 and (a.dtype is _FLOAT32 or a.dtype is _FLOAT64):
        return _dot(a, _ones(a.shape[-1], a.dtype))[..., None]
    return a.sum(axis=_axes(a, dim), keepdims=True)


_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)
# NOTE: np.dot's C function without its __array_function__ dispatcher's Python frame: these are the arrays of tensors
_dot = getattr(np.dot, "_implementation", np.dot)


@functools.lru_cache(maxsize=64)
def _ones(n: int, dtype) -> np.ndarray:
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


def _class_sums(g, s):
    """A rule's sums of `g` along the op's dim (kept): `_sums_along` on arrays, a differentiable sum on tensors."""
    return s.xp.sum(g, _axes(g, s.dim), True) if s.xp.is_tensor else _sums_along(g, s.dim)


def _row_maxima(a, dim: int):
    """The maxima of an ndarray along `dim`, kept as a dim of size 1 (-inf over an empty dim: an empty result).
    NOTE: maximum.reduce itself, not `a.max()`, NumPy's Python frame around it (once per loss). Along the short
    rows of a tall matrix (a batch's logits: 64 x 10) NumPy's reduction costs ~60 ns a row: there the maxima are
    the transpose's, copied contiguous, reduced along its first dim (1.4 against 3.8 us at 64 x 10 float32). A
    maximum is exact: the two agree to the bit, NaN and the sign of a zero maximum included (test_fused_losses)."""
    if dim == 1 and a.ndim == 2 and a.shape[1] <= _NARROW and a.shape[0] >= _TALL:
        return _maximum_reduce(a.T.copy(), 0, None, None, False, -np.inf)[:, None]
    return _maximum_reduce(a, _axes(a, dim), None, None, True, -np.inf)


_NARROW, _TALL = 16, 32  # where the transpose's maxima are faster (float32 and float64, measured)


_maximum_reduce, _add_reduce = np.maximum.reduce, np.add.reduce


def _softmax(a, dim):
    shifted = np.exp(a - _row_maxima(a, dim))
    return shifted / _sums_along(shifted, dim)


softmax = primitive("softmax", _softmax, "SoftmaxBackward0", inputs=("self",), params=("dim",), saves=("result",),
                    vjp=(lambda g, s: s.result * (g - _class_sums(g * s.result, s)),), opmath_vjp=True)


def _log_softmax(a, dim):
    # NOTE: PyTorch's kernel order, (x - max) - log(sum(exp(x - max))): a +inf logit makes its whole row nan
    # there (inf - inf), where logsumexp's guard against infinite maxima would give the other classes -inf
    shifted = a - _row_maxima(a, dim)
    shifted -= np.log(_sums_along(np.exp(shifted), dim))
    return shifted


def log_softmax_backward(g, result, dim: int):
    """log_softmax's rule on arrays: g - exp(result) * (g's sums along dim)."""
    dtype = g.dtype
    if dim == 1 and g.ndim == 2 and (dtype is _FLOAT32 or dtype is _FLOAT64):  # _sums_along's way there, inline
        return g - np.exp(result) * _dot(g, _ones(g.shape[1], dtype))[:, None]
    return g - np.exp(result) * _sums_along(g, dim)


log_softmax = primitive("log_softmax", _log_softmax, "LogSoftmaxBackward0", inputs=("self",), params=("dim",),
                        saves=("result",), vjp=(lambda g, s: g - s.xp.exp(s.result) * _class_sums(g, s),),
                        array_vjp=log_softmax_backward, opmath_vjp=True)


# at::Reduction: PyTorch's fused loss kernels take the reduction as this enum, and their nodes show it so
# (`_saved_reduction` is 1 for 'mean'); nn.functional maps the argument's name to it
NONE, MEAN, SUM = 0, 1, 2


def _reduce(loss, reduction: int):
    if reduction == MEAN:
        return mean_of_all(loss)
    if reduction == SUM:
        return loss.sum()
    return loss


def _numel(x) -> int:
    """An ndarray's size, or a tensor's numel() under create_graph."""
    return math.prod(x.shape)


def _reduction_scale(g, s):
    """g over the input's element count for a 'mean' (PyTorch's `norm = 1 / numel`)."""
    return g / _numel(s.self) if s.reduction == MEAN else g


def _count_ignored(target, ignore_index, n_classes: int) -> int:
    """How many targets are `ignore_index`, after PyTorch's bounds check: a target that is neither a class nor
    `ignore_index` raises its IndexError (the forwards check; their backwards count with np.count_nonzero)."""
    unsigned = _UNSIGNED.get(target.dtype)
    # NOTE: one pass in the common case: read as unsigned, a negative target is larger than any class, so every
    # target is a class if the largest is below n_classes; and then none is ignored unless ignore_index is a class
    if unsigned is not None and (not target.size or _maximum_reduce(target.view(unsigned), None) < n_classes):
        return np.count_nonzero(target == ignore_index) if 0 <= ignore_index < n_classes else 0
    ignored = target == ignore_index
    bad = target[~ignored & ((target < 0) | (target >= n_classes))]
    if bad.size:
        raise IndexError(f"Target {bad.flat[0]} is out of bounds.")
    return np.count_nonzero(ignored)


def row_indices(n: int) -> np.ndarray:
    """np.arange(n), read-only, kept for the first 64 batch sizes up to 4096 met (the rows a loss picks its
    targets from): at most 2 MiB kept."""
    rows = _ROW_INDICES.get(n)
    if rows is None:
        rows = np.arange(n)
        rows.flags.writeable = False
        if n <= 4096 and len(_ROW_INDICES) < 64:
            _ROW_INDICES[n] = rows
    return rows


_ROW_INDICES: dict = {}


def _nll_weights(target, weight, ignore_index, n_ignored: int, dtype):
    """Each target's weight (its class's, 0 where ignored) and the targets made safe to index with. The
    weights are None when every target counts once (no class weights, none ignored): the common case
    then builds no array of ones to multiply by."""
    if not n_ignored:
        return (None if weight is None else weight[target].astype(dtype, copy=False)), target
    ignored = target == ignore_index
    safe = np.where(ignored, 0, target)
    picked = np.ones(target.shape, dtype) if weight is None else weight[safe]
    return np.where(ignored, 0, picked).astype(dtype, copy=False), safe


# class indices of each native integer dtype read as unsigned integers of the same size
_UNSIGNED = {np.dtype(kind + str(size)): np.dtype(f"u{size}") for kind in "iu" for size in (1, 2, 4, 8)}


def _nll_scale(w, count: int, reduction: int):
    """What each target's -log-probability is multiplied by in the gradient: its weight, over the total
    weight for a mean (`w` None: every one of the `count` targets counts once)."""
    if w is None:
        # NOTE: an empty batch has nothing to scale; max() only avoids dividing by zero
        return 1.0 / max(count, 1) if reduction == MEAN else 1.0
    return w / w.sum() if reduction == MEAN else w


def _nll_loss(a, target, weight, reduction, ignore_index):
    """Negative log-likelihood of class indices `target` (an int ndarray) under log-probabilities `a`."""
    batched = a.ndim > 1
    logp = a if batched else a[None]
    tgt = target if batched else target.reshape(1)  # a 0-d target, or (1,): PyTorch takes both
    w, safe = _nll_weights(tgt, weight, ignore_index, _count_ignored(tgt, ignore_index, logp.shape[1]), a.dtype)
    picked = logp[row_indices(len(safe)), safe]
    if w is None and reduction == MEAN:  # -(sum) is sum(-picked) to the bit: negation is exact
        return (-_add_reduce(picked, None) / len(safe)).astype(a.dtype)  # picked.sum(), without NumPy's frame
    losses = -picked if w is None else -picked * w
    if reduction == MEAN:
        return (losses.sum() / w.sum()).astype(a.dtype)
    if reduction == SUM:
        return losses.sum()
    return losses if batched else losses[0]


def nll_loss_backward(g, self, params: tuple):
    """nll_loss's rule on arrays for its commonest case, a batch's mean or sum without class weights (the engine's
    first-order path; `self` the saved log-probabilities, `params` the node's), or None: the case is `_nll_vjp`'s.
    Each counted row's gradient at its class is PyTorch's -(g / count) in g's dtype (one rounding), so the one-hot
    is the gradient itself, with no product with g over it; an ignored row stays 0. NOTE: g[()] is a NumPy scalar:
    its arithmetic costs a fifth of a 0-dim array's"""
    target, weight, reduction, ignore_index = params
    if weight is not None or reduction == NONE or self.ndim != 2:
        return None
    onehot = np.zeros(self.shape, g.dtype)
    ignored = target == ignore_index
    n_ignored = _add_reduce(ignored, None)
    if reduction == MEAN:
        value = -(g[()] / max(len(target) - n_ignored, 1))
    else:
        value = -g[()]
    rows = _ROW_INDICES.get(len(target))  # row_indices, inline
    if rows is None:
        rows = row_indices(len(target))
    if not n_ignored:
        onehot[rows, target] = value
    else:
        kept = ~ignored
        onehot[rows[kept], target[kept]] = value
    return onehot


def _nll_loss_backward(grad_output, a, target, weight, reduction, ignore_index):
    """PyTorch's nll_loss_backward on arrays: the gradient at each row's target class, -weight (over the total weight
    for a mean) times grad_output; 0 elsewhere and on ignored rows."""
    grad = nll_loss_backward(grad_output, a, (target, weight, reduction, ignore_index))
    if grad is not None:
        return grad
    batched = a.ndim > 1
    target = target if batched else target.reshape(1)
    n_ignored = np.count_nonzero(target == ignore_index)
    w, safe = _nll_weights(target, weight, ignore_index, n_ignored, np.float64)
    # NOTE: built in grad_output's dtype: the scale, computed in float64, rounds the same when stored
    onehot = np.zeros((len(target), a.shape[-1]), grad_output.dtype)
    rows = row_indices(len(target))
    if w is None and reduction != NONE:
        # every target counts once: PyTorch's -(g / count) in g's dtype (one rounding) is each row's gradient,
        # so the one-hot is the gradient itself, with no product with g over it
        scalar = grad_output[()]  # NOTE: a NumPy scalar: its arithmetic costs a fifth of a 0-dim array's
        onehot[rows, safe] = -(scalar / max(len(safe), 1)) if reduction == MEAN else -scalar
        return onehot if batched else onehot[0]
    onehot[rows, safe] = -_nll_scale(w, len(safe), reduction)
    if reduction == NONE:
        onehot = onehot if batched else onehot[0]
        grad_output = grad_output[..., None]
    elif not batched:
        onehot = onehot[0]
    grad = grad_output * onehot
    if n_ignored:  # NOTE: PyTorch leaves an ignored row at 0, even where the scale (nothing counted) or g is nan
        ignored = (target == ignore_index)[:, None] if batched else (target == ignore_index)[0]
        grad = np.where(np.broadcast_to(ignored, onehot.shape), 0.0, grad)
    return grad


def nll_backward_kernel(name: str, forward, node: str):
    """An nll loss's backward as an op of its own, as PyTorch's: linear in the gradient (its rule is the loss again
    on the gradient's gradient), constant in the log-probabilities, which it takes for their shape (a zero gradient
    there, where a product with a one-hot left them out of the graph)."""
    params = ("target", "weight", "reduction", "ignore_index")

    def params_of(s):
        return tuple(getattr(s, name) for name in params)

    backward = primitive(f"{name}_backward", forward, f"{node}BackwardBackward0", inputs=("grad_output", "self"),
                         params=params, held=("target", "weight"),
                         vjp=(lambda gg, s: s.xp.apply(REGISTRY[name], (gg,), params_of(s)),
                              lambda gg, s: s.xp.zeros_like(gg)))
    return lambda g, s: s.xp.apply(backward, (g, s.self), params_of(s))


def nll_total_weight(s):
    """What PyTorch's nll_loss kernels save as total_weight: the weight of the targets that count (their number
    without class weights), in the input's dtype; 0 for a batch with reduction='none' (its kernel leaves it)."""
    dtype = s.self.dtype
    if s.reduction == NONE and len(s.self.shape) > 1:
        return np.zeros((), dtype)
    counted = s.target != s.ignore_index
    if s.weight is None:
        return np.asarray(np.count_nonzero(counted), dtype)
    return np.asarray(s.weight[np.where(counted, s.target, 0)][counted].sum(), dtype)


# NOTE: self is saved for its shape only, as PyTorch saves it (and so checks its version)
nll_loss = primitive("nll_loss", _nll_loss, "NllLossBackward0", inputs=("self",),
                     params=("target", "weight", "reduction", "ignore_index"), saves=("self",),
                     held=("target", "weight"), lazy={"total_weight": nll_total_weight},
                     vjp=(nll_backward_kernel("nll_loss", _nll_loss_backward, "NllLoss"),),
                     array_vjp=nll_loss_backward)


def _softplus_neg(x):
    """log(1 + exp(-x)), stable for large |x|."""
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)


def _bce_logits(a, target, weight, pos_weight, reduction):
    """PyTorch's kernel builds the loss in place on 1 - target: in the target's dtype (float64 logits with a float32
    target give a float32 loss), each step rounded to it; `a` comes promoted with the target, `target` as it is."""
    dtype = target.dtype if target.dtype.kind == "f" else a.dtype
    scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
    loss = ((1 - target) * a).astype(dtype, copy=False)
    loss = (loss + scale * _softplus_neg(a)).astype(dtype, copy=False)
    if weight is not None:
        loss = (loss * weight).astype(dtype, copy=False)
    return _reduce(loss, reduction).astype(dtype, copy=False)


def _constant(xp, array, g):
    """weight and pos_weight are ndarray parameters: under create_graph they must become constant tensors."""
    return None if array is None else xp.cast(array, g.dtype)


def _bce_input_vjp(g, s):
    xp = s.xp
    pw = _constant(xp, s.pos_weight, g)
    weight = _constant(xp, s.weight, g)
    scale = 1 if pw is None else 1 + (pw - 1) * s.target
    grad = (1 - s.target) + scale * (xp.sigmoid(s.self) - 1)
    if weight is not None:
        grad = grad * weight
    return grad * _reduction_scale(g, s)


def _bce_target_vjp(g, s):
    xp = s.xp
    pw = _constant(xp, s.pos_weight, g)
    weight = _constant(xp, s.weight, g)
    x = s.self
    grad = -x
    if pw is not None:
        softplus_neg = xp.log(1 + xp.exp(-xp.abs(x))) + (xp.abs(x) - x) / 2
        grad = grad + (pw - 1) * softplus_neg
    if weight is not None:
        grad = grad * weight
    return grad * _reduction_scale(g, s)


binary_cross_entropy_with_logits = primitive(
    "binary_cross_entropy_with_logits", _bce_logits, "BinaryCrossEntropyWithLogitsBackward0",
    inputs=("self", "target"), params=("weight", "pos_weight", "reduction"), held=("weight", "pos_weight"),
    saves=(("self", "target"), "self"), vjp=(_bce_input_vjp, _bce_target_vjp))


_erf_elements = np.frompyfunc(math.erf, 1, 1)


def _erf(a: np.ndarray) -> np.ndarray:
    # NOTE: a frompyfunc ufunc gives a Python float for a 0-dim input, and object arrays otherwise.
    return np.asarray(_erf_elements(a), dtype=a.dtype)


def _gelu(a, approximate):
    if approximate == "tanh":
        return 0.5 * a * (1 + np.tanh(_GELU_TANH_SCALE * (a + 0.044715 * a ** 3)))
    out = (0.5 * a * (1 + _erf(a / math.sqrt(2)))).astype(a.dtype, copy=False)
    if out.dtype == np.float32 and out.size > 1 and a.flags.c_contiguous:
        # NOTE: PyTorch's float32 kernel gives NaN at +inf on contiguous tensors (its vectorised erf does; its scalar
        # one, which serves one element and strided layouts, gives inf, as float64 does): the NaN starts at gelu in
        # PyTorch, so it does here
        out[a == np.inf] = np.nan
    return out


_GELU_TANH_SCALE = math.sqrt(2 / math.pi)


def _gelu_vjp(g, s):
    xp, x = s.xp, s.self
    if s.approximate == "tanh":
        inner = _GELU_TANH_SCALE * (x + 0.044715 * x * x * x)
        t = xp.tanh(inner)
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _GELU_TANH_SCALE * (1 + 3 * 0.044715 * x * x))
    cdf = 0.5 * (1 + xp.erf(x / math.sqrt(2)))
    pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return g * (cdf + x * pdf)


gelu = primitive("gelu", _gelu, "GeluBackward0", inputs=("self",), params=("approximate",), saves=("self",),
                 vjp=(_gelu_vjp,), opmath_vjp=True)
erf = primitive("erf", _erf, "ErfBackward0", inputs=("self",), saves=("self",),
                vjp=(lambda g, s: g * (2 / math.sqrt(math.pi)) * s.xp.exp(-s.self * s.self),))


# ------------------------------------------------------------------------------- shrinkage
# NOTE: as PyTorch's kernels, both test "inside [-lambd, lambd]" (edges included), never "outside": a NaN is not
# inside, so the forward passes it on and the backward passes its gradient (testing outside would make both 0 and
# hide the NaN)
def _inside(a, lambd):
    return (a >= -lambd) & (a <= lambd)


hardshrink = primitive(
    "hardshrink", lambda a, lambd: np.where(_inside(a, lambd), 0, a).astype(a.dtype, copy=False),
    "HardshrinkBackward0", inputs=("self",), params=("lambd",), saves=("self",),
    vjp=(backward_rule(A.hardshrink_backward, "lambd"),))
softshrink = primitive(
    "softshrink", lambda a, lambd: np.where(a > lambd, a - lambd, np.where(_inside(a, lambd), 0, a + lambd)).astype(
        a.dtype, copy=False),
    "SoftshrinkBackward0", inputs=("self",), params=("lambd",), saves=("self",),
    vjp=(backward_rule(A.softshrink_backward, "lambd"),))


# ------------------------------------------------------------------------------- pixel shuffle
def _pixel_shuffle(a, upscale_factor):
    """(*, C·r², H, W) → (*, C, H·r, W·r): each group of r² channels tiles an r x r block."""
    r = upscale_factor
    *lead, channels, height, width = a.shape
    blocks = a.reshape(*lead, channels // (r * r), r, r, height, width)
    n = len(lead)
    order = tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2)
    return np.ascontiguousarray(blocks.transpose(order)).reshape(*lead, channels // (r * r), height * r, width * r)


def _pixel_unshuffle(a, downscale_factor):
    """The inverse: (*, C, H·r, W·r) → (*, C·r², H, W)."""
    r = downscale_factor
    *lead, channels, height, width = a.shape
    blocks = a.reshape(*lead, channels, height // r, r, width // r, r)
    n = len(lead)
    order = tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3)
    return np.ascontiguousarray(blocks.transpose(order)).reshape(*lead, channels * r * r, height // r, width // r)


pixel_shuffle = primitive(
    "pixel_shuffle", _pixel_shuffle, "PixelShuffleBackward0", inputs=("self",), params=("upscale_factor",),
    vjp=(lambda g, s: s.xp.apply(pixel_unshuffle, (g,), (s.upscale_factor,)),))
pixel_unshuffle = primitive(
    "pixel_unshuffle", _pixel_unshuffle, "PixelUnshuffleBackward0", inputs=("self",), params=("downscale_factor",),
    vjp=(lambda g, s: s.xp.apply(pixel_shuffle, (g,), (s.downscale_factor,)),))


def _channel_shuffle(a, groups):
    """(N, g·k, *) → (N, k·g, *): channel i·k + j moves to j·g + i."""
    n, channels = a.shape[:2]
    grouped = a.reshape(n, groups, channels // groups, *a.shape[2:])
    return np.ascontiguousarray(grouped.swapaxes(1, 2)).reshape(a.shape)


channel_shuffle = primitive(
    "channel_shuffle", _channel_shuffle, "ChannelShuffleBackward0", inputs=("self",), params=("groups",),
    attrs=("self_sym_sizes",),
    vjp=(lambda g, s: s.xp.apply(channel_shuffle, (g,), (s.self_sym_sizes[1] // s.groups,)),))
