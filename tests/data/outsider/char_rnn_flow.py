# The char-RNN name classification tutorial (made small: a few invented names, the hand-written RNN cell
# and nn.RNN side by side, the manual `p.data.add_(p.grad.data, alpha=-lr)` update, topk), and a RealNVP-style
# normalizing flow on 2-D data with torch.distributions (MultivariateNormal log_prob, affine coupling layers,
# log-determinants), trained by Adam with a StepLR.
import string

import torch
import torch.nn as nn
from torch.distributions import MultivariateNormal

torch.manual_seed(3)
all_letters = string.ascii_letters + " .,;'"
n_letters = len(all_letters)
category_lines = {"English": ["Smith", "Jones", "Brown"], "French": ["Dubois", "Lefevre", "Moreau"],
                  "Italian": ["Rossi", "Russo", "Ferrari"]}
all_categories = list(category_lines)
n_categories = len(all_categories)


def letterToIndex(letter):
    return all_letters.find(letter)


def lineToTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(input_size + hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = self.i2h(combined)
        output = self.i2o(combined)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


class CharRNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(CharRNN, self).__init__()
        self.rnn = nn.RNN(input_size, hidden_size, num_layers=2, nonlinearity='tanh')
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, line_tensor):
        rnn_out, hidden = self.rnn(line_tensor)
        output = self.h2o(hidden[-1])
        return self.softmax(output)


def categoryFromOutput(output):
    top_n, top_i = output.topk(1)
    category_i = top_i[0].item()
    return all_categories[category_i], category_i


rnn = RNN(n_letters, 32, n_categories)
criterion = nn.NLLLoss()
learning_rate = 0.005
for it in range(12):
    category = all_categories[it % 3]
    line = category_lines[category][it % 3]
    category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
    line_tensor = lineToTensor(line)
    hidden = rnn.initHidden()
    rnn.zero_grad()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    loss = criterion(output, category_tensor)
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    guess, guess_i = categoryFromOutput(output)
    print('%d %.4f %s / %s %s' % (it, loss.item(), line, guess, '✓' if guess == category else '✗ (%s)' % category))

model = CharRNN(n_letters, 24, n_categories)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
for epoch in range(3):
    total = 0.0
    for category in all_categories:
        for line in category_lines[category]:
            optimizer.zero_grad()
            output = model(lineToTensor(line))
            loss = criterion(output, torch.tensor([all_categories.index(category)]))
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 3)
            optimizer.step()
            total += loss.item()
    print(f"nn.RNN epoch {epoch} loss {total / 9:.4f}")
with torch.no_grad():
    output = model(lineToTensor("Rossi"))
    topv, topi = output.topk(3, 1, True)
    print([(all_categories[i], round(v, 3)) for v, i in zip(topv[0].tolist(), topi[0].tolist())])


class Coupling(nn.Module):
    def __init__(self, mask):
        super().__init__()
        self.register_buffer('mask', mask)
        self.s = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 2), nn.Tanh())
        self.t = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))

    def forward(self, x):
        x_masked = x * self.mask
        s = self.s(x_masked) * (1 - self.mask)
        t = self.t(x_masked) * (1 - self.mask)
        y = x_masked + (1 - self.mask) * (x * torch.exp(s) + t)
        return y, s.sum(dim=1)


class RealNVP(nn.Module):
    def __init__(self):
        super().__init__()
        masks = torch.tensor([[0., 1.], [1., 0.]] * 3)
        self.layers = nn.ModuleList([Coupling(m) for m in masks])
        self.prior = MultivariateNormal(torch.zeros(2), torch.eye(2))

    def log_prob(self, x):
        log_det = torch.zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            log_det = log_det + ld
        return self.prior.log_prob(x) + log_det


theta = torch.rand(256) * 2 * torch.pi
moons = torch.stack([torch.cos(theta), torch.sin(theta) * 0.5], dim=1) + 0.05 * torch.randn(256, 2)
flow = RealNVP()
opt = torch.optim.Adam(flow.parameters(), lr=1e-3)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
for step in range(12):
    loss = -flow.log_prob(moons).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    if step % 3 == 0:
        print(f"flow step {step} nll {loss.item():.4f} lr {opt.param_groups[0]['lr']}")
print(flow.log_prob(torch.tensor([[1.0, 0.0], [0.0, 0.0]])))
