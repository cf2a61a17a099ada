"""Losses and distances beyond what the op samples check: PyTorch's errors and warnings, arguments
PyTorch refuses to differentiate, cross_entropy/nll_loss over (N, C, d…) with weights, ignore_index and
label smoothing, and broadcasting over random shapes against torch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import gradscope

SETUP = "F = torch.nn.functional\nx = torch.ones(2, 3, requires_grad=True)\nhalf = torch.full((2, 3), 0.5)\n"
LONG = "dtype=torch.long"

ERRORS = {
    "bce size": ("F.binary_cross_entropy(half, torch.ones(2, 1))",
                 "ValueError: Using a target size (torch.Size([2, 1])) that is different to the input size "
                 "(torch.Size([2, 3])) is deprecated. Please ensure they have the same size."),
    "bce range": ("F.binary_cross_entropy(half * 3, half)", "RuntimeError: all elements of input should be between 0 "
                                                            "and 1"),
    "bce nan": ("F.binary_cross_entropy(half * float('nan'), half)", "RuntimeError: all elements of input should be "
                                                                     "between 0 and 1"),
    "bce dtypes": ("F.binary_cross_entropy(half, half.double())", "RuntimeError: Found dtype Double but expected "
                                                                  "Float"),
    "bce weight grad": ("F.binary_cross_entropy(half, half, weight=torch.ones(3, requires_grad=True))",
                        "RuntimeError: The function 'binary_cross_entropy' is not differentiable with respect to "
                        "argument 'weight'. This input cannot have requires_grad True."),
    "bce reduction": ("F.binary_cross_entropy(half, half, reduction='avg')",
                      "ValueError: avg is not a valid value for reduction"),
    "l1 reduction": ("F.l1_loss(x, x, reduction='avg')", "ValueError: avg is not a valid value for reduction"),
    "l1 weighted reduction": ("F.l1_loss(x, x, reduction='avg', weight=half)",
                              "ValueError: Invalid reduction mode: avg. Expected one of 'none', 'mean', 'sum'."),
    "l1 weight size": ("F.l1_loss(x, x, weight=torch.ones(3))", "ValueError: Weights and input must have the same "
                                                                "size."),
    "smooth_l1 beta": ("F.smooth_l1_loss(x, x, beta=-1.0)", "RuntimeError: smooth_l1_loss does not support negative "
                                                            "values for beta."),
    "huber delta": ("F.huber_loss(x, x, delta=0.0)", "RuntimeError: huber_loss does not support non-positive values "
                                                     "for delta."),
    "huber reduction": ("F.huber_loss(x, x, reduction='avg')", "ValueError: avg is not a valid value for reduction"),
    "huber weighted reduction": ("F.huber_loss(x, x, reduction='avg', weight=half)",
                                 "ValueError: Invalid reduction mode: avg. Expected one of 'none', 'mean', 'sum'."),
    "kl_div integers": (f"F.kl_div(torch.ones(2, {LONG}), torch.ones(2, {LONG}), reduction='sum')",
                        "RuntimeError: kl_div: Integral inputs not supported."),
    "kl_div reduction": ("F.kl_div(x, x, reduction='avg')", "ValueError: avg is not a valid value for reduction"),
    "poisson reduction": ("F.poisson_nll_loss(x, x, reduction='avg')",
                          "ValueError: avg is not a valid value for reduction"),
    "gaussian negative var": ("F.gaussian_nll_loss(x, x, -1.0)", "ValueError: var has negative entry/entries"),
    "gaussian negative vars": ("F.gaussian_nll_loss(x, x, -half)", "ValueError: var has negative entry/entries"),
    "gaussian var size": ("F.gaussian_nll_loss(x, x, torch.ones(3, 3))", "ValueError: var is of incorrect size"),
    "gaussian reduction": ("F.gaussian_nll_loss(x, x, half, reduction='avg')", "ValueError: avg is not valid"),
    "margin_ranking dims": ("F.margin_ranking_loss(x, x, torch.ones(3))",
                            "RuntimeError: margin_ranking_loss : All input tensors should have same dimension but got "
                            "sizes: input1: torch.Size([2, 3]), input2: torch.Size([2, 3]), target: torch.Size([3]) "),
    "triplet margin": ("F.triplet_margin_loss(x, x, x, margin=0.0)", "ValueError: margin must be greater than 0, got "
                                                                     "0.0"),
    "triplet dims": ("F.triplet_margin_loss(x, x, torch.ones(3))",
                     "RuntimeError: The anchor, positive, and negative tensors are expected to have the same number of "
                     "dimensions, but got: anchor 2D, positive 2D, and negative 1D inputs"),
    "cosine_embedding target": ("F.cosine_embedding_loss(x, x, half)",
                                "RuntimeError: 0D or 1D target tensor expected, multi-target not supported"),
    "cosine_embedding 1-D target": ("F.cosine_embedding_loss(torch.ones(3), torch.ones(3), torch.ones(2))",
                                    "RuntimeError: 1D target tensor expects 2D input tensors, but found inputs with "
                                    "sizes [3] and [3]."),
    "cosine_embedding 0-D target": ("F.cosine_embedding_loss(x, x, torch.tensor(1.0))",
                                    "RuntimeError: 0D target tensor expects 1D input tensors, but found inputs with "
                                    "sizes [2, 3] and [2, 3]."),
    "soft_margin target grad": ("F.soft_margin_loss(x, torch.ones(2, 3, requires_grad=True))",
                                "RuntimeError: The function 'soft_margin_loss' is not differentiable with respect to "
                                "argument 'target'. This input cannot have requires_grad True."),
    "multilabel reduction": ("F.multilabel_soft_margin_loss(x, x, reduction='avg')", "ValueError: avg is not valid"),
    "nll 4-D size": (f"F.nll_loss(torch.ones(2, 3, 4, 5), torch.zeros(2, 4, 4, {LONG}))",
                     "RuntimeError: size mismatch (got input: [2, 3, 4, 5] , target: [2, 4, 4]"),
    "nll 4-D target rank": (f"F.nll_loss(torch.ones(2, 3, 4, 5), torch.zeros(2, 20, {LONG}))",
                            "RuntimeError: only batches of spatial targets supported (3D tensors) but got targets of "
                            "dimension: 2"),
    "nll 3-D size": (f"F.nll_loss(torch.ones(2, 3, 4), torch.zeros(2, 5, {LONG}))",
                     "RuntimeError: Expected target size [2, 4], got [2, 5]"),
    "nll 5-D size": (f"F.nll_loss(torch.ones(2, 3, 4, 5, 2), torch.zeros(2, 4, 5, 3, {LONG}))",
                     "RuntimeError: Expected target size [2, 4, 5, 2], got [2, 4, 5, 3]"),
    "nll 0-D": ("F.nll_loss(torch.tensor(1.), torch.tensor(0))", "ValueError: Expected 1 or more dimensions (got 0)"),
    "nll 4-D out of bounds": ("F.nll_loss(torch.ones(2, 3, 4, 5), torch.full((2, 4, 5), 3))",
                              "IndexError: Target 3 is out of bounds."),
    "nll 4-D weight": (f"F.nll_loss(torch.ones(2, 3, 4, 5), torch.zeros(2, 4, 5, {LONG}), weight=torch.ones(2))",
                       "RuntimeError: weight tensor should be defined either for all or no classes"),
    "nll 2-D weight": (f"F.nll_loss(torch.ones(2, 3), torch.zeros(2, {LONG}), weight=torch.ones(2))",
                       "RuntimeError: weight tensor should be defined either for all 3 classes or no classes but got "
                       "weight tensor of shape: [2]"),
    "nll 4-D float target": ("F.nll_loss(torch.ones(2, 3, 4, 5), torch.zeros(2, 4, 5))",
                             "RuntimeError: expected target dtype to be Long or Byte, but got Float"),
    "nll 4-D weight grad": (f"F.nll_loss(torch.ones(2, 3, 4, 5), torch.zeros(2, 4, 5, {LONG}), "
                            "weight=torch.ones(3, requires_grad=True))",
                            "RuntimeError: The function 'nll_loss2d_forward' is not differentiable with respect to "
                            "argument 'weight'. This input cannot have requires_grad True."),
    # PyTorch refuses a weight that requires grad before it looks at the targets
    "nll weight grad before bounds": ("F.nll_loss(x, torch.tensor([0, 9]), weight=torch.ones(3, requires_grad=True))",
                                      "RuntimeError: The function 'nll_loss_forward' is not differentiable with "
                                      "respect to argument 'weight'. This input cannot have requires_grad True."),
    "nll bounds with ignore_index a class": ("F.nll_loss(x, torch.tensor([1, -3]), ignore_index=1)",
                                             "IndexError: Target -3 is out of bounds."),
    # class indices are int64 or uint8 (nll_loss2d: int64 alone), checked after the targets' rank, before the weight
    "nll int32 target": ("F.nll_loss(x, torch.zeros(2, dtype=torch.int32), weight=torch.ones(2))",
                         "RuntimeError: expected target dtype to be Long or Byte, but got Int"),
    "cross_entropy int8 target": ("F.cross_entropy(x, torch.zeros(2, dtype=torch.int8))",
                                  "RuntimeError: expected target dtype to be Long or Byte, but got Char"),
    "cross_entropy bool target": ("F.cross_entropy(x, torch.zeros(2, dtype=torch.bool), label_smoothing=0.1)",
                                  "RuntimeError: expected target dtype to be Long or Byte, but got Bool"),
    "cross_entropy 1-D int32 target": ("F.cross_entropy(x[0], torch.zeros(2, dtype=torch.int32))",
                                       "RuntimeError: expected target dtype to be Long or Byte, but got Int"),
    "nll 2-D targets": (f"F.nll_loss(x, torch.zeros(2, 1, {LONG}))",
                        "RuntimeError: 0D or 1D target tensor expected, multi-target not supported"),
    "nll 2-D float targets": ("F.nll_loss(x, half, weight=torch.ones(2))",
                              "RuntimeError: 0D or 1D target tensor expected, multi-target not supported"),
    "cross_entropy 2-D targets": (f"F.cross_entropy(x, torch.zeros(2, 2, {LONG}), label_smoothing=0.1)",
                                  "RuntimeError: 0D or 1D target tensor expected, multi-target not supported"),
    "cross_entropy 1-D input 2 targets": (f"F.cross_entropy(x[0], torch.zeros(2, {LONG}), weight=torch.ones(2))",
                                          "ValueError: For 1D input, 1D target must have size 1, but got target size: "
                                          "2"),
    "cross_entropy 1-D input 2-D target": (f"F.cross_entropy(x[0], torch.zeros(1, 1, {LONG}))",
                                           "RuntimeError: 0D or 1D target tensor expected, multi-target not "
                                           "supported"),
    "nll 4-D int32 target": ("F.nll_loss(torch.ones(2, 3, 4, 5), torch.zeros(2, 4, 6, dtype=torch.int32))",
                             "RuntimeError: expected target dtype to be Long or Byte, but got Int"),
    "nll 4-D byte target": ("F.nll_loss(torch.ones(2, 3, 4, 5), torch.zeros(2, 4, 5, dtype=torch.uint8))",
                            "RuntimeError: expected scalar type Long but found Byte"),
    "nll 4-D byte target weight": ("F.nll_loss(torch.ones(2, 3, 4, 5), torch.zeros(2, 4, 5, dtype=torch.uint8), "
                                   "weight=torch.ones(2))",
                                   "RuntimeError: weight tensor should be defined either for all or no classes"),
    "nll 4-D weight before size": (f"F.nll_loss(torch.ones(2, 3, 4, 5), torch.zeros(2, 4, 6, {LONG}), "
                                   "weight=torch.ones(2))",
                                   "RuntimeError: weight tensor should be defined either for all or no classes"),
    "cross_entropy 3-D byte target": ("F.cross_entropy(torch.ones(2, 3, 4), torch.zeros(2, 4, dtype=torch.uint8))",
                                      "RuntimeError: expected scalar type Long but found Byte"),
    "cross_entropy 3-D float target size": ("F.cross_entropy(torch.ones(2, 3, 4), torch.zeros(2, 5))",
                                            "RuntimeError: Expected target size [2, 4], got [2, 5]"),
    "cross_entropy byte target bounds": ("F.cross_entropy(x, torch.tensor([0, 255], dtype=torch.uint8))",
                                         "IndexError: Target 255 is out of bounds."),
    "cross_entropy probability weight": ("F.cross_entropy(x, half, weight=torch.ones(2))",
                                         "RuntimeError: cross_entropy: weight tensor should be defined either for all "
                                         "3 classes or no classes but got weight tensor of shape: [2]"),
    "cross_entropy probability smoothing": ("F.cross_entropy(x, half, label_smoothing=1.5)",
                                            "RuntimeError: label_smoothing must be between 0.0 and 1.0. Got: 1.5"),
    "cosine_similarity integers": (f"F.cosine_similarity(torch.ones(2, 3, {LONG}), torch.ones(2, 3, {LONG}))",
                                   "RuntimeError: expected common dtype to be floating point, yet common dtype is "
                                   "Long"),
    "cosine_similarity dim": ("F.cosine_similarity(x, x, dim=2)",
                              "IndexError: Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    "cosine_similarity shapes": ("F.cosine_similarity(x, torch.ones(3, 3))",
                                 "RuntimeError: The size of tensor a (2) must match the size of tensor b (3) at "
                                 "non-singleton dimension 0"),
    "bilinear ranks": ("F.bilinear(x, torch.ones(3), torch.ones(4, 3, 3))",
                       "RuntimeError: bilinear(): input dimensions do not match: got 2 and 1"),
    "bilinear batch": ("F.bilinear(x, torch.ones(3, 3), torch.ones(4, 3, 3))",
                       "RuntimeError: bilinear(): input batch dimensions do not match at dim 0: got 2 and 3"),
    "bilinear input1": ("F.bilinear(x, half, torch.ones(4, 2, 3))",
                        "RuntimeError: bilinear(): input1 size does not match weight size: got 3 but expected 2"),
    "bilinear input2": ("F.bilinear(x, half, torch.ones(4, 3, 2))",
                        "RuntimeError: bilinear(): input2 size does not match weight size: got 3 but expected 2"),
    "bilinear bias": ("F.bilinear(x, half, torch.ones(4, 3, 3), torch.ones(3))",
                      "RuntimeError: bilinear(): bias size does not match weight size: got 3 but expected 4"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_error_matches_torch(case, oracle):
    snippet, error = ERRORS[case]
    oracle.check(SETUP + snippet, error=error)


def test_warnings_match_torch(oracle):
    oracle.check(SETUP + "F.l1_loss(x, torch.ones(3))\nF.kl_div(x, half)\nF.smooth_l1_loss(x, half, reduce=False)\n"
                 "F.gumbel_softmax(x, eps=0.1)\n", warns=(
        "UserWarning: Using a target size (torch.Size([3])) that is different to the input size (torch.Size([2, 3])). "
        "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
        "UserWarning: reduction: 'mean' divides the total loss by both the batch size and the support size."
        "'batchmean' divides only by the batch size, and aligns with the KL div math definition.'mean' will be "
        "changed to behave the same as 'batchmean' in the next major release.",
        "UserWarning: size_average and reduce args will be deprecated, please use reduction='none' instead.",
        "UserWarning: `eps` parameter is deprecated and has no effect."), compare=False)


def test_negative_label_smoothing_is_plain_cross_entropy(oracle):
    oracle.check(SETUP + f"print(F.cross_entropy(x, torch.zeros(2, {LONG}), label_smoothing=-0.5).grad_fn.name())",
                 stdout="NllLossBackward0\n")


def test_all_ignored_targets_give_nan(oracle):
    oracle.check(SETUP + "print(F.nll_loss(torch.zeros(2, 3, 1, 1), torch.full((2, 1, 1), -100)))",
                 stdout="tensor(nan)\n")


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 3, 2, 2), (1, 3, 2, 1, 2), (2, 3, 0)])
@pytest.mark.parametrize("options", [{}, {"reduction": "none"}, {"ignore_index": 1, "reduction": "sum"},
                                     {"weight": [0.2, 1.0, 3.0], "label_smoothing": 0.25},
                                     {"weight": [0.2, 1.0, 3.0], "label_smoothing": 0.1, "reduction": "none"}])
def test_cross_entropy_over_spatial_dims_matches_torch(shape, options):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(shape))
    logits = rng.standard_normal(shape)
    target = rng.integers(0, 3, (shape[0],) + shape[2:])
    results = []
    for lib in (gradscope, torch):
        kwargs = dict(options)
        if "weight" in kwargs:
            kwargs["weight"] = lib.tensor(kwargs["weight"], dtype=lib.float64)
        x = lib.tensor(logits, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(x, lib.tensor(target), **kwargs)
        grads = lib.autograd.grad(loss.sum(), x, allow_unused=True) if loss.requires_grad else (None,)
        results.append((loss.grad_fn and loss.grad_fn.name(), loss.detach().numpy(),
                        None if grads[0] is None else grads[0].numpy()))
    assert results[0][0] == results[1][0]
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12, equal_nan=True)
    if results[1][2] is not None:
        np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("target", [0, [2], [-100]], ids=["0-D", "(1,)", "(1,) ignored"])
@pytest.mark.parametrize("options", [{}, {"reduction": "none"}, {"reduction": "sum"}, {"ignore_index": 2},
                                     {"weight": [0.2, 1.0, 3.0]}, {"label_smoothing": 0.25, "reduction": "none"},
                                     {"weight": [0.2, 1.0, 3.0], "label_smoothing": 0.1}])
def test_one_class_index_for_a_1d_input_matches_torch(target, options):
    """A 1-D input (C,) takes a 0-D target or a target of one element, (1,); the loss is 0-D either way. PyTorch's
    backward refuses a (1,) target ('size mismatch'), and so does its label smoothing (a broadcast into a 0-D
    output): there only the forward without smoothing is compared."""
    torch = pytest.importorskip("torch")
    if target != 0 and "label_smoothing" in options:
        pytest.skip("PyTorch fails on it")
    logits = np.array([0.5, -1.0, 2.0])
    results = []
    for lib in (gradscope, torch):
        kwargs = dict(options)
        if "weight" in kwargs:
            kwargs["weight"] = lib.tensor(kwargs["weight"], dtype=lib.float64)
        x = lib.tensor(logits, requires_grad=True)
        nll_kwargs = {key: value for key, value in kwargs.items() if key != "label_smoothing"}
        for function, arguments in ((lib.nn.functional.cross_entropy, kwargs), (lib.nn.functional.nll_loss,
                                                                                 nll_kwargs)):
            try:
                loss = function(x, lib.tensor(target), **arguments)
            except IndexError as error:  # a target that is neither a class nor ignore_index
                results.append((str(error),))
                continue
            grad = lib.autograd.grad(loss, x)[0].numpy() if target == 0 else None
            results.append((loss.grad_fn.name(), tuple(loss.shape), loss.detach().numpy(), grad))
    for ours, theirs in zip(results[:2], results[2:], strict=True):
        assert ours[:2] == theirs[:2]
        if len(theirs) == 1:
            continue
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12, equal_nan=True)
        if target == 0:
            np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-12, atol=1e-15, equal_nan=True)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("targets", ["int64", "uint8", "some ignored"])
def test_nll_loss_gradient_is_torchs_to_the_bit(reduction, targets):
    # PyTorch's gradient is -(g / count), rounded once in float32; -(1 / count) rounded, then times g, is not
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    log_probs = rng.standard_normal((30, 3)).astype(np.float32)
    target = rng.integers(0, 3, 30).astype(np.uint8 if targets == "uint8" else np.int64)
    if targets == "some ignored":
        target[::4] = -100
    grads = []
    for lib in (gradscope, torch):
        x = lib.tensor(log_probs, requires_grad=True)
        (lib.nn.functional.nll_loss(x, lib.tensor(target), reduction=reduction) * 0.8281565308570862).backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_mse_loss_gradient_is_torchs_to_the_bit():
    # PyTorch's norm * (input - target) * g with norm = 2 / numel rounded to float32, not 2 * (input - target) * (g / n)
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a, b = (rng.standard_normal((7, 5)).astype(np.float32) for _ in range(2))
    grads = []
    for lib in (gradscope, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        (lib.nn.functional.mse_loss(x, y) * 0.3).backward()
        grads.append((x.grad.numpy(), y.grad.numpy()))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_array_equal(grads[0][1], grads[1][1])


def test_means_of_nothing_are_nan_without_warnings(oracle):
    oracle.check("e = torch.zeros(0)\nprint(e.mean(), torch.nn.functional.mse_loss(e, e), "
                 "torch.nn.functional.l1_loss(e, e))\n", stdout="tensor(nan) tensor(nan) tensor(nan)\n", warns=())


# losses that broadcast input against target (each warns about it, as in PyTorch)
BROADCASTING = {
    "l1_loss": lambda lib, x, t: lib.nn.functional.l1_loss(x, t, reduction="sum"),
    "smooth_l1_loss": lambda lib, x, t: lib.nn.functional.smooth_l1_loss(x, t, beta=0.5),
    "huber_loss": lambda lib, x, t: lib.nn.functional.huber_loss(x, t, reduction="none", delta=0.7),
    "mse_loss": lambda lib, x, t: lib.nn.functional.mse_loss(x, t),
    "cosine_similarity": lambda lib, x, t: lib.nn.functional.cosine_similarity(x, t, dim=-1),
    "pairwise_distance": lambda lib, x, t: lib.nn.functional.pairwise_distance(x, t, p=1.5),
    "kl_div": lambda lib, x, t: lib.nn.functional.kl_div(x, t.abs(), reduction="sum"),
}

broadcast_pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, min_side=1, max_side=3)


@pytest.mark.parametrize("name", BROADCASTING)
@pytest.mark.filterwarnings("ignore:Using a target size")
@settings(max_examples=10, deadline=None)
@given(shapes=broadcast_pairs, seed=st.integers(0, 2**32 - 1))
def test_broadcasting_losses_match_torch(name, shapes, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape) for shape in shapes.input_shapes]
    results = []
    for lib in (gradscope, torch):
        inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = BROADCASTING[name](lib, *inputs)
        grads = lib.autograd.grad(out.sum(), inputs)
        results.append([out.detach().numpy(), *(g.numpy() for g in grads)])
    for ours, theirs in zip(*results, strict=True):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call", [
    lambda F, x, t: F.l1_loss(x, t), lambda F, x, t: F.smooth_l1_loss(x, t), lambda F, x, t: F.huber_loss(x, t),
    lambda F, x, t: F.binary_cross_entropy(x.sigmoid(), t), lambda F, x, t: F.kl_div(x, t, reduction="batchmean"),
    lambda F, x, t: F.poisson_nll_loss(x, t, full=True), lambda F, x, t: F.gaussian_nll_loss(x, t, t + 1),
    lambda F, x, t: F.soft_margin_loss(x, t.detach()), lambda F, x, t: F.multilabel_soft_margin_loss(x, t),
    lambda F, x, t: F.margin_ranking_loss(x, t, -t.detach()), lambda F, x, t: F.hinge_embedding_loss(x, t.detach()),
    lambda F, x, t: F.cosine_embedding_loss(x, t, gradscope.ones(2)), lambda F, x, t: F.triplet_margin_loss(x, t, -t),
    lambda F, x, t: F.cosine_similarity(x, t), lambda F, x, t: F.pairwise_distance(x, t),
    lambda F, x, t: F.cross_entropy(x.view(1, 2, 3), gradscope.tensor([[0, 1, 1]]), label_smoothing=0.2),
])
def test_float32_stays_float32(call):
    x = gradscope.randn(2, 3, requires_grad=True)
    t = gradscope.rand(2, 3, requires_grad=True)
    out = call(gradscope.nn.functional, x, t)
    grads = gradscope.autograd.grad(out.sum(), [x, t], allow_unused=True)
    assert out.dtype == gradscope.float32
    assert all(g is None or g.dtype == gradscope.float32 for g in grads)


def test_fused_loss_nodes_save_the_reduction_as_pytorchs_enum(oracle):
    oracle.check("""
        F = torch.nn.functional
        x = torch.full((2, 3), 0.5, requires_grad=True)
        t = torch.full((2, 3), 0.25)
        classes = torch.tensor([2, 0])
        for reduction in ("none", "mean", "sum"):
            losses = [F.mse_loss(x, t, reduction=reduction), F.smooth_l1_loss(x, t, reduction=reduction),
                      F.huber_loss(x, t, reduction=reduction), F.binary_cross_entropy(x, t, reduction=reduction),
                      F.binary_cross_entropy_with_logits(x, t, reduction=reduction),
                      F.soft_margin_loss(x, t, reduction=reduction), F.nll_loss(x, classes, reduction=reduction),
                      F.nll_loss(x.view(2, 3, 1, 1), classes.view(2, 1, 1), reduction=reduction)]
            print(reduction, {(type(loss.grad_fn._saved_reduction), loss.grad_fn._saved_reduction) for loss in losses})
        print(", ".join(loss.grad_fn.name() for loss in losses))
    """, stdout="""
        none {(<class 'int'>, 0)}
        mean {(<class 'int'>, 1)}
        sum {(<class 'int'>, 2)}
        MseLossBackward0, SmoothL1LossBackward0, HuberLossBackward0, BinaryCrossEntropyBackward0, \
