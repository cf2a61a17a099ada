"""Forward AD over every sample: each op's tangent J·t agrees with its reverse-mode gradient, ⟨u, J·t⟩ = ⟨Jᵀu, t⟩
(reverse mode is checked against finite differences and torch elsewhere), for random u and t. The ops whose
backward formula is not itself differentiable refuse forward AD with PyTorch's error."""

from __future__ import annotations

import numpy as np
import pytest
from finite_differences import Lib, cotangents, differentiable_outputs, evaluate, rng_for, vjp
from samples import SAMPLES

import gradscope
import gradscope.autograd.forward_ad as fwAD

GRADSCOPE = Lib(gradscope, gradscope.nn.functional)
# PyTorch has no forward formula for these either (it raises the same NotImplementedError)
UNSUPPORTED = ("embedding_bag", "ctc_loss")


def _tangents(sample, arrays, tangents) -> list[np.ndarray]:
    with fwAD.dual_level():
        duals = [fwAD.make_dual(gradscope.tensor(a), gradscope.tensor(t)) for a, t in zip(arrays, tangents)]
        outputs = differentiable_outputs(sample.fn(GRADSCOPE, *duals))
        return [np.zeros(tuple(o.shape)) if t is None else t.detach().numpy()
                for o, t in ((o, fwAD.unpack_dual(o).tangent) for o in outputs)]


@pytest.mark.parametrize("sample", SAMPLES, ids=str)
def test_forward_ad_agrees_with_reverse_mode(sample):
    arrays = sample.inputs()
    rng = rng_for(sample, "tangent")
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    if sample.name.startswith(UNSUPPORTED):
        with pytest.raises(NotImplementedError, match="^Trying to use forward AD with .* that does not support it "
                                                      "because it has not been implemented yet"):
            _tangents(sample, arrays, tangents)
        return
    u = cotangents(sample, evaluate(GRADSCOPE, sample, arrays))
    forward = sum(float(np.vdot(a, b)) for a, b in zip(u, _tangents(sample, arrays, tangents), strict=True))
    reverse = sum(float(np.vdot(a, b)) for a, b in zip(vjp(GRADSCOPE, sample, arrays, u), tangents, strict=True))
    assert forward == pytest.approx(reverse, rel=1e-6, abs=max(sample.atol, 1e-9))
