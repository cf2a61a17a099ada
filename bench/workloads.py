"""The workloads of bench/run.py: each model written once against a torch-like `lib` (gradscope or PyTorch
run the same code), beside a hand-written NumPy floor doing the same arithmetic and, where it is
installed, HIPS autograd differentiating that NumPy code.

A workload's `build(dtype, size)` returns `{implementation: step}` (zero-argument callables) after
checking that every implementation computes the floor's gradients: a ratio compares equal work.
`size` is "full" (the issue's sizes) or "quick" (small, for a sanity run). Every implementation's fixed inputs
(weights, data, targets) start on a cache line (`heap.aligned`, which says why): the floor's arrays are made so,
and the libraries' tensors and parameters share such copies (`_input`, `_load`).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from engine import PATTERN, numpy_chain
from heap import aligned
from numpy.lib.stride_tricks import as_strided
from train_step import NumpyMLP

import gradscope


def optional(name: str):
    """The module `name`, or None when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


@dataclass(frozen=True)
class Workload:
    name: str
    describe: Callable[[str], str]  # size -> one line saying what runs
    build: Callable[[str, str], dict]  # (dtype, size) -> {implementation: step}
    unit: str  # "ms" per step, or "µs/op"
    per: Callable[[str], int]  # size -> what one step's time is divided by (ops for the chain)
    targets: tuple[tuple[str, float], ...]  # (implementation the ratio is against, the bound)


def _libraries() -> dict:
    libraries = {"gradscope": gradscope}
    torch = optional("torch")
    if torch is not None:
        torch.set_num_threads(1)
        libraries["pytorch"] = torch
    return libraries


def _check(expected: list, got: list, dtype: str, name: str) -> None:
    tolerance = 2e-3 if dtype == "float32" else 1e-8
    for want, have in zip(expected, got, strict=True):
        np.testing.assert_allclose(np.asarray(have, dtype=np.float64), want, rtol=tolerance, atol=tolerance,
                                   err_msg=f"{name} disagrees with the NumPy floor")


def _input(lib, array):
    """A tensor of `lib` holding `array`'s values in an aligned copy of its own."""
    return lib.from_numpy(aligned(array))


def _load(lib, model, arrays: list) -> None:
    """Give `model`'s parameters (in `parameters()` order) the values `arrays`, each in an aligned copy of its
    own (the parameter's dtype and shape; an optimizer's in-place steps change that copy alone)."""
    with lib.no_grad():
        for parameter, array in zip(model.parameters(), arrays, strict=True):
            if tuple(parameter.shape) != array.shape or not str(parameter.dtype).endswith(array.dtype.name):
                raise ValueError(f"a {parameter.dtype} parameter of shape {tuple(parameter.shape)} given "
                                 f"{array.dtype} {array.shape}")
            parameter.data = _input(lib, array)


def _grads(model) -> list:
    return [p.grad.detach().numpy() for p in model.parameters()]


# chain: per-op overhead ----------------------------------------------------------------------------
CHAIN_OPS = {"full": 1000, "quick": 100}


def _chain(lib, x0, n_ops: int):
    x = lib.tensor(x0, requires_grad=True)
    y = x
    for i in range(n_ops):
        kind = PATTERN[i % 4]
        y = y * 1.01 if kind == "mul" else y + 0.1 if kind == "add" else y.sin() if kind == "sin" else y.tanh()
    y.sum().backward()
    return x.grad.numpy()


def _hips_chain(hips, x0, n_ops: int):
    anp = hips.numpy

    def forward(x):
        y = x
        for i in range(n_ops):
            kind = PATTERN[i % 4]
            y = (y * 1.01 if kind == "mul" else y + 0.1 if kind == "add" else anp.sin(y) if kind == "sin"
                 else anp.tanh(y))
        return anp.sum(y)
    return hips.grad(forward)(x0)


