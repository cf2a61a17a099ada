"""AdaptiveLogSoftmaxWithLoss: the efficient softmax of Grave et al. for large vocabularies. The head scores the
frequent classes and one entry per cluster of rarer ones; each cluster has its own low-rank tail. Composed of
the same ops as PyTorch's module, so its graph, parameters and state_dict keys are PyTorch's.

>>> asm = nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4])
>>> asm(gradscope.zeros(3, 8), gradscope.tensor([0, 5, 9])).output.shape
torch.Size([3])
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence

import gradscope
from gradscope.autograd.tensor import Tensor
from gradscope.nn import functional as F
from gradscope.nn.container import ModuleList, Sequential
from gradscope.nn.linear import Linear
from gradscope.nn.module import Module

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Log-probabilities of the targets (`output`) and their mean negative (`loss`); `log_prob` gives every
    class's, `predict` the most likely class."""

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int], div_value: float = 4.0,
                 head_bias: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if not cutoffs:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an increasing "
                             "order, where each value is between 1 and n_classes-1")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = [*cutoffs, n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, dtype=dtype)
        self.tail = ModuleList()
        for cluster in range(self.n_clusters):
            hidden = int(in_features // div_value ** (cluster + 1))
            size = self.cutoffs[cluster + 1] - self.cutoffs[cluster]
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, dtype=dtype),
                                        Linear(hidden, size, bias=False, dtype=dtype)))

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for to_hidden, to_output in self.tail:
            to_hidden.reset_parameters()
            to_output.reset_parameters()

    def forward(self, input_: Tensor, target_: Tensor) -> _ASMoutput:
        _check(input_, target_)
        batched = target_.dim() > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        rows = target.size(0)
        output = input.new_zeros(rows)
        head_targets = target.new_empty(rows)  # the head's entry for each row: its class, or its cluster's
        covered = 0
        bounds = [0, *self.cutoffs]
        for cluster, (low, high) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            in_range = (target >= low) & (target < high)
            members = in_range.nonzero().squeeze()
            if members.numel() == 0:
                continue
            if cluster == 0:
                head_targets.index_copy_(0, members, target[in_range])
            else:
                within = target[in_range] - low
                scores = self.tail[cluster - 1](input.index_select(0, members))
                head_targets.index_fill_(0, members, self.shortlist_size + cluster - 1)
                chosen = F.log_softmax(scores, dim=1).gather(1, within.unsqueeze(1))
                output.index_copy_(0, members, chosen.squeeze(1))
            covered += members.numel()
        if covered != rows:
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                               f"[{target.min().item()}, {target.max().item()}] were found. ")
        head_log_probs = F.log_softmax(self.head(input), dim=1)
        output += head_log_probs.gather(1, head_targets.unsqueeze(1)).squeeze()
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _get_full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        full = input.new_empty((head_output.size(0), self.n_classes))
        head_log_probs = F.log_softmax(head_output, dim=1)
        full[:, :self.shortlist_size] = head_log_probs[:, :self.shortlist_size]
        for cluster, (start, stop) in enumerate(zip(self.cutoffs[:-1], self.cutoffs[1:], strict=True)):
            cluster_log_probs = F.log_softmax(self.tail[cluster](input), dim=1)
            full[:, start:stop] = cluster_log_probs + head_log_probs[:, self.shortlist_size + cluster].unsqueeze(1)
        return full

    def log_prob(self, input: Tensor) -> Tensor:
        """Every class's log-probability, (batch, n_classes)."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input: Tensor) -> Tensor:
        """The most likely class of each row; the full distribution is computed only for rows whose head
        points into a cluster."""
        head_output = self.head(input)
        output = gradscope.argmax(head_output, dim=1)
        outside = output >= self.shortlist_size
        if not outside.any():
            return output
        if outside.all():
            return gradscope.argmax(self._get_full_log_prob(input, head_output), dim=1)
        output[outside] = gradscope.argmax(self._get_full_log_prob(input[outside], head_output[outside]), dim=1)
        return output


def _check(input: Tensor, target: Tensor) -> None:
    if target.dim() == 1:
        if input.size(0) != target.size(0):
            raise RuntimeError("Input and target should have the same size in the batch dimension.")
        if input.dim() != 2:
            raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with size {input.size()}")
    elif target.dim() == 0:
        if input.dim() != 1:
            raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with size {input.size()}")
    else:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