BinaryCrossEntropyWithLogitsBackward0, SoftMarginLossBackward0, NllLossBackward0, NllLoss2DBackward0
    """)


def test_targets_and_weights_are_saved_tensors_checked_for_inplace_changes(oracle):
    """PyTorch's loss nodes keep the target, class weights and pos_weight as saved tensors: a change in place
    before backward raises its error, and `_saved_target` is the target itself."""
    oracle.check("""
        F = torch.nn.functional
        x = torch.tensor([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]], requires_grad=True)
        def attempt(make, change):
            loss = make()
            change()
            try:
                loss.backward()
                print("no error")
            except RuntimeError as error:
                print(str(error).replace(" Hint: enable anomaly detection to find the operation that failed to "
                                         "compute its gradient, with torch.autograd.set_detect_anomaly(True, "
                                         "check_nan=False).", " Hint"))
        t = torch.tensor([2, 0])
        attempt(lambda: F.nll_loss(x, t), lambda: t.add_(0))
        t = torch.tensor([2, 0])
        attempt(lambda: F.cross_entropy(x, t), lambda: t.zero_())
        w = torch.ones(3)
        attempt(lambda: F.cross_entropy(x, torch.tensor([2, 0]), weight=w), lambda: w.mul_(2))
        t4 = torch.tensor([[[2]], [[0]]])
        attempt(lambda: F.nll_loss(x.view(2, 3, 1, 1), t4), lambda: t4.add_(0))
        t3 = torch.tensor([[2], [0]])
        attempt(lambda: F.nll_loss(x.view(2, 3, 1), t3), lambda: t3.add_(0))
        half = torch.full((2, 3), 0.5)
        attempt(lambda: F.binary_cross_entropy(x, half, weight=w), lambda: w.mul_(2))
        attempt(lambda: F.binary_cross_entropy_with_logits(x, half, pos_weight=w), lambda: w.mul_(2))
        attempt(lambda: F.soft_margin_loss(x, half), lambda: half.mul_(2))
        y = x * 1
        attempt(lambda: F.nll_loss(y, torch.tensor([2, 0])), lambda: y.mul_(2))
    """, stdout="""
        one of the variables needed for gradient computation has been modified by an inplace operation: \
