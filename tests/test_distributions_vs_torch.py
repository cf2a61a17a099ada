"""torch.distributions on gradscope against PyTorch: shapes, reprs, values and gradients of log_prob,
entropy, moments and KL, reparameterised samples drawn from PyTorch's random stream, and the
validation messages a script sees for bad parameters or values."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)
LOC = RNG.standard_normal((2, 3))
SCALE = RNG.uniform(0.5, 2.0, (2, 3))
LOGITS = RNG.standard_normal((2, 4))
PROBS = RNG.dirichlet(np.ones(4), 2)
P = RNG.uniform(0.05, 0.95, (3,))


def shown(value):
    """A comparable form: tensors as (dtype, rounded values, -0 as 0), everything else as its repr."""
    if isinstance(value, (gradscope.Tensor, torch.Tensor)):
        rounded = np.round(value.detach().numpy().astype(np.float64), 4) + 0.0
        return str(value.dtype).split(".")[-1], str(rounded.tolist())
    if isinstance(value, (tuple, list)):
        return tuple(shown(v) for v in value)
    return repr(value).replace("gradscope", "torch")


def outcome(call):
    try:
        return shown(call())
    except Exception as error:  # noqa: BLE001 - the exception is what is compared
        return type(error).__name__, str(error).replace("gradscope", "torch")


def parameters(lib):
    return {
        "loc": lib.tensor(LOC, requires_grad=True), "scale": lib.tensor(SCALE, requires_grad=True),
        "logits": lib.tensor(LOGITS, requires_grad=True), "probs": lib.tensor(PROBS, requires_grad=True),
        "p": lib.tensor(P, requires_grad=True),
    }


MAKERS = {
    "normal": lambda D, a: D.Normal(a["loc"], a["scale"]),
    "normal-numbers": lambda D, a: D.Normal(0.5, 2.0),
    "normal-mixed": lambda D, a: D.Normal(a["loc"], 1.5),
    "uniform": lambda D, a: D.Uniform(a["loc"], a["loc"] + a["scale"]),
    "uniform-numbers": lambda D, a: D.Uniform(-1.0, 3.0),
    "bernoulli-probs": lambda D, a: D.Bernoulli(probs=a["p"]),
    "bernoulli-logits": lambda D, a: D.Bernoulli(logits=a["loc"]),
    "categorical-logits": lambda D, a: D.Categorical(logits=a["logits"]),
    "categorical-probs": lambda D, a: D.Categorical(probs=a["probs"]),
    "onehot": lambda D, a: D.OneHotCategorical(logits=a["logits"]),
    "independent": lambda D, a: D.Independent(D.Normal(a["loc"], a["scale"]), 1),
}
VALUES = {
    "normal": lambda lib: lib.tensor(np.linspace(-2, 2, 6).reshape(2, 3)),
    "normal-numbers": lambda lib: lib.tensor([0.0, 1.0, 7.0]),
    "normal-mixed": lambda lib: lib.tensor([0.1, -0.3, 2.0]),
    "uniform": lambda lib: lib.tensor(LOC + SCALE / 3),
    "uniform-numbers": lambda lib: lib.tensor([0.0, 2.5]),
    # NOTE: of the parameters' dtype: PyTorch's binary_cross_entropy_with_logits (Bernoulli.log_prob) gives the
    # target's dtype where gradscope's promotes
    "bernoulli-probs": lambda lib: lib.tensor([1.0, 0.0, 1.0], dtype=lib.float64),
    "bernoulli-logits": lambda lib: lib.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]], dtype=lib.float64),
    "categorical-logits": lambda lib: lib.tensor([3, 0]),
    "categorical-probs": lambda lib: lib.tensor([[1, 2], [0, 3]]),
    "onehot": lambda lib: lib.tensor([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]),
    "independent": lambda lib: lib.tensor(np.linspace(-1, 1, 6).reshape(2, 3)),
}
READS = {
    "repr": lambda d, v: repr(d),
    "shapes": lambda d, v: (d.batch_shape, d.event_shape),
    "support": lambda d, v: repr(d.support),
    "mean": lambda d, v: d.mean,
    "variance": lambda d, v: d.variance,
    "stddev": lambda d, v: d.stddev,
    "mode": lambda d, v: d.mode,
    "log_prob": lambda d, v: d.log_prob(v),
    "entropy": lambda d, v: d.entropy(),
    "perplexity": lambda d, v: d.perplexity(),
    "cdf": lambda d, v: d.cdf(v),
    "icdf": lambda d, v: d.icdf(v.sigmoid()),
    "enumerate": lambda d, v: (d.enumerate_support(), d.enumerate_support(expand=False)),
    "expand": lambda d, v: (lambda e: (repr(e), e.batch_shape, e.log_prob(v.expand((3, *v.shape))).shape))(
        d.expand((3, *d.batch_shape))),
    "has": lambda d, v: (d.has_rsample, d.has_enumerate_support),
    "node": lambda d, v: d.log_prob(v).grad_fn.name() if d.log_prob(v).grad_fn is not None else None,
}


@pytest.mark.parametrize("read", READS)
@pytest.mark.parametrize("kind", MAKERS)
def test_distribution_reads_as_torch(kind, read):
    results = []
    for lib in (gradscope, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results.append(outcome(lambda lib=lib: READS[read](MAKERS[kind](lib.distributions, parameters(lib)),
                                                            VALUES[kind](lib))))
    assert results[0] == results[1]


@pytest.mark.parametrize("kind", MAKERS)
def test_log_prob_and_entropy_gradients_as_torch(kind):
    grads = []
    for lib in (gradscope, torch):
        a = parameters(lib)
        d = MAKERS[kind](lib.distributions, a)
        total = d.log_prob(VALUES[kind](lib)).sum() + d.entropy().sum()
        if total.requires_grad:
            total.backward()
        grads.append({name: shown(t.grad) for name, t in a.items() if t.grad is not None})
    assert grads[0] == grads[1]


@pytest.mark.parametrize("kind", ["normal", "normal-numbers", "normal-mixed", "uniform", "uniform-numbers",
                                  "independent", "bernoulli-probs", "bernoulli-logits", "categorical-logits",
                                  "categorical-probs", "onehot"])
@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 1)])
def test_samples_are_torchs_for_the_same_seed(kind, sample_shape):
    """Every distribution here draws PyTorch's values for the same seed and leaves the generator where PyTorch's
    leaves it (rsample where there is one, sample otherwise)."""
    drawn = []
    for lib in (gradscope, torch):
        a = parameters(lib)
        d = MAKERS[kind](lib.distributions, a)
        lib.manual_seed(3)
        sample = d.sample(sample_shape)
        rsample = d.rsample(sample_shape) if d.has_rsample else sample
        grad_fn = rsample.grad_fn.name() if rsample.grad_fn is not None else None
        drawn.append((shown(sample), shown(rsample), sample.requires_grad, grad_fn, shown(lib.randn(2))))
    assert drawn[0] == drawn[1]


@pytest.mark.parametrize("kind", ["bernoulli-probs", "categorical-logits", "categorical-probs", "onehot"])
def test_discrete_samples_have_torchs_shape_dtype_and_support(kind):
    seen = []
    for lib in (gradscope, torch):
        d = MAKERS[kind](lib.distributions, parameters(lib))
        sample = d.sample((50,))
        assert bool(d.support.check(sample).all())
        seen.append((tuple(sample.shape), str(sample.dtype).split(".")[-1], sample.requires_grad))
    assert seen[0] == seen[1]


KL_PAIRS = {
    "normal": lambda D, a: (D.Normal(a["loc"], a["scale"]), D.Normal(a["loc"] * 0.5, 1.3)),
    "bernoulli": lambda D, a: (D.Bernoulli(probs=a["p"]), D.Bernoulli(logits=a["p"] * 2 - 1)),
    "bernoulli-edges": lambda D, a: (D.Bernoulli(probs=a["p"].new_tensor([0.0, 1.0, 0.3])),
                                     D.Bernoulli(probs=a["p"].new_tensor([0.5, 1.0, 0.0]))),
    "categorical": lambda D, a: (D.Categorical(logits=a["logits"]), D.Categorical(probs=a["probs"])),
    "categorical-zeros": lambda D, a: (D.Categorical(probs=a["probs"].new_tensor([0.0, 0.5, 0.5])),
                                       D.Categorical(probs=a["probs"].new_tensor([0.5, 0.0, 0.5]))),
    "onehot": lambda D, a: (D.OneHotCategorical(logits=a["logits"]), D.OneHotCategorical(probs=a["probs"])),
    "uniform": lambda D, a: (D.Uniform(a["loc"], a["loc"] + 1), D.Uniform(a["loc"] - a["scale"], a["loc"] + 2)),
    "uniform-outside": lambda D, a: (D.Uniform(0.0, 2.0), D.Uniform(1.0, 3.0)),
    "independent": lambda D, a: (D.Independent(D.Normal(a["loc"], a["scale"]), 1),
                                 D.Independent(D.Normal(a["loc"] + 1, a["scale"]), 1)),
    "unregistered": lambda D, a: (D.Categorical(logits=a["logits"]), D.Normal(a["loc"], a["scale"])),
    "independent-ndims": lambda D, a: (D.Independent(D.Normal(a["loc"], a["scale"]), 1),
                                       D.Independent(D.Normal(a["loc"], a["scale"]), 2)),
}


@pytest.mark.parametrize("pair", KL_PAIRS)
def test_kl_divergence_values_and_gradients_as_torch(pair):
    results = []
    for lib in (gradscope, torch):
        a = parameters(lib)

        def kl(lib=lib, a=a):
            value = lib.distributions.kl_divergence(*KL_PAIRS[pair](lib.distributions, a))
            if value.requires_grad:
                value[value.isfinite()].sum().backward()
            return value, {name: t.grad for name, t in a.items() if t.grad is not None}

        results.append(outcome(kl))
    assert results[0] == results[1]


def test_register_kl_dispatches_to_the_most_specific_pair():
    D = gradscope.distributions

    class Wide(D.Normal):
        pass

    @D.register_kl(Wide, D.Normal)
    def _kl_wide_normal(p, q):
        return p.loc.new_full(p.batch_shape, 42.0)

    try:
        assert D.kl_divergence(Wide(0.0, 1.0), D.Normal(0.0, 1.0)).item() == 42.0
        assert D.kl_divergence(D.Normal(0.0, 1.0), Wide(0.0, 1.0)).item() == 0.0
    finally:
        del D.kl._KL_REGISTRY[Wide, D.Normal]
    with pytest.raises(TypeError, match="Expected type_p to be a Distribution subclass"):
        D.register_kl(int, D.Normal)


@pytest.mark.parametrize("call", [
    lambda D, lib: D.Normal(lib.zeros(2), -lib.ones(2)),
    lambda D, lib: D.Normal(lib.zeros(2), lib.tensor([1.0, float("nan")])),
    lambda D, lib: D.Normal(lib.zeros(2), lib.ones(2)).log_prob(lib.ones(4)),
    lambda D, lib: D.Normal(lib.zeros(2, 3), lib.ones(2, 3)).log_prob(lib.ones(3, 3)),
    lambda D, lib: D.Normal(0.0, 1.0).log_prob(1.0),
    lambda D, lib: D.Normal(0.0, 1.0, validate_args=False).log_prob(lib.tensor(float("nan"))),
    lambda D, lib: D.Categorical(),
    lambda D, lib: D.Categorical(probs=lib.tensor(0.5)),
    lambda D, lib: D.Categorical(logits=lib.tensor(0.5)),
    lambda D, lib: D.Categorical(probs=lib.tensor([0.5, -0.1])),
    lambda D, lib: D.Categorical(logits=lib.zeros(3)).log_prob(lib.tensor([3])),
    lambda D, lib: D.Categorical(logits=lib.zeros(3)).log_prob(lib.tensor([1.5])),
    lambda D, lib: D.Bernoulli(probs=1.5),
    lambda D, lib: D.Bernoulli(probs=0.5, logits=0.0),
    lambda D, lib: D.Bernoulli(probs=lib.tensor([0.5])).log_prob(lib.tensor([0.5])),
    lambda D, lib: D.Uniform(1.0, 0.0),
    lambda D, lib: D.Uniform(0.0, 1.0).log_prob(lib.tensor(1.5)),
    lambda D, lib: D.Uniform(0.0, 1.0, validate_args=False).log_prob(lib.tensor([1.5, 0.5])),
    lambda D, lib: D.Independent(D.Normal(lib.zeros(3), lib.ones(3)), 2),
    lambda D, lib: D.Independent(D.Normal(lib.zeros(2, 3), lib.ones(2, 3)), 2).enumerate_support(),
    lambda D, lib: D.Normal("a", 1.0),
    lambda D, lib: D.OneHotCategorical(logits=lib.zeros(3)).log_prob(lib.tensor([1.0, 1.0, 0.0])),
    lambda D, lib: D.Distribution.set_default_validate_args("yes"),
], ids=lambda call: "")
def test_validation_messages_as_torch(call):
    results = [outcome(lambda lib=lib: call(lib.distributions, lib)) for lib in (gradscope, torch)]
    assert results[0] == results[1]


def test_validation_can_be_switched_off_by_default():
    D = gradscope.distributions
    D.Distribution.set_default_validate_args(False)
    try:
        assert D.Normal(0.0, -1.0).scale.item() == -1.0
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError, match="GreaterThan"):
        D.Normal(0.0, -1.0)


def test_reinforce_step_as_torch():
    """The REINFORCE tutorial's update: a policy's log-probabilities of the actions taken, weighted by
    returns; the policy's gradients equal PyTorch's."""
    grads = []
    for lib in (gradscope, torch):
        lib.manual_seed(0)
        policy = lib.nn.Sequential(lib.nn.Linear(4, 16), lib.nn.ReLU(), lib.nn.Dropout(0.0), lib.nn.Linear(16, 2))
        states = lib.tensor(np.linspace(-1, 1, 20).reshape(5, 4), dtype=lib.float32)
        actions, returns = lib.tensor([0, 1, 1, 0, 1]), lib.tensor([1.0, 0.5, -0.2, 2.0, 0.1])
        dist = lib.distributions.Categorical(logits=policy(states))
        loss = -(dist.log_prob(actions) * returns).sum() - 0.01 * dist.entropy().mean()
        loss.backward()
        grads.append([shown(p.grad) for p in policy.parameters()] + [shown(loss)])
    assert grads[0] == grads[1]
