"""A healthy two-layer MLP regressing a smooth function: every gradient finite and well scaled.

    gradscope inspect sample_models/mlp.py
"""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)


class MLP(nn.Module):
    def __init__(self, inputs: int = 4, hidden: int = 16, outputs: int = 1) -> None:
        super().__init__()
        self.fc1 = nn.Linear(inputs, hidden)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(hidden, outputs)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


model = MLP()
x = torch.randn(32, 4)
y = (x[:, :1] * 2 - x[:, 1:2]).sin()


def loss():
    return nn.functional.mse_loss(model(x), y)


if __name__ == "__main__":
    value = loss()
    value.backward()
    print(f"loss {value.item():.4f}")
