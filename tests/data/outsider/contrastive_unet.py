# Two common training patterns made small: SimCLR's NT-Xent contrastive loss (normalize, a similarity
# matrix, masked_fill of the diagonal, cross-entropy over positives) with a projection head and LARS-free SGD
# with cosine annealing; and a small U-Net (ConvTranspose2d, skip connections via cat, BatchNorm2d) trained
# with BCE-with-logits plus a soft Dice loss, gradient clipping, and an exponential moving average of weights
# through torch.optim.swa_utils.AveragedModel.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

torch.manual_seed(7)


def nt_xent(z1, z2, temperature=0.5):
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
    sim = z @ z.t() / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool), float('-inf'))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, targets)


encoder = nn.Sequential(nn.Linear(20, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 32))
projection = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 16))
params = list(encoder.parameters()) + list(projection.parameters())
optimizer = torch.optim.SGD(params, lr=0.3, momentum=0.9, weight_decay=1e-4, nesterov=True)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=6, eta_min=0.01)
data = torch.randn(64, 20)
for epoch in range(6):
    view1 = data + 0.1 * torch.randn_like(data)
    view2 = data * (torch.rand_like(data) > 0.2).float()
    loss = nt_xent(projection(encoder(view1)), projection(encoder(view2)))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    print(f"simclr epoch {epoch} loss {loss.item():.4f} lr {scheduler.get_last_lr()[0]:.4f}")


class DoubleConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                                 nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.net(x)


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.down1 = DoubleConv(1, 4)
        self.down2 = DoubleConv(4, 8)
        self.pool = nn.MaxPool2d(2)
        self.bottom = DoubleConv(8, 16)
        self.up2 = nn.ConvTranspose2d(16, 8, kernel_size=2, stride=2)
        self.conv2 = DoubleConv(16, 8)
        self.up1 = nn.ConvTranspose2d(8, 4, kernel_size=2, stride=2)
        self.conv1 = DoubleConv(8, 4)
        self.head = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        d1 = self.down1(x)
        d2 = self.down2(self.pool(d1))
        b = self.bottom(self.pool(d2))
        u2 = self.conv2(torch.cat([self.up2(b), d2], dim=1))
        u1 = self.conv1(torch.cat([self.up1(u2), d1], dim=1))
        return self.head(u1)


def dice_loss(logits, target, eps=1.0):
    probs = torch.sigmoid(logits)
    inter = (probs * target).sum(dim=(1, 2, 3))
    union = probs.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3))
    return 1 - ((2 * inter + eps) / (union + eps)).mean()


unet = UNet()
ema = AveragedModel(unet, multi_avg_fn=get_ema_multi_avg_fn(0.9))
opt = torch.optim.AdamW(unet.parameters(), lr=3e-3, weight_decay=1e-2)
images = torch.randn(6, 1, 16, 16)
yy, xx = torch.meshgrid(torch.arange(16.), torch.arange(16.), indexing='ij')
masks = ((xx - 8) ** 2 + (yy - 8) ** 2 < 20).float().expand(6, 1, 16, 16)
for step in range(5):
    logits = unet(images + masks)
    loss = F.binary_cross_entropy_with_logits(logits, masks, pos_weight=torch.tensor([2.0])) + dice_loss(logits, masks)
    opt.zero_grad()
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(unet.parameters(), max_norm=1.0)
    opt.step()
    ema.update_parameters(unet)
    print(f"unet step {step} loss {loss.item():.4f} grad norm {norm.item():.4f}")

torch.optim.swa_utils.update_bn([(images + masks,)], ema)
ema.eval()
with torch.no_grad():
    pred = torch.sigmoid(ema(images[:1] + masks[:1]))
    iou = ((pred > 0.5) & (masks[:1] > 0)).sum() / ((pred > 0.5) | (masks[:1] > 0)).sum()
print(f"ema iou {iou.item():.4f}", ema.n_averaged.item())
print(pred[0, 0, 8, 4:12])
print(unet.up1.weight.grad.shape, unet.up1.weight.grad.norm().item() > 0)
