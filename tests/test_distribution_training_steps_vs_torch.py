"""Training steps that scripts build on torch.distributions, on gradscope against PyTorch after the same seed:
the losses and every parameter's gradient (SAC's tanh-squashed Gaussian policy, a mixture density network, a
PPO actor with Beta actions, a VAE with a full-covariance Gaussian posterior, Gumbel-softmax)."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def sac_policy_step(lib):
    D = lib.distributions
    net = lib.nn.Sequential(lib.nn.Linear(3, 16), lib.nn.ReLU(), lib.nn.Linear(16, 4))
    states = lib.randn(8, 3)
    mean, log_std = net(states).chunk(2, dim=-1)
    policy = D.TransformedDistribution(D.Normal(mean, log_std.clamp(-5, 2).exp()), [D.TanhTransform(cache_size=1)])
    actions = policy.rsample()
    log_prob = policy.log_prob(actions).sum(-1)
    loss = (0.2 * log_prob - actions.pow(2).sum(-1)).mean()
    return net, loss


def mdn_step(lib):
    D = lib.distributions
    net = lib.nn.Linear(2, 3 * 5)
    x, y = lib.randn(16, 2), lib.randn(16)
    logits, means, log_stds = net(x).chunk(3, dim=-1)
    mixture = D.MixtureSameFamily(D.Categorical(logits=logits), D.Normal(means, log_stds.exp()))
    return net, -mixture.log_prob(y).mean()


def ppo_beta_step(lib):
    D = lib.distributions
    net = lib.nn.Linear(4, 4)
    states = lib.randn(10, 4)
    alpha, beta = (lib.nn.functional.softplus(net(states)) + 1).chunk(2, dim=-1)
    dist = D.Beta(alpha, beta)
    actions = dist.sample()
    old_log_prob = dist.log_prob(actions).detach() - 0.1
    ratio = (dist.log_prob(actions) - old_log_prob).exp()
    advantages = lib.randn(10, 2)
    loss = -lib.min(ratio * advantages, ratio.clamp(0.8, 1.2) * advantages).mean() - 0.01 * dist.entropy().mean()
    return net, loss


def vae_full_covariance_step(lib):
    D = lib.distributions
    encoder = lib.nn.Linear(5, 3 + 9)
    x = lib.randn(4, 5)
    out = encoder(x)
    loc, raw = out[:, :3], out[:, 3:].reshape(4, 3, 3)
    scale_tril = D.transform_to(D.constraints.lower_cholesky)(raw)
    posterior = D.MultivariateNormal(loc, scale_tril=scale_tril)
    prior = D.MultivariateNormal(lib.zeros(3), lib.eye(3))
    z = posterior.rsample()
    loss = D.kl_divergence(posterior, prior).mean() + z.pow(2).sum(-1).mean()
    return encoder, loss


def gumbel_softmax_step(lib):
    D = lib.distributions
    net = lib.nn.Linear(3, 4)
    relaxed = D.RelaxedOneHotCategorical(lib.tensor(0.5), logits=net(lib.randn(6, 3)))
    sample = relaxed.rsample()
    return net, (sample * lib.arange(4.0)).sum(-1).mean() - relaxed.log_prob(sample.detach()).mean()


def dirichlet_gamma_step(lib):
    D = lib.distributions
    concentration = lib.nn.Parameter(lib.tensor([0.5, 1.5, 4.0]))
    rate = lib.nn.Parameter(lib.tensor([2.0, 0.7, 1.0]))
    weights = D.Dirichlet(concentration).rsample((5,))
    scales = D.Gamma(concentration, rate).rsample((5,))
    holder = lib.nn.Module()
    holder.concentration, holder.rate = concentration, rate
    return holder, (weights * scales).sum() + D.kl_divergence(D.Gamma(concentration, rate), D.Gamma(1.0, 1.0)).sum()


STEPS = [sac_policy_step, mdn_step, ppo_beta_step, vae_full_covariance_step, gumbel_softmax_step, dirichlet_gamma_step]


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.__name__)
def test_training_step_as_torch(step):
    seen = []
    for lib in (gradscope, torch):
        lib.manual_seed(0)
        model, loss = step(lib)
        loss.backward()
        seen.append([loss.item()] + [p.grad.numpy().astype(np.float64) for p in model.parameters()])
    (ours_loss, *ours), (theirs_loss, *theirs) = seen
    assert ours_loss == pytest.approx(theirs_loss, rel=1e-5, abs=1e-6)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-6)
