"""Built-in forwards read their parameters, buffers and children from the registries (Module._registered), not
through `self.<name>` (a failed lookup, then __getattr__): a member replaced by a plain tensor, a parametrization
or deleted must still be what `self.<name>` would give, as in PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

# (constructor, input shapes, the parameter replaced by a plain tensor; None: inputs are indices)
CASES = {
    "Conv1d": (lambda nn: nn.Conv1d(2, 3, 2), [(2, 2, 5)], "weight"),
    "ConvTranspose1d": (lambda nn: nn.ConvTranspose1d(2, 3, 2), [(2, 2, 5)], "bias"),
    "BatchNorm1d": (lambda nn: nn.BatchNorm1d(3), [(4, 3)], "weight"),
    "InstanceNorm1d": (lambda nn: nn.InstanceNorm1d(3, affine=True, track_running_stats=True), [(2, 3, 4)], "bias"),
    "LayerNorm": (lambda nn: nn.LayerNorm(4), [(2, 4)], "weight"),
    "GroupNorm": (lambda nn: nn.GroupNorm(2, 4), [(2, 4, 3)], "bias"),
    "RMSNorm": (lambda nn: nn.RMSNorm(4), [(2, 4)], "weight"),
    "PReLU": (lambda nn: nn.PReLU(3), [(2, 3)], "weight"),
    "Bilinear": (lambda nn: nn.Bilinear(2, 3, 4), [(2, 2), (2, 3)], "weight"),
    "Embedding": (lambda nn: nn.Embedding(5, 3), None, "weight"),
    "EmbeddingBag": (lambda nn: nn.EmbeddingBag(5, 3), None, "weight"),
    "MultiheadAttention": (lambda nn: nn.MultiheadAttention(4, 2), [(3, 1, 4)] * 3, "in_proj_weight"),
}


def _run(lib, name: str, replace: bool):
    make, shapes, replaced = CASES[name]
    module = make(lib.nn).double()
    for param in module.parameters():
        param.data = lib.tensor(np.linspace(-0.5, 0.7, param.numel()).reshape(tuple(param.shape)))
    scale = lib.tensor(0.5, dtype=lib.float64, requires_grad=True)
    if replace:  # a plain tensor in the parameter's place (functional and weight-norm style code)
        value = getattr(module, replaced).detach().clone()
        delattr(module, replaced)
        setattr(module, replaced, value * scale)
    if shapes is None:
        inputs = [lib.tensor([[0, 2], [4, 1]])]
    else:
        inputs = [lib.tensor(np.linspace(-1, 1, int(np.prod(shape))).reshape(shape)) for shape in shapes]
    out = module(*inputs)
    out = out[0] if isinstance(out, tuple) else out
    (out * out).sum().backward()
    grads = [p.grad.numpy() for p in module.parameters()]
    return out.detach().numpy(), grads, None if scale.grad is None else scale.grad.numpy()


def _same(ours, theirs):
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10, atol=1e-12)
    assert len(ours[1]) == len(theirs[1])
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert (ours[2] is None) == (theirs[2] is None)
    if ours[2] is not None:
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-10)


@pytest.mark.parametrize("replace", [False, True], ids=["registered", "plain tensor"])
@pytest.mark.parametrize("name", list(CASES))
def test_forward_reads_members_like_torch(name, replace):
    _same(_run(gradscope, name, replace), _run(torch, name, replace))


def test_batch_norm_in_eval_mode_without_its_counter_like_torch():
    """PyTorch's BatchNorm reads num_batches_tracked only while training with running stats."""
    for lib in (gradscope, torch):
        norm = lib.nn.BatchNorm1d(3).double().eval()
        del norm.num_batches_tracked
        out = norm(lib.ones(2, 3, dtype=lib.float64))
        assert out.shape == (2, 3)
        norm.train()
        with pytest.raises(AttributeError, match="num_batches_tracked"):
            norm(lib.ones(2, 3, dtype=lib.float64))


def test_parametrized_weight_is_read_like_torch():
    """A parametrization moves the weight out of the registry behind a property: the forward reads the property."""
    outputs = []
    for lib in (gradscope, torch):
        conv = lib.nn.Conv1d(2, 3, 2).double()
        for param in conv.parameters():
            param.data = lib.tensor(np.linspace(-0.5, 0.7, param.numel()).reshape(tuple(param.shape)))

        class Doubled(lib.nn.Module):
            def forward(self, weight):
                return weight * 2

        lib.nn.utils.parametrize.register_parametrization(conv, "weight", Doubled())
        outputs.append(conv(lib.tensor(np.linspace(-1, 1, 10).reshape(1, 2, 5))).detach().numpy())
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-12)
