import argparse
import torch
from torch.utils.data import Dataset, DataLoader, random_split

class Squares(Dataset):
    def __init__(self, n): self.n = n
    def __len__(self): return self.n
    def __getitem__(self, i):
        x = torch.tensor([i / 40])  # losses of order 1: float32 sums of ~1e5 squares differed in the last place by host
        return {"x": x, "y": x ** 2, "name": f"item{i}"}

def main():
    p = argparse.ArgumentParser(); p.add_argument("--epochs", type=int, default=2); a = p.parse_args()
    torch.manual_seed(0)
    train, val = random_split(Squares(40), [30, 10], generator=torch.Generator().manual_seed(42))
    loader = DataLoader(train, batch_size=8, shuffle=True, num_workers=2, pin_memory=True, persistent_workers=True,
                        drop_last=True, prefetch_factor=2)
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, nesterov=True, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=a.epochs * len(loader))
    for epoch in range(a.epochs):
        for batch in loader:
            x, y = batch["x"].to("cpu", non_blocking=True), batch["y"]
            loss = torch.nn.functional.mse_loss(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step(); sched.step()
        print(epoch, round(loss.item(), 4), batch["name"][:2], sched.get_last_lr())
    vl = DataLoader(val, batch_size=5)
    with torch.inference_mode():
        print([round(float(model(b["x"]).sum()), 1) for b in vl])

if __name__ == "__main__":
    main()