def build_chain(dtype: str, size: str) -> dict:
    n_ops = CHAIN_OPS[size]
    x0 = aligned(np.random.default_rng(0).standard_normal(16).astype(dtype))
    steps = {"numpy": lambda: numpy_chain(x0, n_ops)}
    for name, lib in _libraries().items():
        steps[name] = functools.partial(_chain, lib, x0, n_ops)
    hips = optional("autograd")
    if hips is not None:
        steps["hips"] = lambda: _hips_chain(hips, x0, n_ops)
    expected = [numpy_chain(x0, n_ops)]
    for name, step in steps.items():
        _check(expected, [step()], dtype, name)
    return steps


# MLPs with cross-entropy: forward + backward, and a training step with Adam -------------------------
MLP_SIZES = {"small": {"full": ((784, 256, 256, 10), 64), "quick": ((64, 32, 32, 10), 16)},
             "large": {"full": ((1024, 1024, 1024, 10), 512), "quick": ((128, 128, 128, 10), 64)}}


def _mlp_data(sizes, batch, dtype):
    rng = np.random.default_rng(0)
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        weights.append((aligned(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(dtype)),
                        aligned(rng.uniform(-bound, bound, fan_out).astype(dtype))))
    x = aligned(rng.standard_normal((batch, sizes[0])).astype(dtype))
    labels = aligned(rng.integers(0, sizes[-1], batch))
    return weights, x, labels


def _mlp_model(lib, sizes, dtype, weights):
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [lib.nn.Linear(fan_in, fan_out, dtype=getattr(lib, dtype)), lib.nn.ReLU()]
    model = lib.nn.Sequential(*layers[:-1])
    _load(lib, model, [array for pair in weights for array in pair])
    return model


def _mlp_backward(lib, model, x, labels) -> None:
    model.zero_grad()
    lib.nn.functional.cross_entropy(model(x), labels).backward()


def _hips_mlp_gradients(hips, weights):
    anp = hips.numpy

    def loss(params, x, labels):
        h = x
        for index in range(0, len(params), 2):
            h = anp.dot(h, params[index].T) + params[index + 1]
            if index + 2 < len(params):
                h = anp.maximum(h, 0)
        shifted = h - anp.max(h, axis=1, keepdims=True)
        log_probs = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        return -anp.mean(log_probs[np.arange(len(labels)), labels])
    return hips.grad(loss)


def _build_mlp(which: str, dtype: str, size: str) -> dict:
    sizes, batch = MLP_SIZES[which][size]
    weights, x_np, labels_np = _mlp_data(sizes, batch, dtype)
    floor = NumpyMLP(weights)
    steps = {"numpy": lambda: floor.gradients(x_np, labels_np)}
    expected = floor.gradients(x_np, labels_np)
    for name, lib in _libraries().items():
        model, x, labels = _mlp_model(lib, sizes, dtype, weights), _input(lib, x_np), _input(lib, labels_np)
        steps[name] = functools.partial(_mlp_backward, lib, model, x, labels)
        steps[name]()
        _check(expected, _grads(model), dtype, name)
    hips = optional("autograd")
    if hips is not None:
        gradient = _hips_mlp_gradients(hips, weights)
        params = [array for pair in weights for array in pair]
        steps["hips"] = lambda: gradient(params, x_np, labels_np)
        _check(expected, steps["hips"](), dtype, "hips")
    return steps


def build_mlp_small(dtype: str, size: str) -> dict:
    return _build_mlp("small", dtype, size)


def build_mlp_large(dtype: str, size: str) -> dict:
    return _build_mlp("large", dtype, size)


def _train_step(lib, model, optimizer, x, labels) -> None:
    optimizer.zero_grad()
    lib.nn.functional.cross_entropy(model(x), labels).backward()
    optimizer.step()


def build_train_step(dtype: str, size: str) -> dict:
    sizes, batch = MLP_SIZES["small"][size]
    weights, x_np, labels_np = _mlp_data(sizes, batch, dtype)
    steps = {}
    finals = {}
    for name, lib in _libraries().items():
        model = _mlp_model(lib, sizes, dtype, weights)
        optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
        x, labels = _input(lib, x_np), _input(lib, labels_np)
        steps[name] = functools.partial(_train_step, lib, model, optimizer, x, labels)
        for _ in range(3):
            steps[name]()
        finals[name] = [p.detach().numpy() for p in model.parameters()]
    floor = NumpyMLP(weights)
    for _ in range(3):
        floor.step(x_np, labels_np)
    for name, params in finals.items():
        _check(floor.params, params, dtype, name)
    floor = NumpyMLP(weights)
    steps = {"numpy": lambda: floor.step(x_np, labels_np), **steps}
    return steps


