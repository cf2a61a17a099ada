# Spatial transformer networks, after PyTorch's tutorial (made small: synthetic digits, CPU, a few steps).
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=5)
        self.conv2 = nn.Conv2d(4, 8, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(8 * 4 * 4, 16)
        self.fc2 = nn.Linear(16, 10)

        # Spatial transformer localization-network
        self.localization = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=7),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
            nn.Conv2d(4, 6, kernel_size=5),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True)
        )

        # Regressor for the 3 * 2 affine matrix
        self.fc_loc = nn.Sequential(
            nn.Linear(6 * 3 * 3, 16),
            nn.ReLU(True),
            nn.Linear(16, 3 * 2)
        )

        # Initialize the weights/bias with identity transformation
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    # Spatial transformer network forward function
    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 6 * 3 * 3)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)

        grid = F.affine_grid(theta, x.size(), align_corners=False)
        x = F.grid_sample(x, grid, align_corners=False)

        return x

    def forward(self, x):
        # transform the input
        x = self.stn(x)

        # Perform the usual forward pass
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 8 * 4 * 4)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


model = Net()
optimizer = optim.SGD(model.parameters(), lr=0.05)
data = torch.randn(64, 1, 28, 28)
target = torch.randint(0, 10, (64,))

for epoch in range(1, 3):
    model.train()
    for batch_idx in range(2):
        x = data[batch_idx * 32:(batch_idx + 1) * 32]
        y = target[batch_idx * 32:(batch_idx + 1) * 32]
        optimizer.zero_grad()
        output = model(x)
        loss = F.nll_loss(output, y)
        loss.backward()
        optimizer.step()
        print('Train Epoch: {} [{}/{}]\tLoss: {:.6f}'.format(epoch, batch_idx * 32, 64, loss.item()))

with torch.no_grad():
    model.eval()
    test_loss = 0
    correct = 0
    output = model(data)
    test_loss += F.nll_loss(output, target, reduction='sum').item()
    pred = output.max(1, keepdim=True)[1]
    correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= 64
    print('Test set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)'.format(test_loss, correct, 64, 100. * correct / 64))
    transformed = model.stn(data[:2]).cpu()
    print(transformed.shape, transformed.dtype)
    print(model.fc_loc[2].bias)

# Theta gradient through grid_sample, checked the way one would by hand
theta = torch.tensor([[[0.9, 0.1, 0.0], [-0.1, 0.8, 0.05]]], requires_grad=True)
img = torch.randn(1, 1, 6, 6)
out = F.grid_sample(img, F.affine_grid(theta, (1, 1, 6, 6), align_corners=True), align_corners=True,
                    padding_mode='border', mode='bilinear')
out.sum().backward()
print(out.grad_fn.name(), theta.grad)