[torch.LongTensor [2]] is at version 1; expected version 0 instead. Hint
        one of the variables needed for gradient computation has been modified by an inplace operation: \
[torch.LongTensor [2]] is at version 1; expected version 0 instead. Hint
        one of the variables needed for gradient computation has been modified by an inplace operation: \
[torch.FloatTensor [3]] is at version 1; expected version 0 instead. Hint
        one of the variables needed for gradient computation has been modified by an inplace operation: \
[torch.LongTensor [2, 1, 1]] is at version 1; expected version 0 instead. Hint
        one of the variables needed for gradient computation has been modified by an inplace operation: \
[torch.LongTensor [2, 1, 1]] is at version 1; expected version 0 instead. Hint
        one of the variables needed for gradient computation has been modified by an inplace operation: \
[torch.FloatTensor [2, 3]] is at version 2; expected version 1 instead. Hint
        one of the variables needed for gradient computation has been modified by an inplace operation: \
[torch.FloatTensor [3]] is at version 3; expected version 2 instead. Hint
        one of the variables needed for gradient computation has been modified by an inplace operation: \
[torch.FloatTensor [2, 3]] is at version 1; expected version 0 instead. Hint
        one of the variables needed for gradient computation has been modified by an inplace operation: \
[torch.FloatTensor [2, 3]], which is output 0 of Mul, is at version 1; expected version 0 instead. Hint
    """)


def test_nll_loss_node_shows_what_pytorch_saves(oracle):
    oracle.check("""
        F = torch.nn.functional
        x = torch.tensor([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]], requires_grad=True)
        t = torch.tensor([2, 0])
        node = F.nll_loss(x, t).grad_fn
        print(node._saved_target is t, node._saved_self is x, node._saved_weight, node._saved_total_weight,
              node._saved_ignore_index, node._saved_reduction)
        print(node._raw_saved_weight.unpack(), type(node._raw_saved_target).__name__,
              node._raw_saved_target.unpack() is t, node._raw_saved_total_weight.unpack())
        print(sorted(name for name in dir(node) if name.startswith(("_saved_", "_raw_saved_"))))
        t.add_(0)
        try:
            node._saved_target
        except RuntimeError as error:
            print(str(error)[:118])
        for weight, ignore_index, reduction in ((None, 0, "mean"), (torch.tensor([1.0, 2.0, 4.0]), 2, "sum"),
                                                (torch.tensor([1.0, 2.0, 4.0]), 1, "none")):
            node = F.nll_loss(x, torch.tensor([2, 0]), weight, ignore_index=ignore_index, reduction=reduction).grad_fn
            print(node._saved_total_weight, node._saved_ignore_index, node._saved_weight)
        print(F.nll_loss(x[0], torch.tensor(1), reduction="none").grad_fn._saved_total_weight,
              F.nll_loss(x.view(2, 3, 1, 1), torch.tensor([[[2]], [[2]]])).grad_fn._saved_total_weight)
        loss = F.nll_loss(x, torch.tensor([2, 0]), weight=torch.tensor([1.0, 2.0, 3.0]), reduction="sum")
        loss.backward()
        for name in ("_saved_target", "_saved_weight", "_saved_total_weight", "_saved_reduction"):
            try:
                print(name, getattr(loss.grad_fn, name))
            except RuntimeError as error:
                print(name, str(error)[:50])
    """, stdout="""
        True True None tensor(2.) 18446744073709551516 1
        None SavedTensor True tensor(2.)
        ['_raw_saved_self', '_raw_saved_target', '_raw_saved_total_weight', '_raw_saved_weight', \
'_saved_ignore_index', '_saved_reduction', '_saved_self', '_saved_target', '_saved_total_weight', '_saved_weight']
        one of the variables needed for gradient computation has been modified by an inplace operation: \
[torch.LongTensor [2]]
        tensor(1.) 0 None
        tensor(1.) 2 tensor([1., 2., 4.])
        tensor(0.) 1 tensor([1., 2., 4.])
        tensor(1.) tensor(2.)
        _saved_target Trying to backward through the graph a second time
        _saved_weight Trying to backward through the graph a second time
        _saved_total_weight Trying to backward through the graph a second time
        _saved_reduction 2
    """)