# tanh RNN ------------------------------------------------------------------------------------------
RNN_SIZES = {"full": (50, 32, 64, 128), "quick": (5, 4, 8, 16)}  # steps, batch, input, hidden


def _rnn_data(dtype, size):
    steps, batch, n_in, hidden = RNN_SIZES[size]
    rng = np.random.default_rng(0)
    bound = 1 / np.sqrt(hidden)
    weights = [aligned(rng.uniform(-bound, bound, shape).astype(dtype))
               for shape in ((hidden, n_in), (hidden, hidden), (hidden,), (hidden,))]
    xs = aligned(rng.standard_normal((steps, batch, n_in)).astype(dtype))
    target = aligned(rng.standard_normal((batch, hidden)).astype(dtype))
    return weights, xs, target


def _numpy_rnn(weights, xs, target):
    """h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh) from h_0 = 0, MSE of the last h; by hand."""
    w_ih, w_hh, b_ih, b_hh = weights
    hs = [np.zeros((xs.shape[1], w_hh.shape[0]), xs.dtype)]
    for x in xs:
        hs.append(np.tanh(x @ w_ih.T + b_ih + hs[-1] @ w_hh.T + b_hh))
    g = (hs[-1] - target) * (2 / target.size)
    grad_ih, grad_hh, grad_b = np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros_like(b_ih)
    for t in reversed(range(len(xs))):
        g = g * (1 - hs[t + 1] * hs[t + 1])
        grad_ih += g.T @ xs[t]
        grad_hh += g.T @ hs[t]
        grad_b += g.sum(0)
        g = g @ w_hh
    return [grad_ih, grad_hh, grad_b, grad_b]


def _rnn_backward(lib, cell, xs, target) -> None:
    cell.zero_grad()
    h = None
    for x in xs:
        h = cell(x, h)
    lib.nn.functional.mse_loss(h, target).backward()


def build_rnn(dtype: str, size: str) -> dict:
    weights, xs_np, target_np = _rnn_data(dtype, size)
    steps = {"numpy": lambda: _numpy_rnn(weights, xs_np, target_np)}
    expected = _numpy_rnn(weights, xs_np, target_np)
    for name, lib in _libraries().items():
        cell = lib.nn.RNNCell(xs_np.shape[2], weights[1].shape[0], dtype=getattr(lib, dtype))
        _load(lib, cell, weights)
        xs, target = [_input(lib, x) for x in xs_np], _input(lib, target_np)
        steps[name] = functools.partial(_rnn_backward, lib, cell, xs, target)
        steps[name]()
        _check(expected, _grads(cell), dtype, name)
    return steps


# 200 narrow layers ---------------------------------------------------------------------------------
NARROW_SIZES = {"full": (200, 32, 16), "quick": (10, 8, 4)}  # layers, width, batch


def _narrow_data(dtype, size):
    layers, width, batch = NARROW_SIZES[size]
    rng = np.random.default_rng(0)
    bound = 1 / np.sqrt(width)
    weights = [(aligned(rng.uniform(-bound, bound, (width, width)).astype(dtype)),
                aligned(rng.uniform(-bound, bound, width).astype(dtype))) for _ in range(layers)]
    return (weights, aligned(rng.standard_normal((batch, width)).astype(dtype)),
            aligned(rng.standard_normal((batch, width)).astype(dtype)))


def _numpy_narrow(weights, x, target):
    """tanh(h Wᵀ + b) per layer, MSE at the end; forward and backward by hand."""
    hs = [x]
    for w, b in weights:
        hs.append(np.tanh(hs[-1] @ w.T + b))
    g = (hs[-1] - target) * (2 / target.size)
    grads = []
    for index in reversed(range(len(weights))):
        g = g * (1 - hs[index + 1] * hs[index + 1])
        grads[:0] = [g.T @ hs[index], g.sum(0)]
        g = g @ weights[index][0]
    return grads


