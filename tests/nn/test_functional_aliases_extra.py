"""triplet_margin_with_distance_loss (and its module), the deprecated F.upsample* and nn.NLLLoss2d, and
F.GRID_SAMPLE_* against torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope as gs

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("options", [{}, dict(margin=0.5, swap=True, reduction="sum"), dict(reduction="none"),
                                     dict(distance="cosine", swap=True)])
def test_triplet_margin_with_distance_loss_matches_torch(options):
    rng = np.random.default_rng(0)
    values = [rng.standard_normal((4, 3)) for _ in range(3)]
    options = dict(options)
    cosine = options.pop("distance", None) == "cosine"

    def run(lib):
        tensors = [lib.tensor(v, requires_grad=True) for v in values]
        distance = (lambda x, y: 1 - lib.nn.functional.cosine_similarity(x, y)) if cosine else None
        functional = lib.nn.functional.triplet_margin_with_distance_loss(*tensors, distance_function=distance,
                                                                         **options)
        module = lib.nn.TripletMarginWithDistanceLoss(distance_function=distance, **options)(*tensors)
        (functional.sum() + module.sum()).backward()
        return [functional.detach().numpy(), module.detach().numpy()] + [t.grad.numpy() for t in tensors] + [
            type(functional.grad_fn).__name__]

    for ours, theirs in zip(run(gs), run(torch), strict=True):
        if isinstance(theirs, str):
            assert ours == theirs
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_module_repr_and_errors_match_torch():
    def run(lib):
        seen = [repr(lib.nn.TripletMarginWithDistanceLoss(margin=2.0))]
        x = lib.zeros(2, 3)
        for make in (lambda: lib.nn.TripletMarginWithDistanceLoss(margin=0),
                     lambda: lib.nn.functional.triplet_margin_with_distance_loss(x, x, x, margin=-1.0),
                     lambda: lib.nn.functional.triplet_margin_with_distance_loss(x, x, x, reduction="avg"),
                     lambda: lib.nn.functional.triplet_margin_with_distance_loss(x, x, x[0])):
            with pytest.raises(Exception) as info:
                make()
            seen.append(f"{type(info.value).__name__}: {info.value}")
        return seen

    assert run(gs) == run(torch)


@pytest.mark.parametrize("name", ["upsample", "upsample_nearest", "upsample_bilinear"])
def test_deprecated_upsample_warns_and_interpolates_as_torch(name):
    x = np.arange(12.0).reshape(1, 1, 3, 4)

    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = getattr(lib.nn.functional, name)(lib.tensor(x), scale_factor=2)
        return out.numpy(), [(w.category.__name__, str(w.message)) for w in caught]

    (ours, our_warnings), (theirs, their_warnings) = run(gs), run(torch)
    assert our_warnings == their_warnings
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_nll_loss_2d_and_grid_sample_modes_match_torch():
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loss = lib.nn.NLLLoss2d(ignore_index=1)
        x = lib.tensor(np.log(np.full((1, 3, 2, 2), 1 / 3)))
        value = loss(x, lib.tensor([[[0, 1], [2, 2]]])).item()
        return (repr(loss), [str(w.message) for w in caught], value, lib.nn.functional.GRID_SAMPLE_INTERPOLATION_MODES,
                lib.nn.functional.GRID_SAMPLE_PADDING_MODES)

    assert run(gs) == run(torch)
