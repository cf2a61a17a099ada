"""torch.* forms of nn.functional ops (torch.dropout, torch.layer_norm, torch.embedding …) against PyTorch: the
parameter names and defaults of ATen's schema, and the same values, graphs (grad_fn names) and gradients."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import gradscope

FORMS = (
    "conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d layer_norm batch_norm group_norm "
    "instance_norm rms_norm embedding dropout dropout_ alpha_dropout alpha_dropout_ feature_dropout feature_dropout_ "
    "feature_alpha_dropout feature_alpha_dropout_ cosine_similarity pairwise_distance pixel_shuffle pixel_unshuffle "
    "channel_shuffle native_channel_shuffle threshold threshold_ selu selu_ celu celu_ prelu rrelu rrelu_ hardshrink "
    "max_pool1d max_pool2d max_pool3d max_pool1d_with_indices avg_pool1d adaptive_avg_pool1d adaptive_max_pool1d "
    "kl_div bilinear hinge_embedding_loss margin_ranking_loss cosine_embedding_loss triplet_margin_loss "
    "poisson_nll_loss binary_cross_entropy_with_logits constant_pad_nd rsub"
).split()


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _schema_parameters(torch, name: str) -> list[tuple[str, bool]]:
    """(name, has a default) of the first overload's arguments, without `out`."""
    schema = str(torch._C._jit_get_schemas_for_operator(f"aten::{name}")[0])
    arguments = schema[schema.index("(") + 1: schema.rindex(") ->")]
    parameters = []
    for argument in re.split(r",\s*(?![^\[]*\])", arguments):
        if argument.strip() in ("*", ""):
            continue
        declaration, _, default = argument.partition("=")
        parameters.append((declaration.split()[-1], bool(default)))
    return [p for p in parameters if p[0] != "out"]


@pytest.mark.parametrize("name", FORMS)
def test_signature_is_atens(torch, name):
    ours = inspect.signature(getattr(gradscope, name)).parameters.values()
    expected = _schema_parameters(torch, name)
    renamed = {"self": "input"}  # PyTorch's Python binding calls `self` input
    assert [(renamed.get(n, n), has_default) for n, has_default in expected] == [
        (p.name, p.default is not inspect.Parameter.empty) for p in ours]


def _tensors(lib, arrays, grad):
    return [lib.tensor(a, requires_grad=grad and np.asarray(a).dtype.kind == "f") for a in arrays]