def _narrow_model(lib, weights, dtype):
    layers = []
    for w, _ in weights:
        layers += [lib.nn.Linear(w.shape[1], w.shape[0], dtype=getattr(lib, dtype)), lib.nn.Tanh()]
    model = lib.nn.Sequential(*layers)
    _load(lib, model, [array for pair in weights for array in pair])
    return model


def _mse_backward(lib, model, x, target) -> None:
    model.zero_grad()
    lib.nn.functional.mse_loss(model(x), target).backward()


def build_narrow(dtype: str, size: str) -> dict:
    weights, x_np, target_np = _narrow_data(dtype, size)
    steps = {"numpy": lambda: _numpy_narrow(weights, x_np, target_np)}
    expected = _numpy_narrow(weights, x_np, target_np)
    for name, lib in _libraries().items():
        model, x, target = _narrow_model(lib, weights, dtype), _input(lib, x_np), _input(lib, target_np)
        steps[name] = functools.partial(_mse_backward, lib, model, x, target)
        steps[name]()
        _check(expected, _grads(model), dtype, name)
    return steps


# a small CNN: conv, ReLU, conv, ReLU, max-pool, linear, cross-entropy ------------------------------
CNN_SIZES = {"full": (32, 28, 8, 16), "quick": (4, 8, 2, 4)}  # batch, image side, channels 1, channels 2


