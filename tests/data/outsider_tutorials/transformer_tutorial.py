# Written after PyTorch's tutorial "Language Modeling with nn.Transformer" (pytorch/tutorials,
# beginner_source/transformer_tutorial.py, BSD-3-Clause), made small, in float64 through set_default_dtype, with
# random tokens in place of WikiText-2: PositionalEncoding as a buffer filled by strided assignment, the causal mask
# from nn.Transformer.generate_square_subsequent_mask, SGD with clip_grad_norm_ and StepLR, evaluation, and the
# best model kept through torch.save/torch.load and copy.deepcopy.
import copy
import math
import os
import tempfile

import torch
from torch import Tensor, nn

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 64):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(x + self.pe[:x.size(0)])


class TransformerModel(nn.Module):
    def __init__(self, ntoken: int, d_model: int, nhead: int, d_hid: int, nlayers: int, dropout: float = 0.5):
        super().__init__()
        self.pos_encoder = PositionalEncoding(d_model, dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
        self.transformer_encoder = nn.TransformerEncoder(layer, nlayers, enable_nested_tensor=False)
        self.embedding = nn.Embedding(ntoken, d_model)
        self.d_model = d_model
        self.linear = nn.Linear(d_model, ntoken)
        self.embedding.weight.data.uniform_(-0.1, 0.1)
        self.linear.bias.data.zero_()
        self.linear.weight.data.uniform_(-0.1, 0.1)

    def forward(self, src: Tensor, src_mask: Tensor = None) -> Tensor:
        src = self.pos_encoder(self.embedding(src) * math.sqrt(self.d_model))
        if src_mask is None:
            src_mask = nn.Transformer.generate_square_subsequent_mask(len(src))
        return self.linear(self.transformer_encoder(src, src_mask))


def batchify(data: Tensor, bsz: int) -> Tensor:
    seq_len = data.size(0) // bsz
    return data[:seq_len * bsz].view(bsz, seq_len).t().contiguous()


bptt, ntokens = 6, 20


def get_batch(source: Tensor, i: int):
    seq_len = min(bptt, len(source) - 1 - i)
    return source[i:i + seq_len], source[i + 1:i + 1 + seq_len].reshape(-1)


generator = torch.Generator().manual_seed(3)
train_data = batchify(torch.randint(0, ntokens, (120,), generator=generator), 4)
val_data = batchify(torch.randint(0, ntokens, (40,), generator=generator), 2)
model = TransformerModel(ntokens, 8, 2, 16, 1, 0.2)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=5.0)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)
print(sum(p.numel() for p in model.parameters()), nn.Transformer.generate_square_subsequent_mask(3))


def train(epoch: int) -> None:
    model.train()
    total_loss = 0.0
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        data, targets = get_batch(train_data, i)
        loss = criterion(model(data).view(-1, ntokens), targets)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        total_loss += loss.item()
        if batch % 2 == 1:
            cur_loss = total_loss / 2
            print(f"| epoch {epoch:3d} | {batch:5d} batches | lr {scheduler.get_last_lr()[0]:02.2f} | "
                  f"loss {cur_loss:5.12f} | ppl {math.exp(cur_loss):8.10f}")
            total_loss = 0


def evaluate(eval_model: nn.Module, eval_data: Tensor) -> float:
    eval_model.eval()
    total_loss = 0.0
    with torch.no_grad():
        for i in range(0, eval_data.size(0) - 1, bptt):
            data, targets = get_batch(eval_data, i)
            total_loss += data.size(0) * criterion(eval_model(data).view(-1, ntokens), targets).item()
    return total_loss / (len(eval_data) - 1)


best_val_loss, best = float("inf"), None
with tempfile.TemporaryDirectory() as directory:
    path = os.path.join(directory, "best_model_params.pt")
    for epoch in range(1, 3):
        train(epoch)
        val_loss = evaluate(model, val_data)
        print(f"| end of epoch {epoch:3d} | valid loss {val_loss:5.12f} | valid ppl {math.exp(val_loss):8.10f}")
        if val_loss < best_val_loss:
            best_val_loss = val_loss
            torch.save(model.state_dict(), path)
            best = copy.deepcopy(model)
        scheduler.step()
    model.load_state_dict(torch.load(path))
print(evaluate(model, val_data), evaluate(best, val_data), best_val_loss)
