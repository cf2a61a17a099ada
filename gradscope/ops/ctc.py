"""Connectionist temporal classification loss (PyTorch's CtcLossBackward0), in log space.

Each target is extended with blanks around its labels (l' = blank, l1, blank, l2, …, blank); the forward
variables α (saved, as PyTorch saves log_alpha) sum the probabilities of every alignment of the first s
extended labels to the first t frames, and the loss is -log of the paths that end on the last label or the
last blank. The backward pairs α with the backward variables β.

PyTorch's gradient is not the derivative with respect to the log-probabilities: it is exp(log_probs) minus
the label posteriors, the derivative with respect to the logits when log_probs is their log_softmax (the
case the loss is meant for: log_softmax's backward leaves it as it is). Reproduced, as gradients must match.
"""

from __future__ import annotations

import numpy as np

from gradscope.ops.registry import Primitive, primitive


def _extended(target: np.ndarray, blank: int) -> np.ndarray:
    labels = np.full(2 * len(target) + 1, blank, dtype=np.int64)
    labels[1::2] = target
    return labels


def _skips(labels: np.ndarray, blank: int) -> np.ndarray:
    """Where a path may jump two extended labels (onto a label that differs from the one two back)."""
    allowed = np.zeros(len(labels), dtype=bool)
    allowed[2:] = (labels[2:] != blank) & (labels[2:] != labels[:-2])
    return allowed


def _targets_of(targets: np.ndarray, target_lengths: tuple, batch: int) -> list[np.ndarray]:
    if targets.ndim == 1:  # concatenated
        ends = np.cumsum(target_lengths)
        return [targets[end - length:end] for end, length in zip(ends, target_lengths, strict=True)]
    return [targets[b, :target_lengths[b]] for b in range(batch)]


def _shifted(values: np.ndarray, by: int, fill=-np.inf) -> np.ndarray:
    """values moved `by` places along (right when positive), the vacated places filled."""
    result = np.full_like(values, fill)
    if by > 0:
        result[by:] = values[:-by]
    else:
        result[:by] = values[-by:]
    return result


def _log_add(*terms):
    return np.logaddexp.reduce(np.stack(terms), axis=0)


def _ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
    """(negative log-likelihood per batch entry, log_alpha (batch, frames, 2·max target length + 1))."""
    frames, batch, _ = log_probs.shape
    width = 2 * max(target_lengths, default=0) + 1
    log_alpha = np.full((batch, frames, width), -np.inf, dtype=log_probs.dtype)
    nll = np.zeros(batch, dtype=log_probs.dtype)
    for b, target in enumerate(_targets_of(targets, target_lengths, batch)):
        labels, length = _extended(target, blank), input_lengths[b]
        skips = _skips(labels, blank)
        alpha = log_alpha[b, :, :len(labels)]
        if length > 0:
            alpha[0, :2] = log_probs[0, b, labels[:2]]
        for t in range(1, length):
            previous = alpha[t - 1]
            alpha[t] = _log_add(previous, _shifted(previous, 1), np.where(skips, _shifted(previous, 2), -np.inf)
                                ) + log_probs[t, b, labels]
        if length > 0:
            nll[b] = -np.logaddexp(alpha[length - 1, -1], alpha[length - 1, -2] if len(labels) > 1 else -np.inf)
        else:
            nll[b] = -0.0 if len(target) == 0 else np.inf
    return nll, log_alpha  # zero_infinity's zeros are F.ctc_loss's where (WhereBackward0), as in PyTorch


def _ctc_loss_backward(grad, log_probs, nll, log_alpha, targets, input_lengths, target_lengths, blank,
                       zero_infinity):
    """PyTorch's gradient: (exp(log_probs) - posterior of each class) · grad, zero past each input's length."""
    frames, batch, classes = log_probs.shape
    result = np.zeros_like(log_probs)
    for b, target in enumerate(_targets_of(targets, target_lengths, batch)):
        labels, length = _extended(target, blank), input_lengths[b]
        if length == 0:
            continue
        skips = _skips(labels, blank)
        beta = np.full((length, len(labels)), -np.inf, dtype=log_probs.dtype)
        beta[length - 1, -2:] = log_probs[length - 1, b, labels[-2:]]
        skipped_to = _shifted(skips, -2, False)  # where a path may jump two labels forward
        for t in range(length - 2, -1, -1):
            following = beta[t + 1]
            beta[t] = _log_add(following, _shifted(following, -1), np.where(skipped_to, _shifted(following, -2),
                                                                             -np.inf)) + log_probs[t, b, labels]
        both = log_alpha[b, :length, :len(labels)] + beta
        per_class = np.full((length, classes), -np.inf, dtype=log_probs.dtype)
        for s, label in enumerate(labels):
            per_class[:, label] = np.logaddexp(per_class[:, label], both[:, s])
        lp = log_probs[:length, b]
        result[:length, b] = (np.exp(lp) - np.exp(per_class + nll[b] - lp)) * grad[b]
        if zero_infinity and np.isinf(nll[b]):
            result[:, b] = 0
    return result


def _ctc_vjp(g, s):
    log_alpha = s.result1 if not s.xp.is_tensor else s.result1._data  # not differentiable: no graph to keep
    return s.xp.apply(ctc_loss_backward, (g[0], s.log_probs, s.result0),
                      (log_alpha, s.targets, s.input_lengths, s.target_lengths, s.blank, s.zero_infinity))


def _no_ctc_double_backward(g, s):
    raise RuntimeError("derivative for aten::_ctc_loss_backward is not implemented")


ctc_loss = primitive("ctc_loss", _ctc_loss, "CtcLossBackward0", inputs=("log_probs",),
                     params=("targets", "input_lengths", "target_lengths", "blank", "zero_infinity"),
                     held=("targets",), outputs=2, differentiable_outputs=(0,),
                     output_names=("result0", "result1"), saves=(("log_probs", "result0", "result1"),),
                     vjp=(_ctc_vjp,))
# NOTE: outside the op table on purpose: PyTorch does not differentiate ctc_loss twice; this node, made under
# create_graph=True, only refuses a backward
ctc_loss_backward = Primitive(
    "ctc_loss_backward", _ctc_loss_backward, "NotImplemented", inputs=("grad", "log_probs", "neg_log_likelihood"),
    params=("log_alpha", "targets", "input_lengths", "target_lengths", "blank", "zero_infinity"),
    vjp=(_no_ctc_double_backward,) * 3)