def _cnn_data(dtype, size):
    batch, side, c1, c2 = CNN_SIZES[size]
    rng = np.random.default_rng(0)

    def uniform(shape, fan_in):
        bound = 1 / np.sqrt(fan_in)
        return aligned(rng.uniform(-bound, bound, shape).astype(dtype))
    features = c2 * (side // 2) ** 2
    weights = [uniform((c1, 1, 3, 3), 9), uniform(c1, 9), uniform((c2, c1, 3, 3), 9 * c1), uniform(c2, 9 * c1),
               uniform((10, features), features), uniform(10, features)]
    x = aligned(rng.standard_normal((batch, 1, side, side)).astype(dtype))
    return weights, x, aligned(rng.integers(0, 10, batch))


def _im2col(x):
    """(n, c, h, w) -> columns (n, c·9, h·w) of the 3×3 windows of x padded by 1: one strided copy."""
    n, c, h, w = x.shape
    padded = np.zeros((n, c, h + 2, w + 2), x.dtype)
    padded[:, :, 1:-1, 1:-1] = x
    s = padded.strides
    windows = as_strided(padded, (n, c, 3, 3, h, w), (s[0], s[1], s[2], s[3], s[2], s[3]), writeable=False)
    return windows.reshape(n, c * 9, h * w)


def _col2im(cols, shape):
    """The adjoint of _im2col: one slice-add per kernel position."""
    n, c, h, w = shape
    cols = cols.reshape(n, c, 3, 3, h, w)
    padded = np.zeros((n, c, h + 2, w + 2), cols.dtype)
    for i in range(3):
        for j in range(3):
            padded[:, :, i:i + h, j:j + w] += cols[:, :, i, j]
    return padded[:, :, 1:-1, 1:-1]


def _numpy_cnn(weights, x, labels):
    w1, b1, w2, b2, w3, b3 = weights
    n, _, side, _ = x.shape
    cols1 = _im2col(x)
    a1 = np.maximum((w1.reshape(len(w1), -1) @ cols1).reshape(n, -1, side, side) + b1[:, None, None], 0)
    cols2 = _im2col(a1)
    a2 = np.maximum((w2.reshape(len(w2), -1) @ cols2).reshape(n, -1, side, side) + b2[:, None, None], 0)
    half = side // 2
    blocks = a2.reshape(n, a2.shape[1], half, 2, half, 2)
    pooled = blocks.max((3, 5))
    flat = pooled.reshape(n, -1)
    logits = flat @ w3.T + b3
    shifted = logits - logits.max(1, keepdims=True)
    exp = np.exp(shifted)
    g = exp / exp.sum(1, keepdims=True)
    g[np.arange(n), labels] -= 1
    g /= n
    grad_w3, grad_b3 = g.T @ flat, g.sum(0)
    g = (g @ w3).reshape(pooled.shape)
    winners = blocks == pooled[:, :, :, None, :, None]  # ties have measure zero with random data
    g = (winners * g[:, :, :, None, :, None]).reshape(a2.shape) * (a2 > 0)
    g_flat = g.reshape(n, len(w2), -1)
    grad_w2 = np.matmul(g_flat, cols2.transpose(0, 2, 1)).sum(0).reshape(w2.shape)
    grad_b2 = g.sum((0, 2, 3))
    g = _col2im(w2.reshape(len(w2), -1).T @ g_flat, a1.shape) * (a1 > 0)
    g_flat = g.reshape(n, len(w1), -1)
    grad_w1 = np.matmul(g_flat, cols1.transpose(0, 2, 1)).sum(0).reshape(w1.shape)
    grad_b1 = g.sum((0, 2, 3))
    return [grad_w1, grad_b1, grad_w2, grad_b2, grad_w3, grad_b3]


def _cnn_model(lib, weights, dtype):
    nn = lib.nn
    c1, c2 = weights[0].shape[0], weights[2].shape[0]
    model = nn.Sequential(nn.Conv2d(1, c1, 3, padding=1, dtype=getattr(lib, dtype)), nn.ReLU(),
                          nn.Conv2d(c1, c2, 3, padding=1, dtype=getattr(lib, dtype)), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(weights[4].shape[1], 10, dtype=getattr(lib, dtype)))
    _load(lib, model, weights)
    return model


def build_cnn(dtype: str, size: str) -> dict:
    weights, x_np, labels_np = _cnn_data(dtype, size)
    steps = {"numpy": lambda: _numpy_cnn(weights, x_np, labels_np)}
    expected = _numpy_cnn(weights, x_np, labels_np)
    for name, lib in _libraries().items():
        model, x, labels = _cnn_model(lib, weights, dtype), _input(lib, x_np), _input(lib, labels_np)
        steps[name] = functools.partial(_mlp_backward, lib, model, x, labels)
        steps[name]()
        _check(expected, _grads(model), dtype, name)
    return steps


def _per_step(size: str) -> int:
    return 1


def _mlp_describe(which):
    def describe(size):
        sizes, batch = MLP_SIZES[which][size]
        return f"MLP {batch}×{'→'.join(map(str, sizes))}, ReLU, cross-entropy, fwd+bwd"
    return describe


WORKLOADS = (
    Workload("chain", lambda size: f"chain of {CHAIN_OPS[size]} elementwise ops on 16 elements, fwd+bwd, per op",
             build_chain, "µs/op", lambda size: CHAIN_OPS[size], (("pytorch", 0.7),)),
    Workload("mlp_small", _mlp_describe("small"), build_mlp_small, "ms", _per_step, (("numpy", 1.15),)),
    Workload("mlp_large", _mlp_describe("large"), build_mlp_large, "ms", _per_step, (("numpy", 1.03),)),
    Workload("rnn", lambda size: "tanh RNNCell, {} steps, batch {}, {}→{}, MSE of the last state, fwd+bwd".format(
        *RNN_SIZES[size]), build_rnn, "ms", _per_step, (("numpy", 1.3),)),
    Workload("narrow", lambda size: "{} × (Linear {w}→{w} + tanh), batch {}, MSE, fwd+bwd".format(
        NARROW_SIZES[size][0], NARROW_SIZES[size][2], w=NARROW_SIZES[size][1]), build_narrow, "ms", _per_step,
        (("numpy", 2.0),)),
    Workload("cnn", lambda size: "CNN batch {}, 1×{s}×{s}: conv3×3→{}, ReLU, conv3×3→{}, ReLU, max-pool 2, linear→10, "
             "cross-entropy, fwd+bwd".format(CNN_SIZES[size][0], CNN_SIZES[size][2], CNN_SIZES[size][3],
                                             s=CNN_SIZES[size][1]), build_cnn, "ms", _per_step,
             (("numpy", 1.3), ("pytorch", 1.0))),
    Workload("train_step", lambda size: _mlp_describe("small")(size).replace("fwd+bwd", "fwd+bwd+Adam step"),
             build_train_step, "ms", _per_step, (("numpy", 1.3),)),
)
