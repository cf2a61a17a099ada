"""dropout, dropout1d, dropout2d, dropout3d: the mask semantics and scaling of PyTorch (values can't match its
random stream), seeded by gradscope.manual_seed, and PyTorch's errors, warnings and node names."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope
from gradscope.nn import functional as F


def test_eval_and_zero_probability_return_the_input_itself(oracle):
    oracle.check("""
        x = torch.ones(2, 3, 4, requires_grad=True)
        F = torch.nn.functional
        print(F.dropout(x, training=False) is x, F.dropout(x, 0.0) is x, F.dropout1d(x, training=False) is x,
              F.dropout2d(torch.ones(2, 3, 4, 4), 0.0).shape)
    """, stdout="True True True torch.Size([2, 3, 4, 4])\n")


def test_node_names_and_all_dropped(oracle):
    oracle.check("""
        x = torch.ones(2, 3, 4, requires_grad=True)
        F = torch.nn.functional
        print(F.dropout(x).grad_fn.name(), F.dropout1d(x).grad_fn.name(), F.dropout1d(x[0]).grad_fn.name(),
              F.dropout2d(x.view(2, 3, 2, 2)).grad_fn.name())
        print(F.dropout3d(x.view(1, 2, 3, 2, 2)).grad_fn.name(), F.dropout3d(x.view(2, 3, 2, 2)).grad_fn.name())
        y = F.dropout(x, 1.0)
        y.sum().backward()
        print(y.grad_fn.name(), y.abs().sum().item(), x.grad.abs().sum().item())
    """, stdout="MulBackward0 MulBackward0 SqueezeBackward1 MulBackward0\nMulBackward0 SqueezeBackward1\n"
                "MulBackward0 0.0 0.0\n")


@pytest.mark.parametrize("snippet, error", [
    ("F.dropout(x, 1.5)", "ValueError: dropout probability has to be between 0 and 1, but got 1.5"),
    ("F.dropout2d(x, -0.1)", "ValueError: dropout probability has to be between 0 and 1, but got -0.1"),
    ("F.dropout1d(x.view(2, 3, 2, 2))",
     "RuntimeError: dropout1d: Expected 2D or 3D input, but received a 4D input. Note that dropout1d exists to provide "
     "channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional batch dimension "
     "(i.e. 2D or 3D inputs)."),
])
def test_errors_match_torch(oracle, snippet, error):
    oracle.check("F = torch.nn.functional\nx = torch.ones(2, 3, 4)\n" + snippet, error=error)


def test_dropout2d_warnings_match_torch(oracle):
    outcome = oracle.check("y = torch.nn.functional.dropout2d(torch.ones(2, 3, 4))\n"
                           "z = torch.nn.functional.dropout2d(torch.ones(2, 3, 4, 5, 6))")
    assert len(outcome.warnings) == 2
    assert outcome.warnings[0].startswith("UserWarning: dropout2d: Received a 3D input to dropout2d and assuming")
    assert outcome.warnings[1].startswith("UserWarning: dropout2d: Received a 5-D input to dropout2d, which is")


def test_dropout3d_warns_for_other_ranks_as_torch(oracle):
    outcome = oracle.check("y = torch.nn.functional.dropout3d(torch.ones(2, 3, 4))\nprint(y.shape)",
                           stdout="torch.Size([2, 3, 4])\n")
    assert len(outcome.warnings) == 1
    assert outcome.warnings[0].startswith("UserWarning: dropout3d: Received a 3-D input to dropout3d, which is")


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_elements_dropped_with_probability_p_and_the_rest_scaled(p):
    gradscope.manual_seed(0)
    x = gradscope.rand(200, 100, dtype=gradscope.float64) + 1.0
    x.requires_grad_()
    y = F.dropout(x, p)
    kept = y.detach().numpy() != 0
    assert abs(1 - kept.mean() - p) < 0.01  # 20,000 draws: 4+ standard deviations
    np.testing.assert_allclose(y.detach().numpy()[kept], x.detach().numpy()[kept] / (1 - p), rtol=1e-15)
    (grad,) = gradscope.autograd.grad(y.sum(), x)
    np.testing.assert_allclose(grad.numpy(), kept / (1 - p), rtol=1e-15)


@pytest.mark.parametrize("call, shape, channel_dims", [
    (lambda x: F.dropout2d(x, 0.5), (40, 30, 3, 3), 2),
    (lambda x: F.dropout1d(x, 0.5), (40, 30, 5), 2),
    (lambda x: F.dropout1d(x, 0.5), (300, 5), 1),
    (lambda x: F.dropout3d(x, 0.5), (40, 30, 2, 2, 2), 2),
    (lambda x: F.dropout3d(x, 0.5), (300, 2, 1, 2), 1),
    (lambda x: F.dropout3d(x, 0.5, inplace=True), (300, 2, 1, 2), 1),
])
def test_feature_dropout_drops_whole_channels(call, shape, channel_dims):
    gradscope.manual_seed(1)
    y = call(gradscope.ones(*shape)).numpy()
    per_channel = y.reshape(shape[:channel_dims] + (-1,))
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert 0.4 < (per_channel[..., 0] == 0).mean() < 0.6


def test_seeded_masks_repeat():
    x = gradscope.ones(50, 20)
    gradscope.manual_seed(7)
    first = F.dropout(x).numpy()
    gradscope.manual_seed(7)
    assert np.array_equal(F.dropout(x).numpy(), first)
    assert not np.array_equal(F.dropout(x).numpy(), first)


def test_inplace_unbatched_dropout1d_drops_whole_channels():
    gradscope.manual_seed(4)
    x = gradscope.ones(300, 5)
    assert F.dropout1d(x, 0.5, inplace=True) is x
    assert ((x.numpy() == 0).all(1) | (x.numpy() == 2).all(1)).all()


def test_inplace_changes_the_input_and_keeps_float32():
    gradscope.manual_seed(3)
    x = gradscope.ones(10, 10)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and y.dtype == gradscope.float32
    assert set(np.unique(x.numpy())) == {0.0, 2.0}


@pytest.mark.parametrize("call, shape", [
    (lambda x, p: F.alpha_dropout(x, p, training=True), (400, 250)),
    (lambda x, p: F.feature_alpha_dropout(x, p, training=True), (400, 250, 1)),
])
@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_mean_and_variance_of_selu_activations(call, shape, p):
    gradscope.manual_seed(2)
    x = gradscope.randn(*shape, dtype=gradscope.float64, requires_grad=True)
    y = call(x, p)
    values = y.detach().numpy()
    assert abs(values.mean()) < 0.02 and abs(values.std() - 1) < 0.02  # 100,000 draws
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * p + 1) * (1 - p))
    # tight: with isclose's default rtol 1e-5 about one of 100,000 kept normals lands on the dropped value
    dropped = np.isclose(values, -1.7580993408473766 * a + 1.7580993408473766 * a * p, rtol=1e-12, atol=0)
    assert abs(dropped.mean() - p) < 0.01
    (grad,) = gradscope.autograd.grad(y.sum(), x)
    np.testing.assert_allclose(grad.numpy(), np.where(dropped, 0.0, a), rtol=1e-12)
    assert y.grad_fn.name() == "AddBackward0"


def test_alpha_dropout_is_the_identity_outside_training(oracle):
    oracle.check("""
        x = torch.ones(2, 3)
        F = torch.nn.functional
        print(F.alpha_dropout(x, 0.5) is x, F.feature_alpha_dropout(x, 0.5, training=False) is x,
              F.alpha_dropout(x, 1.0, training=True).sum().item())
    """, stdout="True True 0.0\n")


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("function", ["dropout", "dropout1d", "dropout2d", "alpha_dropout", "feature_alpha_dropout"])
def test_dropout_of_integers_as_torch(function, dtype):
    """Training dropout of an integer or bool tensor is refused as PyTorch's ('result type Float can't be cast to the
    desired output type Long'; gradscope warned of a division by zero and returned floats); p = 0 or 1 and eval
    pass the input as PyTorch's do."""
    torch = pytest.importorskip("torch")
    seen = []
    for lib in (gradscope, torch):
        outcomes = []
        for p, training in ((0.5, True), (0.5, False), (0.0, True), (1.0, True)):
            try:
                out = getattr(lib.nn.functional, function)(lib.ones(2, 3, 4, dtype=getattr(lib, dtype)), p, training)
                outcomes.append(str(out.dtype))
            except RuntimeError as error:
                outcomes.append(str(error))
        seen.append(outcomes)
    assert seen[0] == seen[1]
