"""The browser tests' masked attention: scores masked with -inf above the diagonal before a softmax, which
turns them into zeros, in two training steps. The masks are no anomalies; the tests check what the browser
says about them, so it must not change with the samples."""

import gradscope as torch
from gradscope import nn

torch.manual_seed(0)
T = 4


class Attention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.query = nn.Linear(6, 6)

    def forward(self, x):
        q = self.query(x)
        scores = q @ x.transpose(-2, -1)
        causal = torch.tril(torch.ones(T, T)) == 0
        return torch.softmax(scores.masked_fill(causal, float("-inf")), dim=-1) @ x


model = Attention()
x = torch.randn(2, T, 6)
for _ in range(2):
    model.zero_grad()
    model(x).pow(2).mean().backward()
