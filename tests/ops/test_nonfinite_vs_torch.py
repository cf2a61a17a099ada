"""NaN and ±inf against PyTorch: a NaN or an inf placed at a chosen position of an input, or of the gradient flowing
in, must reach the same output and gradient positions as in PyTorch, with the same values elsewhere. The debugger
names "the op that made the loss NaN" and the positions it went through from these; a NaN smeared onto positions
PyTorch leaves finite (NaN · 0 from a kernel's padding, say) blames the wrong ones.

To pin another op, add a `Case` (its call on either library and its inputs) and the `Poison`s to try on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")


@dataclass(frozen=True)
class Poison:
    """`value` written at `index` of input number `target`, or of the gradient flowing in (`target` "grad")."""
    target: int | str
    index: tuple
    value: float

    def __str__(self):
        return f"{self.target}{list(self.index)}={self.value}"


@dataclass(frozen=True)
class Case:
    """`call(library, *inputs)` on tensors made from `inputs` in each of `dtypes`; PyTorch's result in `oracle_dtype`
    (when given) is the one compared with every dtype. `signed_zeros`: a zero's sign must match too. `relative`: no
    absolute tolerance (a tiny value against 0 is a difference); `tolerance32` that of float32."""
    name: str
    call: object
    inputs: tuple
    poisons: tuple
    dtypes: tuple = ("float32", "float64")
    oracle_dtype: str | None = None
    signed_zeros: bool = False
    relative: bool = False
    tolerance32: float = 1e-4


def _run(library, case: Case, poison: Poison, dtype: str):
    arrays = [np.array(a, dtype=np.float64) for a in case.inputs]
    if poison.target != "grad":
        arrays[poison.target][poison.index] = poison.value
    inputs = [library.tensor(a, dtype=getattr(library, dtype), requires_grad=True) for a in arrays]
    out = case.call(library, *inputs)
    incoming = np.ones(tuple(out.shape))
    if poison.target == "grad":
        incoming[poison.index] = poison.value
    out.backward(library.tensor(incoming, dtype=out.dtype))
    return [out.detach().numpy().astype(np.float64)] + [
        None if t.grad is None else t.grad.numpy().astype(np.float64) for t in inputs]


def _assert_same(actual, expected, name, tolerance, absolute, signed_zeros):
    assert (actual is None) == (expected is None), name
    if expected is None:
        return
    assert actual.shape == expected.shape, name
    for kind in (np.isnan, np.isposinf, np.isneginf):
        wrong = np.argwhere(kind(actual) != kind(expected))
        assert not len(wrong), f"{name}: {kind.__name__} differs at {wrong[:8].tolist()}"
    finite = np.isfinite(expected)
    np.testing.assert_allclose(actual[finite], expected[finite], rtol=tolerance, atol=absolute, err_msg=name)
    if signed_zeros:
        zeros = expected == 0
        wrong = np.argwhere(np.signbit(actual[zeros]) != np.signbit(expected[zeros]))
        assert not len(wrong), f"{name}: a zero's sign differs: {actual[zeros].tolist()} vs {expected[zeros].tolist()}"


def _check(case: Case, poison: Poison):
    for dtype in case.dtypes:
        expected = _run(torch, case, poison, case.oracle_dtype or dtype)
        actual = _run(gradscope, case, poison, dtype)
        tolerance = case.tolerance32 if "float32" in (dtype, case.oracle_dtype) else 1e-9
        for label, a, e in zip(["output"] + [f"input {i} grad" for i in range(len(case.inputs))], actual, expected,
                               strict=True):
            _assert_same(a, e, f"{case.name} [{poison}] {dtype} {label}", tolerance, 0 if case.relative else tolerance,
                         case.signed_zeros)


def _cases_and_poisons(cases):
    return [pytest.param(case, poison, id=f"{case.name}-{poison}") for case in cases for poison in case.poisons]


# ---------------------------------------------------------------------------------------------------- convolutions
# PyTorch's float32 CPU kernel at batch 2 (oneDNN) never multiplies padding: a padding place is no term. Its float64
# kernel multiplies the padding zeros in the forward and the weight gradient (so a NaN weight makes the border
# outputs NaN there), and so does its float32 one for grouped convolutions. gradscope's kernels compute the former in
# both dtypes and every geometry, compared here with PyTorch's float32 where that is what PyTorch computes.
_RNG = np.random.default_rng(0)


def _conv_case(name, function, x_shape, weight_shape, **options):
    x, weight = _RNG.standard_normal(x_shape), _RNG.standard_normal(weight_shape)
    out_shape = tuple(getattr(torch.nn.functional, function)(torch.tensor(x), torch.tensor(weight), **options).shape)
    corner, kernel_corner = (0,) * (len(x_shape) - 2), (0,) * (len(weight_shape) - 2)
    middle = tuple(n // 2 for n in x_shape[2:])
    poisons = (Poison(0, (0, 0) + corner, NAN), Poison(0, (1, 1) + middle, INF), Poison(1, (1, 0) + kernel_corner, NAN),
               Poison(1, (0, 1) + tuple(k - 1 for k in weight_shape[2:]), -INF),
               Poison("grad", (0, 1) + (0,) * (len(out_shape) - 2), NAN),
               Poison("grad", (1, 0) + tuple(n - 1 for n in out_shape[2:]), INF))
    return Case(name, lambda lib, a, w: getattr(lib.nn.functional, function)(a, w, **options), (x, weight), poisons,
                oracle_dtype="float32")


CONVOLUTIONS = [
    _conv_case("conv1d padded", "conv1d", (2, 2, 6), (3, 2, 3), padding=1),
    _conv_case("conv1d strided", "conv1d", (2, 2, 7), (3, 2, 3), padding=1, stride=2),
    _conv_case("conv1d dilated", "conv1d", (2, 2, 7), (3, 2, 3), padding=2, dilation=2),
    _conv_case("conv1d unpadded", "conv1d", (2, 2, 6), (3, 2, 3)),
    _conv_case("conv2d padded", "conv2d", (2, 2, 5, 5), (3, 2, 3, 3), padding=1),
    _conv_case("conv2d strided", "conv2d", (2, 2, 6, 6), (3, 2, 3, 3), padding=1, stride=2),
    _conv_case("conv3d padded", "conv3d", (2, 2, 4, 4, 4), (3, 2, 3, 3, 3), padding=1),
    _conv_case("conv_transpose1d", "conv_transpose1d", (2, 2, 6), (2, 3, 3), padding=1),
    _conv_case("conv_transpose1d strided", "conv_transpose1d", (2, 2, 6), (2, 3, 3), padding=1, stride=2),
    _conv_case("conv_transpose2d", "conv_transpose2d", (2, 2, 5, 5), (2, 3, 3, 3), padding=1),
]


@pytest.mark.parametrize("case, poison", _cases_and_poisons(CONVOLUTIONS))
def test_convolutions_keep_nans_where_pytorch_keeps_them(case, poison):
    if not torch.backends.mkldnn.is_available():
        pytest.skip("PyTorch's float32 convolution is oneDNN's only where oneDNN is built in")
    _check(case, poison)


# ------------------------------------------------------------------------------------ pooling, resampling, padding
def _spatial_case(name, call, shape):
    """`call(functional, x)` on an x of `shape` (batch 2, channels 2), poisoned at a corner, inside, in the gradient."""
    x = _RNG.standard_normal(shape)
    out_shape = tuple(call(torch.nn.functional, torch.tensor(x)).shape)
    middle = tuple(n // 2 for n in shape[2:])
    poisons = (Poison(0, (0, 0) + (0,) * (len(shape) - 2), NAN), Poison(0, (1, 1) + middle, INF),
               Poison(0, (1, 0) + middle, -INF), Poison("grad", (0, 1) + (0,) * (len(out_shape) - 2), NAN))
    return Case(name, lambda lib, a: call(lib.nn.functional, a), (x,), poisons)


SPATIAL = [
    # lp_pool is sign(s)·relu(|s|)·k to the 1/p, s an average of x^p: with an inf in a window, s's sign takes an inf
    # gradient that SignBackward0 must drop (zeros, not g · 0)
    _spatial_case("lp_pool1d", lambda F, a: F.lp_pool1d(a, 2.0, 3, 2), (2, 2, 7)),
    _spatial_case("lp_pool2d", lambda F, a: F.lp_pool2d(a, 2.0, 2, ceil_mode=True), (2, 2, 5, 5)),
    _spatial_case("lp_pool1d p=1.5", lambda F, a: F.lp_pool1d(a.abs(), 1.5, 2), (2, 2, 6)),
    _spatial_case("avg_pool2d padded", lambda F, a: F.avg_pool2d(a, 3, 2, 1), (2, 2, 6, 6)),
    _spatial_case("avg_pool1d no pad count", lambda F, a: F.avg_pool1d(a, 3, 2, 1, True, False), (2, 2, 7)),
    _spatial_case("max_pool2d padded", lambda F, a: F.max_pool2d(a, 3, 2, 1), (2, 2, 6, 6)),
    _spatial_case("max_pool1d dilated", lambda F, a: F.max_pool1d(a, 3, 1, 0, 2), (2, 2, 7)),
    _spatial_case("adaptive_avg_pool2d", lambda F, a: F.adaptive_avg_pool2d(a, 3), (2, 2, 7, 7)),
    _spatial_case("adaptive_max_pool1d", lambda F, a: F.adaptive_max_pool1d(a, 3), (2, 2, 7)),
    _spatial_case("interpolate linear", lambda F, a: F.interpolate(a, scale_factor=2, mode="linear"), (2, 2, 5)),
    _spatial_case("interpolate bicubic", lambda F, a: F.interpolate(a, size=(3, 3), mode="bicubic"), (2, 2, 6, 6)),
    _spatial_case("interpolate area", lambda F, a: F.interpolate(a, size=(3, 3), mode="area"), (2, 2, 7, 7)),
    _spatial_case("pad reflect", lambda F, a: F.pad(a, (2, 1, 1, 2), mode="reflect"), (2, 2, 5, 5)),
    _spatial_case("pad circular", lambda F, a: F.pad(a, (2, 1), mode="circular"), (2, 2, 5)),
    _spatial_case("unfold", lambda F, a: F.unfold(a, 3, padding=1, stride=2), (2, 2, 5, 5)),
    _spatial_case("fold", lambda F, a: F.fold(a.reshape(2, 8, 25), (4, 4), 2, padding=1), (2, 2, 10, 10)),
]


@pytest.mark.parametrize("case, poison", _cases_and_poisons(SPATIAL))
def test_pooling_resampling_and_padding_keep_nans_where_pytorch_keeps_them(case, poison):
    _check(case, poison)


# ------------------------------------------------------------------------------------------------------ distances
def _distance_case(name, call, shapes):
    inputs = tuple(_RNG.standard_normal(shape) for shape in shapes)
    out_dims = call(torch, *(torch.tensor(a) for a in inputs)).dim()
    poisons = (Poison(0, (0, 0), NAN), Poison(0, (1, 2), INF), Poison(len(shapes) - 1, (1, 1), -INF),
               Poison("grad", (0,) * out_dims, NAN))
    return Case(name, call, inputs, poisons)


DISTANCES = [
    _distance_case(f"cdist p={p}", lambda lib, a, b, p=p: lib.cdist(a, b, p=p), [(3, 4), (2, 4)])
    for p in (0.0, 1.0, 1.5, 2.0, 3.0, INF)
] + [
    _distance_case(f"pdist p={p}", lambda lib, a, p=p: lib.nn.functional.pdist(a, p=p), [(4, 3)])
    for p in (0.0, 1.0, 2.0, 3.0, INF)
] + [
    _distance_case(f"pairwise_distance p={p}", lambda lib, a, b, p=p: lib.nn.functional.pairwise_distance(a, b, p=p),
                   [(3, 4), (3, 4)])
    for p in (1.0, 2.0, INF)
]


@pytest.mark.parametrize("case, poison", _cases_and_poisons(DISTANCES))
def test_distances_keep_nans_where_pytorch_keeps_them(case, poison):
    """PyTorch's cdist/pdist kernels: a count (p = 0) is NaN at a NaN, the p = 1 and ∞ gradients' sign is NaN at a
    NaN, p = ∞'s gradient is NaN where |d| − dist is, and cdist's p = ∞ distance skips a NaN."""
    _check(case, poison)


# ---------------------------------------------------------------------------------------------------- activations
# NOTE: PyTorch's vectorised and scalar loops disagree about a NaN x's gradient in a few kernels: elu's (float64)
# gives it the linear branch's gradient on 8 elements or fewer (as gradscope does) and NaN from 16 on; hardtanh's
# passes g on 8 or fewer and 0 from 16 on (as gradscope does). Artefacts this sweep leaves alone: rows run on
# `chunk` elements at a time, 8 (the scalar loop) or 16 (the vectorised one).
_EDGES = np.array([NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 3.0, -3.0, 1e-30, 20.0, -20.0, 6.0, 0.5, 2.5, -40.0])


def _activation_case(name, call, signed_zeros=True, chunk=8):
    # relative only, float32 to 1e-3: PyTorch's vectorised float32 erf (gelu) is that far from the exact value
    return [Case(f"{name} {start}", call, (_EDGES[start:start + chunk],),
                 (Poison("grad", (3,), NAN), Poison("grad", (1,), INF)), signed_zeros=signed_zeros, relative=True,
                 tolerance32=1e-3) for start in range(0, len(_EDGES), chunk)]


def _functional(name, **options):
    return lambda lib, a: getattr(lib.nn.functional, name)(a, **options)


ACTIVATIONS = [
    # PyTorch's float32 erf-gelu gives NaN at +inf on a contiguous tensor of more than one element
    *_activation_case("gelu", _functional("gelu")),
    *_activation_case("gelu tanh", _functional("gelu", approximate="tanh")),
    # a clamp keeps x where it equals a bound, as PyTorch's `x < min ? min : x`: -0.0 against a bound of 0 stays -0.0
    *_activation_case("clamp_min", lambda lib, a: lib.clamp_min(a, 0.0)),
    *_activation_case("clamp_min -0.0", lambda lib, a: lib.clamp_min(a, -0.0)),
    *_activation_case("clamp_max", lambda lib, a: lib.clamp_max(a, 0.0)),
    *_activation_case("clamp", lambda lib, a: lib.clamp(a, 0.0, 1.0)),
    *_activation_case("clamp tensor bounds", lambda lib, a: lib.clamp(a, lib.zeros(()), lib.ones(()))),
    *_activation_case("clamp_", lambda lib, a: (a * 1).clamp_(-0.0, 1.0)),
    *_activation_case("relu6", _functional("relu6"), chunk=16),
    *_activation_case("hardtanh", lambda lib, a: lib.nn.functional.hardtanh(a, 0.0, 2.0), chunk=16),
    *_activation_case("elu", _functional("elu")),
    *_activation_case("elu_", lambda lib, a: lib.nn.functional.elu(a * 1, inplace=True)),
    *_activation_case("celu", _functional("celu", alpha=0.5)),
    *_activation_case("selu", _functional("selu")),
    *_activation_case("relu", _functional("relu")),
    # PyTorch's sigmoid is 1 / (1 + exp(-x)): sigmoid(-20) is 2e-9 in float32, not 0 (log of it -20, not -inf)
    *_activation_case("sigmoid", lambda lib, a: lib.sigmoid(a)),
    *_activation_case("log of sigmoid", lambda lib, a: lib.log(lib.sigmoid(a))),
    *_activation_case("silu", _functional("silu")),
    *_activation_case("mish", _functional("mish")),
]


@pytest.mark.parametrize("case, poison", _cases_and_poisons(ACTIVATIONS))
def test_activations_keep_nans_and_zeros_signs_where_pytorch_does(case, poison):
    _check(case, poison)


@pytest.mark.parametrize("second_wins_ties", [True, False])
def test_clamp_bounds_keep_x_at_a_tie_and_a_nan_on_either_path(second_wins_ties, monkeypatch):
    """at_least/at_most are np.maximum/np.minimum with x second where this NumPy gives the second operand at a tie,
    selects otherwise: both keep x's own zero against a bound of the other sign, and x's NaN."""
    from gradscope.ops import elementwise as E
    monkeypatch.setattr(E, "_SECOND_WINS_TIES", second_wins_ties)
    for dtype in (np.float32, np.float64):
        x = np.array([-0.0, 0.0, NAN, 2.0, -2.0], dtype)
        for zero in (0.0, -0.0):
            for bound in (zero, np.full(5, zero, dtype)):
                low, high = E.at_least(x, bound), E.at_most(x, bound)
                assert low.dtype == high.dtype == dtype
                np.testing.assert_array_equal(low, np.array([-0.0, 0.0, NAN, 2.0, zero], dtype))
                np.testing.assert_array_equal(high, np.array([-0.0, 0.0, NAN, zero, -2.0], dtype))
                for result, bounded in ((low, 4), (high, 3)):
                    signs = np.signbit(result)
                    assert (signs[:2] == np.signbit(x[:2])).all() and signs[bounded] == np.signbit(zero)


# ------------------------------------------------------------------------------------------------------ embeddings
def _bag_case(name, mode, bags):
    weight = _RNG.standard_normal((5, 3))
    weight[2, 0] = weight[0, 0]  # a tie, for the first lookup to win it
    poisons = (Poison(0, (0, 1), NAN), Poison(0, (1, 1), NAN), Poison(0, (3, 2), NAN), Poison(0, (4, 0), INF),
               Poison(0, (2, 2), -INF), Poison("grad", (1, 0), NAN))
    return Case(name, lambda lib, w: lib.nn.functional.embedding_bag(lib.tensor(bags), w, mode=mode), (weight,),
                poisons)


EMBEDDINGS = [
    # max: the bag's first row, then each later value strictly greater: a NaN first stays, a NaN later is passed over
    _bag_case("embedding_bag max", "max", [[0, 1, 2], [3, 1, 0], [2, 4, 3]]),
    _bag_case("embedding_bag max, NaN rows first", "max", [[1, 0, 4], [3, 2, 2], [0, 0, 1]]),
    _bag_case("embedding_bag sum", "sum", [[0, 1, 2], [3, 1, 0], [2, 4, 3]]),
    _bag_case("embedding_bag mean", "mean", [[0, 1, 2], [3, 1, 0], [2, 4, 3]]),
]


@pytest.mark.parametrize("case, poison", _cases_and_poisons(EMBEDDINGS))
def test_embedding_bags_keep_nans_where_pytorch_keeps_them(case, poison):
    _check(case, poison)


SAMPLERS = {
    "bernoulli": lambda lib, x: lib.bernoulli(x),
    "bernoulli_ float": lambda lib, x: x.clone().bernoulli_(0.5),
    "bernoulli_ tensor": lambda lib, x: x.clone().bernoulli_(x.detach()),
    "exponential_": lambda lib, x: x.clone().exponential_(),
    "geometric_": lambda lib, x: x.clone().geometric_(0.5),
    "cauchy_": lambda lib, x: x.clone().cauchy_(),
    "log_normal_": lambda lib, x: x.clone().log_normal_(),
    "random_": lambda lib, x: x.clone().random_(0, 5),
    "normal(tensor, float)": lambda lib, x: lib.normal(x, 1.0),
    "normal(float, tensor)": lambda lib, x: lib.normal(0.0, x),
    "normal(tensor, tensor)": lambda lib, x: lib.normal(x, x),
    "poisson": lambda lib, x: lib.poisson(x),
}


@pytest.mark.parametrize("incoming", [NAN, INF, -INF])
@pytest.mark.parametrize("name", SAMPLERS)
def test_sampling_ops_give_zero_gradients_whatever_flows_in_as_pytorch(name, incoming):
    # the samples differ between the libraries; their gradients are PyTorch's zeros_like(grad) (NaN · 0 was NaN)
    grads = []
    for library in (gradscope, torch):
        x = library.tensor([0.2, 0.5, 0.7], requires_grad=True)
        out = SAMPLERS[name](library, x)
        out.backward(library.tensor([incoming, 1.0, incoming], dtype=out.dtype))
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
    np.testing.assert_array_equal(grads[0], np.zeros(3, np.float32))
