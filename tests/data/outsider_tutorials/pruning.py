# Pruning, written after PyTorch's tutorial (pytorch/tutorials intermediate_source/pruning_tutorial.py, BSD-3-Clause):
# LeNet's layers pruned at random, by L1 magnitude, by channel norms, iteratively, globally, with a custom method,
# then made permanent; and the rest of torch.nn.utils.prune (random channels, identity, masks given, prune(),
# importance scores, its errors). Small and on the CPU; run unchanged with PyTorch and with gradscope.
import torch
import torch.nn.functional as F
import torch.nn.utils.prune as prune
from torch import nn

torch.manual_seed(0)
class LeNet(nn.Module):
    def __init__(self):
        super(LeNet, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, 3)
        self.conv2 = nn.Conv2d(6, 16, 3)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, int(x.nelement() / x.shape[0]))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x
model = LeNet()
module = model.conv1
print(list(module.named_parameters()))
print(list(module.named_buffers()))
prune.random_unstructured(module, name="weight", amount=0.3)
print(list(module.named_parameters()))
print(list(module.named_buffers()))
print(module.weight)
print(len(module._forward_pre_hooks), type(list(module._forward_pre_hooks.values())[0]).__name__)
prune.l1_unstructured(module, name="bias", amount=3)
print(list(module.named_parameters()))
print(list(module.named_buffers()))
print(module.bias)
print(len(module._forward_pre_hooks))
prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
print(module.weight)
for hook in module._forward_pre_hooks.values():
    if hook._tensor_name == "weight":
        break
print([type(h).__name__ for h in hook], len(hook))
print(model.state_dict().keys())
print(list(module.named_parameters()))
print(list(module.named_buffers()))
print(module.weight)
prune.remove(module, 'weight')
print(list(module.named_parameters()))
print(list(module.named_buffers()))
new_model = LeNet()
for name, module in new_model.named_modules():
    if isinstance(module, torch.nn.Conv2d):
        prune.l1_unstructured(module, name='weight', amount=0.2)
    elif isinstance(module, torch.nn.Linear):
        prune.l1_unstructured(module, name='weight', amount=0.4)
print(dict(new_model.named_buffers()).keys())
model = LeNet()
parameters_to_prune = ((model.conv1, 'weight'), (model.conv2, 'weight'), (model.fc1, 'weight'), (model.fc2, 'weight'), (model.fc3, 'weight'))
prune.global_unstructured(parameters_to_prune, pruning_method=prune.L1Unstructured, amount=0.2)
for name, m in [("conv1", model.conv1), ("conv2", model.conv2), ("fc1", model.fc1), ("fc2", model.fc2), ("fc3", model.fc3)]:
    print("Sparsity in {}.weight: {:.2f}%".format(name, 100. * float(torch.sum(m.weight == 0)) / float(m.weight.nelement())))
print("Global sparsity: {:.2f}%".format(100. * float(sum(torch.sum(m.weight == 0) for m, _ in parameters_to_prune)) / float(sum(m.weight.nelement() for m, _ in parameters_to_prune))))
class FooBarPruningMethod(prune.BasePruningMethod):
    PRUNING_TYPE = 'unstructured'
    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask.view(-1)[::2] = 0
        return mask
def foobar_unstructured(module, name):
    FooBarPruningMethod.apply(module, name)
    return module
model = LeNet()
foobar_unstructured(model.fc3, name='bias')
print(model.fc3.bias_mask)
print(prune.is_pruned(model), prune.is_pruned(LeNet()))
out = model(torch.randn(2, 1, 28, 28))
out.sum().backward()
print(model.fc3.bias_orig.grad, model.fc3.bias.grad_fn.name())
# more: random_structured, identity, custom_from_mask, prune(), importance scores, errors
m = nn.Linear(4, 6)
prune.random_structured(m, "weight", amount=2, dim=0)
print(m.weight_mask)
prune.random_structured(m, "weight", amount=0.5, dim=1)
print(m.weight_mask)
prune.l1_unstructured(m, "weight", amount=0.25)
print(m.weight_mask.sum())
prune.ln_structured(m, "weight", amount=1, n=float("inf"), dim=-1)
print(m.weight_mask)
m2 = nn.Linear(3, 2)
prune.identity(m2, "bias")
print(m2.bias_mask, list(m2.state_dict()))
prune.custom_from_mask(m2, "weight", mask=torch.tensor([[0, 1, 1], [1, 0, 1]]))
print(m2.weight)
prune.l1_unstructured(m2, "weight", amount=1, importance_scores=torch.arange(6.).view(2, 3))
print(m2.weight_mask)
print(prune.L1Unstructured(amount=2).prune(torch.tensor([3., -1., 2., 0.5])))
print(prune.RandomUnstructured(0.5).prune(torch.ones(4)))
for bad in [lambda: prune.l1_unstructured(nn.Linear(2, 2), "weight", amount=5),
            lambda: prune.l1_unstructured(nn.Linear(2, 2), "weight", amount=1.5),
            lambda: prune.l1_unstructured(nn.Linear(2, 2), "weight", amount=-1),
            lambda: prune.l1_unstructured(nn.Linear(2, 2), "weight", amount="a"),
            lambda: prune.ln_structured(nn.Linear(2, 2), "bias", amount=1, n=2, dim=0),
            lambda: prune.ln_structured(nn.Linear(2, 2), "weight", amount=1, n=2, dim=2),
            lambda: prune.remove(nn.Linear(2, 2), "weight"),
            lambda: prune.global_unstructured(3, prune.L1Unstructured, amount=1),
            lambda: prune.global_unstructured([(m2, "bias")], prune.RandomStructured, amount=1),
            lambda: prune.l1_unstructured(nn.Linear(2, 2), "nope", amount=1)]:
    try:
        bad()
        print("no error")
    except Exception as e:
        print(type(e).__name__, str(e).replace("gradscope.", "torch.")[:200])
m3 = nn.Linear(2, 2)
prune.l1_unstructured(m3, "weight", amount=1)
prune.remove(m3, "weight")
print(type(m3.weight).__name__, m3.weight.requires_grad, list(m3.state_dict()), prune.is_pruned(m3))
m4 = nn.Linear(5, 3)
prune.l1_unstructured(m4, "weight", amount=0.2)
prune.global_unstructured([(m4, "weight"), (m4, "bias")], pruning_method=prune.RandomUnstructured, amount=4)
print(m4.weight_mask, m4.bias_mask, [type(h).__name__ for h in m4._forward_pre_hooks.values()])