rng = np.random.default_rng(7)
X2, X3, X4 = rng.standard_normal((2, 4)), rng.standard_normal((2, 4, 5)), rng.standard_normal((1, 4, 3, 3))
W1, W2 = rng.standard_normal((3, 4, 2)), rng.standard_normal((4, 2, 2))
CALLS = {
    "conv1d": (lambda lib, x, w: lib.conv1d(x, w, None, 1, 1), (X3, W1)),
    "conv_transpose1d": (lambda lib, x, w: lib.conv_transpose1d(x, w.transpose(0, 1), None, 2), (X3, W1)),
    "layer_norm": (lambda lib, x, w: lib.layer_norm(x, [4], w, None, 1e-3), (X2, rng.standard_normal(4))),
    "batch_norm": (lambda lib, x, w, b: lib.batch_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
                   (X3, rng.standard_normal(4), rng.standard_normal(4))),
    "batch_norm_eval": (lambda lib, x: lib.batch_norm(x, None, None, lib.zeros(4, dtype=x.dtype),
                                                      lib.ones(4, dtype=x.dtype), False, 0.1, 1e-5, True), (X3,)),
    "group_norm": (lambda lib, x: lib.group_norm(x, 2), (X3,)),
    "instance_norm": (lambda lib, x: lib.instance_norm(x, None, None, None, None, True, 0.1, 1e-5, False), (X3,)),
    "rms_norm": (lambda lib, x: lib.rms_norm(x, (4,)), (X2,)),
    "embedding": (lambda lib, w: lib.embedding(w, lib.tensor([[0, 2], [2, 1]]), 1), (rng.standard_normal((3, 2)),)),
    "dropout_eval": (lambda lib, x: lib.dropout(x, 0.5, False), (X2,)),
    "dropout_p1": (lambda lib, x: lib.dropout(x * 1, 1.0, True), (X2,)),
    "feature_dropout_p1": (lambda lib, x: lib.feature_dropout(x * 1, 1.0, True), (X3,)),
    "alpha_dropout_eval": (lambda lib, x: lib.alpha_dropout_(x * 1, 0.2, False), (X2,)),
    "cosine_similarity": (lambda lib, x, y: lib.cosine_similarity(x, y), (X2, X2 * 2 + 1)),
    "pairwise_distance": (lambda lib, x, y: lib.pairwise_distance(x, y, 3.0), (X2, X2 * 2 + 1)),
    "pixel_shuffle": (lambda lib, x: lib.pixel_shuffle(x, 2), (X4,)),
    "threshold": (lambda lib, x: lib.threshold(x, 0.1, -2.0), (X2,)),
    "threshold_": (lambda lib, x: lib.threshold_(x * 1, 0.1, -2.0), (X2,)),
    "selu": (lambda lib, x: lib.selu(x), (X2,)),
    "selu_": (lambda lib, x: lib.selu_(x * 1), (X2,)),
    "celu": (lambda lib, x: lib.celu(x, 0.5), (X2,)),
    "celu_": (lambda lib, x: lib.celu_(x * 1, 2.0), (X2,)),
    "rrelu": (lambda lib, x: lib.rrelu(x, 0.1, 0.3), (X2,)),
    "rrelu_": (lambda lib, x: lib.rrelu_(x * 1), (X2,)),
    "rrelu_fixed_slope": (lambda lib, x: lib.rrelu(x, 0.2, 0.2, True), (X2,)),
    "prelu": (lambda lib, x, w: lib.prelu(x, w), (X2, np.array([0.25]))),
    "relu_": (lambda lib, x: lib.relu_(x * 1), (X2,)),
    "triplet_margin_loss_mean": (lambda lib, a, p, n: lib.triplet_margin_loss(a, p, n, reduction=1),
                                 (X2, X2 + 1, X2 - 1)),
    "sigmoid_": (lambda lib, x: lib.sigmoid_(x * 1), (X2,)),
    "tanh_": (lambda lib, x: lib.tanh_(x * 1), (X2,)),
    "max_pool1d": (lambda lib, x: lib.max_pool1d(x, 2), (X3,)),
    "max_pool2d": (lambda lib, x: lib.max_pool2d(x, [2, 2], [1, 1]), (X4,)),
    "max_pool1d_with_indices": (lambda lib, x: lib.max_pool1d_with_indices(x, 2, 1), (X3,)),
    "avg_pool1d": (lambda lib, x: lib.avg_pool1d(x, 2), (X3,)),
    "adaptive_avg_pool1d": (lambda lib, x: lib.adaptive_avg_pool1d(x, 2), (X3,)),
    "adaptive_max_pool1d": (lambda lib, x: lib.adaptive_max_pool1d(x, 2), (X3,)),
    "kl_div": (lambda lib, x, t: lib.kl_div(x, t), (X2, np.abs(X2))),
    "kl_div_mean": (lambda lib, x, t: lib.kl_div(x, t, 1), (X2, np.abs(X2))),
    "kl_div_sum_log_target": (lambda lib, x, t: lib.kl_div(x, t, 2, log_target=True), (X2, X2 / 2)),
    "bilinear": (lambda lib, x, y, w: lib.bilinear(x, y, w), (X2, X2 + 1, rng.standard_normal((3, 4, 4)))),
    "hinge_embedding_loss": (lambda lib, x: lib.hinge_embedding_loss(x, lib.tensor([1.0, -1, 1, -1]), 0.5, 0),
                             (X2,)),
    "margin_ranking_loss": (lambda lib, x, y: lib.margin_ranking_loss(x, y, lib.ones(2, 4, dtype=x.dtype), 0.2, 2),
                            (X2, X2 * 2)),
    "cosine_embedding_loss": (lambda lib, x, y: lib.cosine_embedding_loss(x, y, lib.tensor([1.0, -1.0])),
                              (X2, X2 + 1)),
    "triplet_margin_loss": (lambda lib, a, p, n: lib.triplet_margin_loss(a, p, n, 1.0, 2.0, 1e-6, True),
                            (X2, X2 + 1, X2 - 1)),
    "poisson_nll_loss": (lambda lib, x, t: lib.poisson_nll_loss(x, t, True, True, 1e-8, 1), (X2, np.abs(X2) * 3)),
    "binary_cross_entropy_with_logits": (
        lambda lib, x, t: lib.binary_cross_entropy_with_logits(x, t, None, lib.tensor([2.0, 1, 1, 1]), 0),
        (X2, np.abs(X2) / 3)),
    "constant_pad_nd": (lambda lib, x: lib.constant_pad_nd(x, [1, 2], 0.5), (X2,)),
    "rsub": (lambda lib, x, y: lib.rsub(x, y, alpha=2), (X2, X2 * 3)),
}


