# A text classifier as NLP tutorials write one: padded batches from a collate_fn, a WeightedRandomSampler,
# pack_padded_sequence into a bidirectional LSTM, multi-head attention with a key padding mask, activation
# checkpointing, gradient accumulation with clip_grad_norm_, label smoothing, LambdaLR and an eval loop.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader, Dataset, WeightedRandomSampler
from torch.utils.checkpoint import checkpoint

torch.manual_seed(0)


class Seqs(Dataset):
    def __init__(self, n=40):
        g = torch.Generator().manual_seed(1)
        self.items = []
        for i in range(n):
            length = int(torch.randint(2, 9, (1,), generator=g))
            seq = torch.randint(1, 20, (length,), generator=g)
            self.items.append((seq, int(seq.sum() % 3)))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def collate(batch):
    seqs, labels = zip(*batch)
    lengths = torch.tensor([len(s) for s in seqs])
    return pad_sequence(seqs, batch_first=True), lengths, torch.tensor(labels)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 8, padding_idx=0)
        self.lstm = nn.LSTM(8, 16, batch_first=True, bidirectional=True)
        self.attn = nn.MultiheadAttention(32, 4, batch_first=True)
        self.norm = nn.LayerNorm(32)
        self.head = nn.Sequential(nn.Linear(32, 16), nn.GELU(), nn.Dropout(0.1), nn.Linear(16, 3))

    def forward(self, x, lengths):
        e = self.emb(x)
        packed = pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
        out, (h, c) = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.size(1))
        mask = torch.arange(x.size(1))[None, :] >= lengths[:, None]
        a, weights = self.attn(out, out, out, key_padding_mask=mask)
        a = checkpoint(self.norm, a + out, use_reentrant=False)
        pooled = (a * (~mask).unsqueeze(-1)).sum(1) / lengths[:, None]
        return self.head(pooled)


ds = Seqs()
weights = torch.tensor([1.0 if label == 0 else 2.0 for _, label in ds.items])
sampler = WeightedRandomSampler(weights, num_samples=len(ds), replacement=True)
loader = DataLoader(ds, batch_size=8, sampler=sampler, collate_fn=collate)
model = Classifier()
opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 0.9 ** epoch)
accum = 2
for epoch in range(3):
    model.train()
    total = 0.0
    for i, (x, lengths, y) in enumerate(loader):
        logits = model(x, lengths)
        loss = F.cross_entropy(logits, y, label_smoothing=0.1) / accum
        loss.backward()
        if (i + 1) % accum == 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
        total += loss.item()
    sched.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, lengths, y in DataLoader(ds, batch_size=16, collate_fn=collate):
            pred = model(x, lengths).argmax(dim=1)
            correct += (pred == y).sum().item()
    print(f"epoch {epoch} loss {total:.4f} acc {correct}/{len(ds)} lr {sched.get_last_lr()[0]:.5f}")
probs = F.softmax(model(*collate(ds.items[:2])[:2]), dim=-1)
print(probs.topk(2, dim=1).values)
print(F.one_hot(torch.tensor([0, 2]), 3), torch.bucketize(torch.tensor([0.1, 0.6]), torch.tensor([0.25, 0.5, 0.75])))
