"""Whole models against PyTorch (issue 12): the same model code runs on both libraries, gradscope gets
torch's state_dict, both see the same inputs; outputs, every gradient, and the parameters after three
optimiser steps must agree (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))


def cnn(lib):
    nn = lib.nn

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.conv2 = nn.Conv2d(4, 6, 3, stride=2)
            self.drop = nn.Dropout(0.5)
            self.fc = nn.Linear(6 * 3 * 3, 3)

        def forward(self, x):
            x = lib.nn.functional.max_pool2d(lib.relu(self.bn(self.conv1(x))), 1)
            x = lib.relu(self.conv2(x))
            return self.fc(self.drop(lib.flatten(x, 1)))

    return CNN()


def lstm_tagger(lib):
    nn = lib.nn

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, 5)
            self.lstm = nn.LSTM(5, 7, num_layers=2, batch_first=True, bidirectional=True)
            self.out = nn.Linear(14, 4)

        def forward(self, tokens):
            hidden, _ = self.lstm(self.embed(tokens))
            return lib.nn.functional.log_softmax(self.out(hidden), dim=-1)

    return Tagger()


def transformer(lib):
    nn = lib.nn

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
            self.head = nn.Linear(8, 2)

        def forward(self, x):
            return self.head(self.encoder(x).mean(1))

    return Encoder()


def vae(lib):
    nn = lib.nn

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(8, 6)
            self.mu = nn.Linear(6, 2)
            self.logvar = nn.Linear(6, 2)
            self.dec = nn.Sequential(nn.Linear(2, 6), nn.ReLU(), nn.Linear(6, 8))

        def forward(self, x, noise):
            h = lib.tanh(self.enc(x))
            mu, logvar = self.mu(h), self.logvar(h)
            z = mu + noise * lib.exp(0.5 * logvar)
            recon = self.dec(z)
            kl = -0.5 * lib.sum(1 + logvar - mu ** 2 - logvar.exp())
            return lib.nn.functional.mse_loss(recon, x, reduction="sum") + kl

    return VAE()


rng = np.random.default_rng(0)
CASES = {
    "mlp": (mlp, [rng.normal(size=(5, 6))], lambda lib, out: (out ** 2).mean()),
    "cnn": (cnn, [rng.normal(size=(3, 2, 7, 7))], lambda lib, out: out.logsumexp(1).mean()),
    "lstm_tagger": (lstm_tagger, [rng.integers(0, 10, size=(2, 5))], lambda lib, out: -out[..., 0].mean()),
    "transformer": (transformer, [rng.normal(size=(2, 4, 8))], lambda lib, out: (out ** 2).sum()),
    "vae": (vae, [rng.normal(size=(4, 8)), rng.normal(size=(4, 2))], lambda lib, out: out),
}


def build(name):
    make, inputs, reduce = CASES[name]
    torch.manual_seed(0)
    theirs = make(torch).double()
    ours = make(gradscope).double()
    ours.load_state_dict({k: gradscope.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    if name == "cnn":
        for model in (theirs, ours):  # running statistics of one step, then frozen: eval-mode batch norm
            model.train()
            model(*[lib_tensor(model, x) for x in inputs])
            model.eval()
    return theirs, ours, inputs, reduce


def lib_tensor(model, array):
    lib = torch if isinstance(model, torch.nn.Module) else gradscope
    dtype = lib.long if array.dtype.kind == "i" else lib.float64
    return lib.tensor(array, dtype=dtype)


def step(model, lib, inputs, reduce):
    out = model(*[lib_tensor(model, x) for x in inputs])
    loss = reduce(lib, out)
    loss.backward()
    return out.detach().numpy()


@pytest.mark.parametrize("name", CASES)
def test_outputs_and_every_gradient_equal_torch(name):
    theirs, ours, inputs, reduce = build(name)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    np.testing.assert_allclose(step(ours, gradscope, inputs, reduce), step(theirs, torch, inputs, reduce),
                               rtol=1e-10, atol=1e-12)
    for (key, mine), (_, reference) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert mine.grad is not None, key
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=key)


OPTIMISERS = {
    "SGD": dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "Adam": dict(lr=1e-2, amsgrad=True),
    "AdamW": dict(lr=1e-2, weight_decay=0.1),
    "RMSprop": dict(lr=1e-2, momentum=0.5, centered=True),
    "Adagrad": dict(lr=0.1),
    "Adamax": dict(lr=1e-2),
    "NAdam": dict(lr=1e-2),
    "RAdam": dict(lr=1e-2),
}


@pytest.mark.parametrize("optimiser", OPTIMISERS)
# not the transformer: the gradient of its attention's key bias is 0 in exact arithmetic, so what it gets is
# rounding noise, which Adam and Adagrad scale up to full steps
@pytest.mark.parametrize("name", ["mlp", "vae"])
def test_three_optimiser_steps_give_torchs_parameters(name, optimiser):
    theirs, ours, inputs, reduce = build(name)
    for model, lib in ((theirs, torch), (ours, gradscope)):
        opt = getattr(lib.optim, optimiser)(model.parameters(), **OPTIMISERS[optimiser])
        for _ in range(3):
            opt.zero_grad()
            step(model, lib, inputs, reduce)
            opt.step()
    for (key, mine), (_, reference) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        # atol: gradients that are rounding noise (a bias the mean cancels) move parameters by ~1e-12
        np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), rtol=1e-9, atol=1e-10,
                                   err_msg=key)
