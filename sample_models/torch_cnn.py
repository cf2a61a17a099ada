"""An unmodified PyTorch script: a small CNN with batch norm and dropout classifying 8×8 images.

    gradscope inspect sample_models/torch_cnn.py      # runs on gradscope's engine; PyTorch is not needed
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class SmallCNN(nn.Module):
    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(8 * 2 * 2, classes)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.conv2(x)))
        return self.fc(self.dropout(torch.flatten(x, 1)))


model = SmallCNN()
model.eval()  # deterministic: batch norm uses its running statistics, dropout is off
images = torch.randn(6, 1, 8, 8)
labels = torch.tensor([0, 1, 2, 0, 1, 2])


def loss():
    return F.cross_entropy(model(images), labels)


if __name__ == "__main__":
    value = loss()
    value.backward()
    print(f"loss {value.item():.4f}")
