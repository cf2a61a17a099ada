# Written after PyTorch's example gat/main.py (pytorch/examples, BSD-3-Clause), made small and in float64, with a
# random graph in place of Cora: the device picked through torch.accelerator, parameters made by torch.empty(size=...)
# and xavier_normal_, attention scores through .mT broadcasting, torch.where masking of non-edges, heads averaged or
# concatenated, Adam with weight decay, accuracy on index masks.
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim import Adam

torch.manual_seed(13)
use_accel = torch.accelerator.is_available()
device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")
print(f"Using {device} device")


class GraphAttentionLayer(nn.Module):
    def __init__(self, in_features, out_features, n_heads, concat=False, dropout=0.4, leaky_relu_slope=0.2):
        super().__init__()
        self.n_heads, self.concat, self.dropout = n_heads, concat, dropout
        self.out_features = out_features
        self.n_hidden = out_features // n_heads if concat else out_features
        self.W = nn.Parameter(torch.empty(size=(in_features, self.n_hidden * n_heads), dtype=torch.float64))
        self.a = nn.Parameter(torch.empty(size=(n_heads, 2 * self.n_hidden, 1), dtype=torch.float64))
        self.leakyrelu = nn.LeakyReLU(leaky_relu_slope)
        nn.init.xavier_normal_(self.W)
        nn.init.xavier_normal_(self.a)

    def forward(self, h, adj_mat):
        n_nodes = h.shape[0]
        h_transformed = F.dropout(torch.mm(h, self.W), self.dropout, training=self.training)
        h_transformed = h_transformed.view(n_nodes, self.n_heads, self.n_hidden).permute(1, 0, 2)
        source_scores = torch.matmul(h_transformed, self.a[:, :self.n_hidden, :])
        target_scores = torch.matmul(h_transformed, self.a[:, self.n_hidden:, :])
        e = self.leakyrelu(source_scores + target_scores.mT)
        e = torch.where(adj_mat > 0, e, -9e16 * torch.ones_like(e))
        attention = F.dropout(F.softmax(e, dim=-1), self.dropout, training=self.training)
        h_prime = torch.matmul(attention, h_transformed)
        if self.concat:
            return h_prime.permute(1, 0, 2).contiguous().view(n_nodes, self.out_features)
        return h_prime.mean(dim=0)


class GAT(nn.Module):
    def __init__(self, in_features, n_hidden, n_heads, num_classes, concat=False):
        super().__init__()
        self.gat1 = GraphAttentionLayer(in_features, n_hidden, n_heads, concat)
        self.gat2 = GraphAttentionLayer(n_hidden, num_classes, 1, False)

    def forward(self, input_tensor, adj_mat):
        return F.log_softmax(self.gat2(F.elu(self.gat1(input_tensor, adj_mat)), adj_mat), dim=1)


def test(model, criterion, input, target, mask):
    model.eval()
    with torch.no_grad():
        output = model(*input)
        output, target = output[mask], target[mask]
        loss = criterion(output, target)
        acc = (output.argmax(dim=1) == target).float().sum() / len(target)
    return loss.item(), acc.item()


rng = np.random.default_rng(0)
nodes, features_dim, classes = 24, 10, 3
features = torch.FloatTensor(rng.integers(0, 2, (nodes, features_dim)).astype(np.int32)).double().to(device)
labels = torch.LongTensor(rng.integers(0, classes, nodes)).to(device)
edges = torch.from_numpy(rng.integers(0, nodes, (2, 50)))
adj_mat = torch.eye(nodes)
adj_mat.index_put_((edges[0], edges[1]), torch.ones(50), accumulate=True)
idx = torch.randperm(len(labels))
idx_test, idx_val, idx_train = idx[:6], idx[6:12], idx[12:]
for concat in (False, True):
    model = GAT(features_dim, 8, 4, labels.max().item() + 1, concat).to(device)
    optimizer = Adam(model.parameters(), lr=0.005, weight_decay=5e-4)
    criterion = nn.NLLLoss()
    for epoch in range(3):
        model.train()
        optimizer.zero_grad()
        loss = criterion(model(features, adj_mat)[idx_train], labels[idx_train])
        loss.backward()
        optimizer.step()
        loss_val, acc_val = test(model, criterion, (features, adj_mat), labels, idx_val)
        print(f"concat {concat} epoch {epoch:04d} loss_train: {loss.item():.12f} loss_val: {loss_val:.12f} "
              f"acc_val: {acc_val:.4f}")
    print(test(model, criterion, (features, adj_mat), labels, idx_test))
