import os, tempfile
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.backends.cudnn.benchmark = True
torch.set_float32_matmul_precision("high")
torch.manual_seed(0)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 4 * 4, 3)
    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        return self.fc(torch.flatten(x, 1))

def train(model, opt, sched, steps, data):
    model.train()
    for i in range(steps):
        x, y = data[i % len(data)]
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
        sched.step()
    return loss.item()

data = [(torch.randn(8, 1, 8, 8), torch.randint(0, 3, (8,))) for _ in range(4)]
model = Net()
opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.05)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
print("phase1", round(train(model, opt, sched, 5, data), 5))
path = os.path.join(tempfile.mkdtemp(), "ckpt.pt")
torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(), "epoch": 5,
            "rng": torch.get_rng_state()}, path)
ck = torch.load(path, weights_only=True)
model2 = Net()
model2.load_state_dict(ck["model"])
opt2 = torch.optim.AdamW(model2.parameters(), lr=1e-2, weight_decay=0.05)
opt2.load_state_dict(ck["opt"])
sched2 = torch.optim.lr_scheduler.StepLR(opt2, step_size=3, gamma=0.5)
sched2.load_state_dict(ck["sched"])
torch.set_rng_state(ck["rng"])
print("resume", round(train(model2, opt2, sched2, 5, data), 5), sched2.get_last_lr(), ck["epoch"])
print("continue", round(train(model, opt, sched, 5, data), 5))
print(sorted(ck["opt"]["state"][0].keys()), ck["opt"]["param_groups"][0]["lr"])
model2.eval()
with torch.no_grad():
    print(model2(data[0][0]).argmax(1).tolist())
print(torch.allclose(model.fc.weight, model2.fc.weight))