@pytest.mark.parametrize("case", CALLS, ids=str)
def test_values_graph_and_gradients_as_torch(torch, case):
    call, arrays = CALLS[case]
    results = []
    for lib in (gradscope, torch):
        inputs = _tensors(lib, arrays, grad=True)
        out = call(lib, *inputs)
        outputs = list(out) if isinstance(out, tuple) else [out]
        grads = lib.autograd.grad(outputs[0].sum(), [x for x in inputs if x.requires_grad], allow_unused=True)
        results.append(([o.detach().numpy() for o in outputs], outputs[0].grad_fn and outputs[0].grad_fn.name(),
                        [None if g is None else g.numpy() for g in grads], [str(o.dtype) for o in outputs]))
    (values, name, grads, dtypes), (values_t, name_t, grads_t, dtypes_t) = results
    assert (name, dtypes) == (name_t, dtypes_t)
    for mine, reference in zip(values + grads, values_t + grads_t, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["dropout", "alpha_dropout", "feature_dropout", "feature_alpha_dropout"])
def test_dropout_forms(torch, name):
    x = gradscope.ones(2, 3)
    assert getattr(gradscope, name)(x, 0.3, False) is x
    for lib in (gradscope, torch):
        with pytest.raises(RuntimeError, match="dropout probability has to be between 0 and 1, but got 1.5"):
            getattr(lib, name)(lib.ones(2, 3), 1.5, True)
        with pytest.raises(TypeError):
            getattr(lib, name)(lib.ones(2, 3), 0.5)  # no defaults at this level
    gradscope.manual_seed(0)
    y = getattr(gradscope, name + "_")(gradscope.ones(4, 6), 0.5, True)
    assert y.shape == (4, 6) and len(set(y.flatten().tolist())) == 2  # kept and dropped values


def test_rrelu_in_training_scales_each_negative_element_by_its_drawn_slope(torch):
    gradscope.manual_seed(3)
    x = gradscope.tensor([-1.0, -2.0, 3.0, -4.0, 0.5], dtype=gradscope.float64, requires_grad=True)
    y = gradscope.nn.functional.rrelu(x, 0.1, 0.3, training=True)
    y.sum().backward()
    slopes = (y / x).detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), slopes)
    assert np.all((slopes[x.detach().numpy() < 0] >= 0.1) & (slopes[x.detach().numpy() < 0] <= 0.3))
    assert slopes[2] == slopes[4] == 1.0
    assert y.grad_fn.name() == "RreluWithNoiseBackward0"
    assert repr(gradscope.nn.RReLU(0.1, 0.3, inplace=True)) == repr(torch.nn.RReLU(0.1, 0.3, inplace=True))
