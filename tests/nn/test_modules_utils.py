"""nn.utils against PyTorch: gradient clipping, parameters <-> vector, pad_sequence, unpad_sequence."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope
import gradscope.nn as gnn


def _pair(scale: float = 10.0):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    ours = gnn.Sequential(gnn.Linear(3, 4), gnn.Tanh(), gnn.Linear(4, 2)).double()
    ours.load_state_dict({k: gradscope.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = torch.randn(5, 3, dtype=torch.float64) * scale
    (theirs(x) ** 2).sum().backward()
    (ours(gradscope.tensor(x.numpy())) ** 2).sum().backward()
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair()
    their_total = torch.nn.utils.clip_grad_norm_(theirs.parameters(), max_norm, norm_type)
    our_total = gnn.utils.clip_grad_norm_(ours.parameters(), max_norm, norm_type)
    np.testing.assert_allclose(our_total.numpy(), their_total.numpy(), rtol=1e-12)
    for ours_p, theirs_p in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(ours_p.grad.numpy(), theirs_p.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_edge_cases():
    assert gnn.utils.clip_grad_norm_([gnn.Parameter(gradscope.ones(2))], 1.0).item() == 0.0
    param = gnn.Parameter(gradscope.ones(2))
    param.grad = gradscope.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is non-finite"):
        gnn.utils.clip_grad_norm_(param, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _pair()
    torch.nn.utils.clip_grad_value_(theirs.parameters(), 0.3)
    assert gnn.utils.clip_grad_value_(ours.parameters(), 0.3) is None
    for ours_p, theirs_p in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(ours_p.grad.numpy(), theirs_p.grad.numpy(), rtol=1e-12)


def test_parameters_to_vector_and_back():
    model = gnn.Linear(3, 2)
    vector = gnn.utils.parameters_to_vector(model.parameters())
    assert vector.shape == (8,) and vector.requires_grad
    np.testing.assert_allclose(vector.detach().numpy()[:6], model.weight.detach().numpy().ravel())
    gnn.utils.vector_to_parameters(gradscope.arange(8.0), model.parameters())
    np.testing.assert_allclose(model.bias.detach().numpy(), [6.0, 7.0])
    assert model.weight.shape == (2, 3)
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        gnn.utils.vector_to_parameters([1.0], model.parameters())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, padding_side):
    torch = pytest.importorskip("torch")
    sequences = [torch.randn(length, 2, dtype=torch.float64, requires_grad=True) for length in (3, 1, 2)]
    ours_in = [gradscope.tensor(s.detach().numpy()).requires_grad_() for s in sequences]
    theirs = torch.nn.utils.rnn.pad_sequence(sequences, batch_first, -1.0, padding_side)
    ours = gnn.utils.rnn.pad_sequence(ours_in, batch_first, -1.0, padding_side)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy())
    weight = torch.randn(theirs.shape, dtype=torch.float64)
    (theirs * weight).sum().backward()
    (ours * gradscope.tensor(weight.numpy())).sum().backward()
    for o, t in zip(ours_in, sequences):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_and_unpack_sequence_match_torch(batch_first):
    """unpad_sequence / unpack_sequence (an ImportError before): the sequences back, each IndexBackward0 over the
    padded batch, and the gradients through them."""
    torch = pytest.importorskip("torch")
    seen = []
    for lib in (gradscope, torch):
        rnn = lib.nn.utils.rnn
        sequences = [lib.arange(float(n * 2)).reshape(n, 2).requires_grad_() for n in (3, 1, 2)]
        out = rnn.unpad_sequence(rnn.pad_sequence(sequences, batch_first), lib.tensor([3, 1, 2]), batch_first)
        sum((o * (i + 1)).sum() for i, o in enumerate(out)).backward()
        unpacked = rnn.unpack_sequence(rnn.pack_sequence(sequences, enforce_sorted=False))
        seen.append(([o.tolist() for o in out], [o.grad_fn.name() for o in out],
                     out[0].grad_fn.next_functions[0][0].name(), [s.grad.tolist() for s in sequences],
                     [u.tolist() for u in unpacked], [u.grad_fn.name() for u in unpacked]))
    assert seen[0] == seen[1]
