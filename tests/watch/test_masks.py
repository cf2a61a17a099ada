"""-inf written on purpose is no anomaly: attention masks (`masked_fill(mask, -inf)`, a causal `where`, an
additive `triu(full(-inf))` mask, the log of a 0/1 `tril`, `scaled_dot_product_attention(is_causal=True)`) put
infinities in the forward pass that a softmax turns into zeros. The recorder (inspect, browse, check) and the
watch drop forward infinities the pass kept out of its loss and gradients; a NaN, an infinity that reaches the
loss or a gradient, or one arithmetic made from data (log(0)) is still found, at the op that made it."""

from __future__ import annotations

import math

import pytest

import gradscope as torch
from gradscope import nn
from gradscope.trace import Recorder
from gradscope.watching import WatchStop

T = 5


def _scores(x, weight):
    return (x @ weight) @ (x @ weight).transpose(-2, -1)


MASKS = {
    "masked_fill": lambda s: s.masked_fill(torch.tril(torch.ones(T, T)) == 0, float("-inf")),
    "where": lambda s: torch.where(torch.tril(torch.ones(T, T, dtype=torch.bool)), s, float("-inf")),
    "additive": lambda s: s + torch.triu(torch.full((T, T), float("-inf")), diagonal=1),
    "nn.Transformer's": lambda s: s + nn.Transformer.generate_square_subsequent_mask(T),
    "log of tril": lambda s: s + torch.log(torch.tril(torch.ones(T, T))),  # PyTorch's word_language_model
}


def _attention(mask, x, weight):
    return torch.softmax(MASKS[mask](_scores(x, weight)), dim=-1) @ x


@pytest.mark.parametrize("mask", list(MASKS))
def test_a_causal_mask_is_no_anomaly(mask):
    torch.manual_seed(0)
    weight = torch.randn(4, 4, requires_grad=True)
    x = torch.randn(2, T, 4)
    with Recorder() as rec:
        for _ in range(2):
            _attention(mask, x, weight).pow(2).mean().backward()
        with torch.no_grad():  # generation after the last pass, under the same mask
            _attention(mask, x, weight)
    trace = rec.finish({"weight": weight})
    assert trace.anomalies == []
    assert trace.masks and {mask.phase for mask in trace.masks} == {"forward"}  # not counted, not hidden


def test_scaled_dot_product_attention_is_causal_is_no_anomaly():
    torch.manual_seed(0)
    q = torch.randn(1, 2, T, 4, requires_grad=True)
    with Recorder() as rec:
        nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True).sum().backward()
    assert rec.finish({"q": q}).anomalies == []


def test_a_mask_that_reaches_the_loss_is_an_anomaly():
    """The masked scores summed into the loss: -inf reaches it, so masked_fill is where it began."""
    weight = torch.randn(4, 4, requires_grad=True)
    with Recorder() as rec:
        MASKS["masked_fill"](_scores(torch.randn(2, T, 4), weight)).sum().backward()
    found = [(a.phase, a.role, a.op) for a in rec.finish({"weight": weight}).anomalies]
    assert found[0] == ("forward", "culprit", "masked_fill")


def test_a_row_masked_everywhere_makes_nan_and_is_found():
    """A padding mask that hides every key of a row: softmax makes NaN out of the -inf, the gradients follow."""
    weight = torch.randn(4, 4, requires_grad=True)
    everything = torch.ones(T, T, dtype=torch.bool)
    with Recorder() as rec:
        torch.softmax(_scores(torch.randn(2, T, 4), weight).masked_fill(everything, float("-inf")), -1).sum().backward()
    anomalies = rec.finish({"weight": weight}).anomalies
    assert any(a.op == "masked_fill" and a.role == "culprit" for a in anomalies)
    assert any(a.phase == "backward" for a in anomalies)


def _train(steps, mask, bad_step=None):
    torch.manual_seed(0)
    weight = nn.Parameter(torch.randn(4, 4))
    optimizer = torch.optim.SGD([weight], lr=0.01)
    for step in range(steps):
        x = torch.randn(2, T, 4)
        scores = _scores(x, weight)
        if step == bad_step:
            scores = scores.masked_fill(torch.ones(T, T, dtype=torch.bool), float("-inf"))  # BAD LINE
        loss = (torch.softmax(MASKS[mask](scores), dim=-1) @ x).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


@pytest.mark.parametrize("mask", list(MASKS))
def test_watch_runs_through_masked_attention(mask):
    with torch.watch() as watched:
        _train(6, mask)
    assert len(watched.history) == 6
    assert all(not record.findings for record in watched.history)


def test_watch_stops_where_a_fully_masked_row_makes_nan():
    with pytest.raises(WatchStop) as stopped, torch.watch():
        _train(6, "masked_fill", bad_step=3)
    report = stopped.value.report
    first = report.first_anomaly
    assert first.step == 3 and first.phase == "forward"
    assert math.isnan(report.loss) or report.first_parameter is not None


def test_an_infinity_arithmetic_made_is_found_even_when_the_loss_stays_finite():
    """log(0) of data is an accident, not a mask (its values are not just 0 and -inf), though tanh saturates and
    keeps the loss and gradients finite."""
    x = torch.tensor([0.0, 1.0, 2.0])
    w = torch.ones(3, requires_grad=True)
    with Recorder() as rec:
        (w * torch.tanh(torch.log(x))).sum().backward()
    assert [(a.phase, a.role, a.op) for a in rec.finish({"w": w}).anomalies] == [("forward", "culprit", "log")]
    optimizer = torch.optim.SGD([w], lr=0.1)
    with pytest.raises(WatchStop) as stopped, torch.watch():
        for _ in range(3):
            loss = (w * torch.tanh(torch.log(x))).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    first = stopped.value.report.first_anomaly
    assert (first.step, first.role, first.op) == (0, "culprit", "log")
