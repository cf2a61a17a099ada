"""torch.svd_lowrank and torch.pca_lowrank, which gradscope lacked: after the same seed both draw the same sketch, so
the singular values, the low-rank reconstruction U diag(S) Vᴴ (the vectors' signs may differ between LAPACKs), the
gradients and the output nodes equal PyTorch's; pca_lowrank's argument errors too."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

CASES = {
    "tall": ((20, 8), "svd_lowrank", {"q": 3}), "wide, no iterations": ((8, 20), "svd_lowrank", {"q": 4, "niter": 0}),
    "a batch": ((2, 12, 6), "svd_lowrank", {"q": 2}), "with M": ((12, 5), "svd_lowrank", {"q": 3, "M": True}),
    "pca": ((15, 6), "pca_lowrank", {"q": 3}), "pca, not centred": ((15, 6), "pca_lowrank", {"center": False}),
}


@pytest.mark.parametrize("case", CASES)
def test_lowrank_matches_torch(case):
    shape, name, arguments = CASES[case]
    rng = np.random.default_rng(2)
    a, m = rng.standard_normal(shape), rng.standard_normal(shape[-1:])

    def run(L):
        L.manual_seed(0)
        x = L.tensor(a, requires_grad=True)
        given = dict(arguments, M=L.tensor(m)) if "M" in arguments else arguments
        U, S, V = getattr(L, name)(x, **given)
        (S * L.arange(1.0, S.shape[-1] + 1, dtype=S.dtype)).sum().backward()
        product = (U * S.unsqueeze(-2)) @ V.mH
        return ((tuple(U.shape), tuple(S.shape), tuple(V.shape), U.grad_fn.name(), S.grad_fn.name()),
                S.detach().numpy(), product.detach().numpy(), x.grad.numpy())

    ours, theirs = run(gradscope), run(torch)
    assert ours[0] == theirs[0]
    for got, expected in zip(ours[1:], theirs[1:], strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-8)


@pytest.mark.parametrize("arguments", [{"q": 7}, {"q": -1}, {"niter": -1}], ids=str)
def test_pca_lowrank_argument_errors_match_torch(arguments):
    def error(L):
        with pytest.raises(ValueError) as caught:
            L.pca_lowrank(L.ones(4, 5), **arguments)
        return str(caught.value)

    assert error(gradscope) == error(torch)
