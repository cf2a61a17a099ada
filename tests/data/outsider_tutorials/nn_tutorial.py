# Written after PyTorch's tutorial "What is torch.nn really?" (pytorch/tutorials, beginner_source/nn_tutorial.py,
# BSD-3-Clause), made small, with random data of MNIST's shape in place of the download: a model written from
# scratch (log_softmax by hand, nll by indexing with range(n), SGD in no_grad with -= and grad.zero_()), then
# nn.Module with Parameters, then a CNN in nn.Sequential with Lambda layers over TensorDataset/DataLoader.
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
rng = np.random.default_rng(0)
x_train, y_train = rng.random((96, 784)), rng.integers(0, 10, 96)
x_valid, y_valid = rng.random((32, 784)), rng.integers(0, 10, 32)
x_train, y_train, x_valid, y_valid = map(torch.tensor, (x_train, y_train, x_valid, y_valid))
n, c = x_train.shape
print(x_train.shape, x_train.dtype, y_train.min(), y_train.max())

weights = torch.randn(784, 10, dtype=torch.float64) / math.sqrt(784)
weights.requires_grad_()
bias = torch.zeros(10, dtype=torch.float64, requires_grad=True)


def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)


def model(xb):
    return log_softmax(xb @ weights + bias)


def nll(input, target):
    return -input[range(target.shape[0]), target].mean()


def accuracy(out, yb):
    return (torch.argmax(out, dim=1) == yb).float().mean()


bs = 32
xb, yb = x_train[0:bs], y_train[0:bs]
preds = model(xb)
print(preds[0, :3], preds.shape)
print(nll(preds, yb), accuracy(preds, yb))
for epoch in range(2):
    for i in range((n - 1) // bs + 1):
        xb, yb = x_train[i * bs:i * bs + bs], y_train[i * bs:i * bs + bs]
        loss = nll(model(xb), yb)
        loss.backward()
        with torch.no_grad():
            weights -= weights.grad * 0.5
            bias -= bias.grad * 0.5
            weights.grad.zero_()
            bias.grad.zero_()
print(nll(model(xb), yb), accuracy(model(xb), yb))


class MnistLogistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(784, 10, dtype=torch.float64) / math.sqrt(784))
        self.bias = nn.Parameter(torch.zeros(10, dtype=torch.float64))

    def forward(self, xb):
        return xb @ self.weights + self.bias


logistic = MnistLogistic()
print(F.cross_entropy(logistic(xb), yb))
with torch.no_grad():
    for p in logistic.parameters():
        p -= torch.ones_like(p) * 0.01
logistic.zero_grad()
print(logistic, [p.grad for p in logistic.parameters()])


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
        print(epoch, np.sum(np.multiply(losses, nums)) / np.sum(nums))


class Lambda(nn.Module):
    def __init__(self, func):
        super().__init__()
        self.func = func

    def forward(self, x):
        return self.func(x)


train_dl = DataLoader(TensorDataset(x_train, y_train), batch_size=bs, shuffle=True)
valid_dl = DataLoader(TensorDataset(x_valid, y_valid), batch_size=bs * 2)
cnn = nn.Sequential(
    Lambda(lambda x: x.view(-1, 1, 28, 28)),
    nn.Conv2d(1, 4, kernel_size=3, stride=2, padding=1), nn.ReLU(),
    nn.Conv2d(4, 10, kernel_size=3, stride=2, padding=1), nn.ReLU(),
    nn.AdaptiveAvgPool2d(1),
    Lambda(lambda x: x.view(x.size(0), -1)),
).double()
fit(2, cnn, F.cross_entropy, optim.SGD(cnn.parameters(), lr=0.1, momentum=0.9), train_dl, valid_dl)
pooled = F.avg_pool2d(x_valid.view(-1, 1, 28, 28), 4)
print(pooled.view(-1, pooled.size(1)).shape, len(train_dl))
