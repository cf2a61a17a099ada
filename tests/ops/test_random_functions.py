"""Sampling functions: seeded by manual_seed (or a Generator), the right distributions, PyTorch's errors.
That the values are PyTorch's: test_random_vs_torch.py, test_bernoulli_vs_torch.py, test_sampling_vs_torch.py;
samples_torch.py checks names and zero gradients on draws made certain."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope


@pytest.mark.parametrize("draw", [
    lambda: gradscope.bernoulli(gradscope.full((50,), 0.5)),
    lambda: gradscope.ones(50).bernoulli_(0.3),
    lambda: gradscope.multinomial(gradscope.tensor([[0.2, 0.8], [0.5, 0.5]]), 6, replacement=True),
    lambda: gradscope.multinomial(gradscope.tensor([0.1, 0.2, 0.3, 0.4]), 4),
    lambda: gradscope.normal(gradscope.zeros(50), gradscope.ones(50)),
    lambda: gradscope.normal(0.0, gradscope.ones(50)),
    lambda: gradscope.normal(2.0, 3.0, (50,)),
    lambda: gradscope.randperm(20),
], ids=["bernoulli", "bernoulli_", "multinomial_replacement", "multinomial", "normal_tensors", "normal_std",
        "normal_numbers", "randperm"])
def test_manual_seed_repeats_the_draws(draw):
    gradscope.manual_seed(7)
    first = draw()
    gradscope.manual_seed(7)
    assert np.array_equal(first.numpy(), draw().numpy())
    assert not np.array_equal(first.numpy(), draw().numpy()) or first.numel() < 5


def test_a_generator_repeats_the_draws():
    def draw():
        return gradscope.multinomial(gradscope.ones(5), 3, generator=gradscope.Generator().manual_seed(3))
    assert draw().tolist() == draw().tolist()


def test_distributions():
    gradscope.manual_seed(0)
    coins = gradscope.bernoulli(gradscope.full((20000,), 0.3))
    assert coins.dtype == gradscope.float32 and set(np.unique(coins.numpy())) == {0.0, 1.0}
    assert abs(coins.mean().item() - 0.3) < 0.02
    picks = gradscope.multinomial(gradscope.tensor([1.0, 0.0, 3.0]), 20000, replacement=True)
    assert picks.dtype == gradscope.int64
    counts = np.bincount(picks.numpy(), minlength=3) / 20000
    assert counts[1] == 0 and abs(counts[2] - 0.75) < 0.02
    rows = gradscope.multinomial(gradscope.tensor([[1.0, 1.0, 0.0, 1.0]] * 500), 3)
    assert all(sorted(row) == [0, 1, 3] for row in rows.tolist())  # without replacement: each index once
    draws = gradscope.normal(gradscope.full((20000,), 2.0), 3.0).numpy()
    assert abs(draws.mean() - 2.0) < 0.1 and abs(draws.std() - 3.0) < 0.1
    assert sorted(gradscope.randperm(10).tolist()) == list(range(10))


SNIPPETS = {
    "multinomial without replacement needs enough categories": (
        "torch.multinomial(torch.tensor([0.2, 0.8]), 3)",
        "RuntimeError: cannot sample n_sample > prob_dist.size(-1) samples without replacement"),
    "multinomial needs some weight": ("torch.multinomial(torch.tensor([0.0, 0.0]), 1)",
                                      "RuntimeError: invalid multinomial distribution (sum of probabilities <= 0)"),
    "multinomial refuses negative weights": (
        "torch.multinomial(torch.tensor([-1.0, 2.0]), 1)",
        "RuntimeError: probability tensor contains either `inf`, `nan` or element < 0"),
    "bernoulli needs probabilities": (
        "torch.bernoulli(torch.tensor([1.5]))",
        "RuntimeError: Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message be "
        "improved?  If so, please report an enhancement request to PyTorch.)"),
    "normal needs non-negative stds": ("torch.normal(torch.tensor([0.0]), torch.tensor([-1.0]))",
                                       "RuntimeError: normal expects all elements of std >= 0.0"),
    "bernoulli with a number p refuses backward": ("""
        x = torch.full((2,), 0.5, requires_grad=True)
        y = torch.bernoulli(x, 0.5)
        print(y.grad_fn.name())
        y.sum().backward()
    """, "RuntimeError: derivative for aten::bernoulli is not implemented"),
    "dtypes": ("""
        print(torch.multinomial(torch.tensor([[0.0, 1.0]]), 1), torch.randperm(3, dtype=torch.float64).dtype)
        print(torch.normal(0.0, 1.0, (2,)).dtype, torch.normal(0.0, 1.0, size=(2,), dtype=torch.float64).dtype)
        print(torch.bernoulli(torch.zeros(2, dtype=torch.float64)), torch.normal(torch.zeros(2), 0.0))
    """, None),
}


@pytest.mark.parametrize("name", SNIPPETS)
def test_snippet_matches_torch(oracle, name):
    source, error = SNIPPETS[name]
    oracle.check(source, error=error)
