"""Loss and distance modules against PyTorch in float64: repr, buffers, values and input gradients for
every reduction."""

from __future__ import annotations

import pytest
from module_oracle import run_both, twin


def _float(*shape, positive: bool = False, grad: bool = True):
    def make(torch):
        value = torch.rand(*shape, dtype=torch.float64) + 0.1 if positive else torch.randn(*shape, dtype=torch.float64)
        return value.requires_grad_(grad)
    return make


def _probability(grad: bool):
    return lambda torch: (torch.rand(3, 4, dtype=torch.float64) * 0.9 + 0.05).requires_grad_(grad)


def _signs(*shape):
    return lambda torch: torch.randint(0, 2, shape).double() * 2 - 1


def _inputs(*makers):
    return lambda torch: tuple(make(torch) for make in makers)


LOSSES = {
    "L1Loss": (lambda nn, r: nn.L1Loss(reduction=r), _inputs(_float(3, 4), _float(3, 4))),
    "MSELoss": (lambda nn, r: nn.MSELoss(reduction=r), _inputs(_float(3, 4), _float(3, 4))),
    "SmoothL1Loss": (lambda nn, r: nn.SmoothL1Loss(reduction=r, beta=0.5), _inputs(_float(3, 4), _float(3, 4))),
    "HuberLoss": (lambda nn, r: nn.HuberLoss(reduction=r, delta=0.7), _inputs(_float(3, 4), _float(3, 4))),
    "BCELoss": (lambda nn, r: nn.BCELoss(reduction=r, weight=nn.Linear(4, 1).weight.detach()[0].abs()),
                _inputs(_probability(grad=True), _probability(grad=False))),
    "BCEWithLogitsLoss": (lambda nn, r: nn.BCEWithLogitsLoss(reduction=r),
                          _inputs(_float(3, 4), _probability(grad=False))),
    "KLDivLoss": (lambda nn, r: nn.KLDivLoss(reduction=r, log_target=True), _inputs(_float(3, 4), _float(3, 4))),
    "PoissonNLLLoss": (lambda nn, r: nn.PoissonNLLLoss(full=True, reduction=r),
                       _inputs(_float(3, 4), lambda t: t.randint(0, 5, (3, 4)).double())),
    "GaussianNLLLoss": (lambda nn, r: nn.GaussianNLLLoss(reduction=r),
                        _inputs(_float(3, 4), _float(3, 4), _float(3, 4, positive=True))),
    "MarginRankingLoss": (lambda nn, r: nn.MarginRankingLoss(0.3, reduction=r),
                          _inputs(_float(5), _float(5), _signs(5))),
    "HingeEmbeddingLoss": (lambda nn, r: nn.HingeEmbeddingLoss(0.5, reduction=r), _inputs(_float(3, 4), _signs(3, 4))),
    "CosineEmbeddingLoss": (lambda nn, r: nn.CosineEmbeddingLoss(0.1, reduction=r),
                            _inputs(_float(5, 3), _float(5, 3), _signs(5))),
    "TripletMarginLoss": (lambda nn, r: nn.TripletMarginLoss(p=1.5, swap=True, reduction=r),
                          _inputs(_float(4, 3), _float(4, 3), _float(4, 3))),
    "SoftMarginLoss": (lambda nn, r: nn.SoftMarginLoss(reduction=r), _inputs(_float(3, 4), _signs(3, 4))),
    "MultiLabelSoftMarginLoss": (lambda nn, r: nn.MultiLabelSoftMarginLoss(reduction=r),
                                 _inputs(_float(3, 4), lambda t: t.randint(0, 2, (3, 4)).double())),
    "NLLLoss": (lambda nn, r: nn.NLLLoss(reduction=r, ignore_index=1),
                _inputs(_float(4, 3), lambda t: t.tensor([0, 1, 2, 2]))),
    "CrossEntropyLoss": (lambda nn, r: nn.CrossEntropyLoss(reduction=r, label_smoothing=0.1),
                         _inputs(_float(4, 3, 2), lambda t: t.tensor([[0, 1], [2, 2], [1, 0], [0, 0]]))),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", LOSSES)
def test_loss_module_matches_torch(name, reduction):
    make, inputs = LOSSES[name]
    ours, theirs = twin(lambda nn: make(nn, reduction))
    assert repr(ours) == f"{name}()"
    run_both(ours, theirs, inputs)


def test_weighted_losses_keep_weight_as_buffer():
    ours, theirs = twin(lambda nn: nn.CrossEntropyLoss(weight=nn.Linear(3, 1).weight.detach()[0].abs()))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    run_both(ours, theirs, _inputs(_float(4, 3), lambda t: t.tensor([0, 1, 2, 2])))


def test_kl_div_batchmean_and_legacy_arguments():
    ours, theirs = twin(lambda nn: nn.KLDivLoss(reduction="batchmean"))
    run_both(ours, theirs, _inputs(_float(3, 4), _float(3, 4, positive=True)))
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        ours, theirs = twin(lambda nn: nn.L1Loss(size_average=False))
    assert ours.reduction == theirs.reduction == "sum"


@pytest.mark.parametrize("make", [lambda nn: nn.CosineSimilarity(dim=-1, eps=1e-6),
                                  lambda nn: nn.PairwiseDistance(p=3.0, keepdim=True)], ids=["cosine", "pairwise"])
def test_distance_modules_match_torch(make):
    ours, theirs = twin(make)
    run_both(ours, theirs, _inputs(_float(4, 3), _float(4, 3)))
