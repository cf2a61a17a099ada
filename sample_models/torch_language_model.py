"""An unmodified PyTorch script in the style of PyTorch's word-language-model example: a recurrent
language model whose decoder shares the embedding's weight (weight tying), and a transformer language
model that subclasses nn.Transformer, trained by truncated backpropagation through time with
hand-written SGD (`p.data.add_`) after gradient clipping. Random tokens stand in for a corpus.

    gradscope inspect sample_models/torch_language_model.py
"""

import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class RecurrentLM(nn.Module):
    """Embedding → LSTM/GRU/RNN → Linear decoder; `tie` makes the decoder reuse the embedding matrix."""

    def __init__(self, cell, vocabulary, width, layers, dropout=0.2, tie=False):
        super().__init__()
        self.vocabulary = vocabulary
        self.drop = nn.Dropout(dropout)
        self.embed = nn.Embedding(vocabulary, width)
        if cell in ("LSTM", "GRU"):
            self.rnn = getattr(nn, cell)(width, width, layers, dropout=dropout)
        else:
            self.rnn = nn.RNN(width, width, layers, nonlinearity=cell.split("_")[1].lower(), dropout=dropout)
        self.decoder = nn.Linear(width, vocabulary)
        if tie:
            self.decoder.weight = self.embed.weight
        nn.init.uniform_(self.embed.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        self.cell, self.width, self.layers = cell, width, layers

    def forward(self, tokens, hidden):
        output, hidden = self.rnn(self.drop(self.embed(tokens)), hidden)
        logits = self.decoder(self.drop(output)).view(-1, self.vocabulary)
        return F.log_softmax(logits, dim=1), hidden

    def init_hidden(self, batch):
        weight = next(self.parameters())
        zeros = weight.new_zeros(self.layers, batch, self.width)
        return (zeros, weight.new_zeros(self.layers, batch, self.width)) if self.cell == "LSTM" else zeros


class PositionalEncoding(nn.Module):
    def __init__(self, width, dropout=0.1, max_len=64):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        frequency = torch.exp(torch.arange(0, width, 2).float() * (-math.log(10000.0) / width))
        table = torch.zeros(max_len, width)
        table[:, 0::2] = torch.sin(position * frequency)
        table[:, 1::2] = torch.cos(position * frequency)
        self.register_buffer("table", table.unsqueeze(0).transpose(0, 1))

    def forward(self, x):
        return self.dropout(x + self.table[:x.size(0), :])


class TransformerLM(nn.Transformer):
    """Only nn.Transformer's encoder is used, under a causal float mask of -inf above the diagonal."""

    def __init__(self, vocabulary, width, heads, hidden, layers, dropout=0.2):
        super().__init__(d_model=width, nhead=heads, dim_feedforward=hidden, num_encoder_layers=layers,
                         num_decoder_layers=1)
        self.mask = None
        self.positions = PositionalEncoding(width, dropout)
        self.embed = nn.Embedding(vocabulary, width)
        self.width = width
        self.head = nn.Linear(width, vocabulary)

    @staticmethod
    def causal_mask(size):
        allowed = (torch.triu(torch.ones(size, size)) == 1).transpose(0, 1)
        return allowed.float().masked_fill(allowed == 0, float("-inf")).masked_fill(allowed == 1, 0.0)

    def forward(self, tokens):
        if self.mask is None or self.mask.size(0) != len(tokens):
            self.mask = self.causal_mask(len(tokens)).to(tokens.device)
        x = self.positions(self.embed(tokens) * math.sqrt(self.width))
        return F.log_softmax(self.head(self.encoder(x, mask=self.mask)), dim=-1)


def batchify(tokens, batch):
    rows = tokens.size(0) // batch
    return tokens.narrow(0, 0, rows * batch).view(batch, -1).t().contiguous()


def detach(hidden):
    return hidden.detach() if isinstance(hidden, torch.Tensor) else tuple(detach(h) for h in hidden)


def train(model, data, vocabulary, bptt, lr, clip):
    model.train()
    hidden = None if isinstance(model, TransformerLM) else model.init_hidden(data.size(1))
    criterion = nn.NLLLoss()
    for start in range(0, data.size(0) - 1, bptt):
        length = min(bptt, data.size(0) - 1 - start)
        inputs, targets = data[start:start + length], data[start + 1:start + 1 + length].reshape(-1)
        model.zero_grad()
        if hidden is None:
            output = model(inputs).view(-1, vocabulary)
        else:
            hidden = detach(hidden)
            output, hidden = model(inputs, hidden)
        loss = criterion(output, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
    return loss.item()


def main():
    parser = argparse.ArgumentParser(description="tiny word language model")
    parser.add_argument("--model", default="LSTM", help="LSTM, GRU, RNN_TANH, RNN_RELU or Transformer")
    args = parser.parse_args([])
    torch.manual_seed(0)
    vocabulary = 20
    data = batchify(torch.randint(0, vocabulary, (40,)), 4)
    if args.model == "Transformer":
        model = TransformerLM(vocabulary, 8, 2, 16, 2)
    else:
        model = RecurrentLM(args.model, vocabulary, 8, 2, tie=True)
    print(f"{args.model}: loss {train(model, data, vocabulary, bptt=5, lr=2.0, clip=0.25):.3f}")


if __name__ == "__main__":
    main()
