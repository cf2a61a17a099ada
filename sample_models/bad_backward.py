"""A custom autograd.Function with a wrong backward, buried inside a model.

`ScaledSoftplus.backward` forgets the chain rule's factor `beta`, so its gradient is off by that
factor. Nothing crashes; `gradscope gradcheck` finds the mismatch and names ScaledSoftplusBackward.
"""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)


class ScaledSoftplus(torch.autograd.Function):
    """softplus(beta * x), written by hand."""

    @staticmethod
    def forward(ctx, x, beta):
        ctx.save_for_backward(x)
        ctx.beta = beta
        return (1 + (beta * x).exp()).log()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.sigmoid(ctx.beta * x), None  # BUG: should be grad * beta * sigmoid(beta * x)


class Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(3, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(ScaledSoftplus.apply(self.fc1(x), 2.0))


model = Model()
x = torch.randn(4, 3)


def loss():
    return model(x).pow(2).mean()
