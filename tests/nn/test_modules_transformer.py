"""MultiheadAttention and the Transformer layers against PyTorch in float64 (dropout 0 or eval):
parameter names, repr, outputs, attention weights and every gradient, with masks and both layouts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from module_oracle import run_both, twin

import gradscope
import gradscope.nn as gnn
from gradscope.autograd import observers


def _qkv(batch_first: bool, kdim: int = 4, vdim: int = 4, batched: bool = True):
    def make(torch):
        def shape(length, dim):
            if not batched:
                return (length, dim)
            return (2, length, dim) if batch_first else (length, 2, dim)
        return tuple(torch.randn(*shape(length, dim), dtype=torch.float64, requires_grad=True)
                     for length, dim in ((3, 4), (5, kdim), (5, vdim)))
    return make


ATTENTION = {
    "plain": (dict(), {}),
    "batch_first no bias": (dict(bias=False, batch_first=True), {}),
    "kdim vdim": (dict(kdim=3, vdim=2), {}),
    "bias_kv zero_attn": (dict(add_bias_kv=True, add_zero_attn=True), {}),
    "per-head weights": (dict(), {"average_attn_weights": False}),
    "no weights": (dict(), {"need_weights": False}),
}


@pytest.mark.parametrize("case", ATTENTION, ids=str)
def test_multihead_attention_matches_torch(case):
    kwargs, call = ATTENTION[case]
    ours, theirs = twin(lambda nn: nn.MultiheadAttention(4, 2, **kwargs))
    inputs = _qkv(kwargs.get("batch_first", False), kwargs.get("kdim", 4), kwargs.get("vdim", 4))
    run_both(lambda *a: ours(*a, **call), lambda *a: theirs(*a, **call), inputs, modules=(ours, theirs))


@pytest.mark.parametrize("mask_kind", ["bool", "float"])
def test_multihead_attention_masks_match_torch(mask_kind):
    ours, theirs = twin(lambda nn: nn.MultiheadAttention(4, 2, add_bias_kv=True))

    def inputs(torch):
        q, k, v = _qkv(False)(torch)
        attn_mask = torch.tensor([[False, True, False, False, True]] * 3)
        padding = torch.tensor([[False, False, False, True, True], [True, False, False, False, False]])
        if mask_kind == "float":
            attn_mask = torch.randn(2 * 2, 3, 5, dtype=torch.float64)
            padding = torch.zeros(2, 5, dtype=torch.float64).masked_fill(padding, float("-inf"))
        return q, k, v, padding, True, attn_mask

    run_both(ours, theirs, inputs)


def test_multihead_attention_unbatched_matches_torch():
    ours, theirs = twin(lambda nn: nn.MultiheadAttention(4, 1))
    run_both(ours, theirs, _qkv(False, batched=False))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_matches_torch(norm_first, batch_first):
    ours, theirs = twin(lambda nn: nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, batch_first=batch_first,
                                                              norm_first=norm_first, activation="gelu"))

    def inputs(torch):
        x = torch.randn(*((2, 3, 4) if batch_first else (3, 2, 4)), dtype=torch.float64, requires_grad=True)
        causal = torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64)
        padding = torch.tensor([[False, False, True], [False, False, False]])
        return x, causal, torch.zeros(2, 3, dtype=torch.float64).masked_fill(padding, float("-inf"))

    run_both(ours, theirs, inputs)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch(norm_first):
    ours, theirs = twin(lambda nn: nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, norm_first=norm_first,
                                                              batch_first=True))

    def inputs(torch):
        target = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
        memory = torch.randn(2, 5, 4, dtype=torch.float64, requires_grad=True)
        causal = torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64)
        memory_padding = torch.tensor([[False] * 4 + [True], [False] * 5])
        return target, memory, causal, None, None, memory_padding

    run_both(ours, theirs, inputs)


def test_encoder_stack_matches_torch_and_warns_like_it():

    def build(nn):
        layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.1)
        return nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(4))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours, theirs = twin(build)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2 and messages[0] == messages[1]
    assert "because encoder_layer.self_attn.batch_first was not True" in messages[0]
    ours.eval()
    theirs.eval()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert "layers.1.linear1.weight" in ours.state_dict()
    run_both(ours, theirs, lambda torch: (torch.randn(3, 2, 4, dtype=torch.float64, requires_grad=True),))


def test_decoder_stack_matches_torch():
    def build(nn):
        return nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0), 2)

    ours, theirs = twin(build)
    run_both(ours, theirs, lambda torch: (torch.randn(3, 2, 4, dtype=torch.float64, requires_grad=True),
                                          torch.randn(4, 2, 4, dtype=torch.float64, requires_grad=True)))


def test_attention_init_and_errors():
    attention = gnn.MultiheadAttention(6, 3, add_bias_kv=True)
    assert np.all(attention.in_proj_bias.detach().numpy() == 0)
    bound = np.sqrt(6 / (6 + 18))
    assert np.all(np.abs(attention.in_proj_weight.detach().numpy()) <= bound)
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        gnn.MultiheadAttention(5, 2)
    x = gradscope.ones(2, 1, 6)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        attention(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is torch.Size\(\[3, 3\]\), but should be "
                                           r"\(2, 2\)."):
        attention(x, x, x, attn_mask=gradscope.zeros(3, 3))


class _Recorder:
    def __init__(self):
        self.scopes = set()

    def node_created(self, node, inputs, outputs):
        self.scopes.add(node.scope)


class _Model(gnn.Module):
    def __init__(self):
        super().__init__()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.encoder = gnn.TransformerEncoder(gnn.TransformerEncoderLayer(4, 2, 6, dropout=0.0), 2)

    def forward(self, x):
        return self.encoder(x)


def test_scopes_name_each_sublayer():
    with observers.observing(_Recorder()) as recorder:
        _Model()(gradscope.randn(3, 2, 4))
    assert {"_Model.encoder.layers.0.linear1", "_Model.encoder.layers.1.self_attn",
            "_Model.encoder.layers.1.norm2", "_Model.encoder.layers.0.norm1"} <= recorder.scopes


def test_full_transformer_matches_torch():
    def build(nn):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nn.Transformer(4, 2, 1, 2, 6, dropout=0.0, batch_first=True, norm_first=True)

    ours, theirs = twin(build)
    assert repr(gnn.Transformer.generate_square_subsequent_mask(3)) == \
        repr(pytest.importorskip("torch").nn.Transformer.generate_square_subsequent_mask(3))

    def inputs(torch):
        return (torch.randn(2, 5, 4, dtype=torch.float64, requires_grad=True),
                torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True), None,
                torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64))

    run_both(ours, theirs, inputs)


@pytest.mark.parametrize("call", ["(3)", "(1)", "(0)", "(4, 'cpu')", "(2, device='cpu', dtype=lib.float64)",
                                  "(3, None, lib.float16)"])
@pytest.mark.parametrize("default", ["float32", "float64"])
def test_the_causal_mask_takes_pytorchs_arguments_and_default_dtype(call, default):
    """(sz, device=None, dtype=None) as PyTorch's: the default dtype when none is given (it was float32 always), the
    device second (a positional 'cpu' was taken for the dtype)."""
    torch = pytest.importorskip("torch")
    seen = []
    for lib in (gradscope, torch):
        previous = lib.get_default_dtype()
        lib.set_default_dtype(getattr(lib, default))
        try:
            seen.append(repr(eval(f"lib.nn.Transformer.generate_square_subsequent_mask{call}")))
        except (RuntimeError, TypeError) as error:
            seen.append(f"{type(error).__name__}: {error}")
        finally:
            lib.set_default_dtype(previous)
    assert seen[0] == seen[1]


def test_transformer_init_is_xavier_for_matrices():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = gnn.Transformer(8, 2, 1, 1, 16)
    bound = np.sqrt(6 / (8 + 16))
    assert np.all(np.abs(model.encoder.layers[0].linear1.weight.detach().numpy()) <= bound)
    assert np.all(model.decoder.norm.weight.detach().numpy() == 1)
