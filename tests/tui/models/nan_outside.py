"""A NaN born outside the autograd graph: log of a feature that holds a zero (the feature needs no grad,
so no backward node records the op). tanh saturates, so the loss and every gradient stay finite."""

import gradscope as torch

torch.manual_seed(0)
x = torch.tensor([0.0, 1.0, 2.0])
w = torch.ones(3, requires_grad=True)


def loss():
    feature = torch.log(x)  # -inf where x is 0
    return (w * torch.tanh(feature)).sum()
