"""`base.py` whose gradient-scaling layer scales by 0.9: the forward values are the same, the
gradients into the encoder differ (a backward-only difference).

    gradscope diff sample_models/diff/base.py sample_models/diff/grad_scale.py
"""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)


class ScaleGrad(torch.autograd.Function):
    """Identity forward; backward scales the gradient (as gradient-reversal layers do)."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 8)

    def forward(self, x):
        return torch.tanh(self.fc(x))


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 1)

    def forward(self, h):
        return self.fc(ScaleGrad.apply(h, 0.9)) * 0.5


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.head = Head()

    def forward(self, x):
        return self.head(self.encoder(x))


model = Net()
x = torch.randn(16, 4)
y = x[:, :1] - x[:, 1:2]


def loss():
    return ((model(x) - y) ** 2).mean()
