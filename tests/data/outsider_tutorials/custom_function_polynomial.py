# Written after PyTorch's tutorial "Learning PyTorch with Examples" (pytorch/tutorials, beginner_source/examples_*:
# polynomial_tensor.py, polynomial_autograd.py, polynomial_custom_function.py, polynomial_nn.py, polynomial_optim.py,
# dynamic_net.py; BSD-3-Clause), made small and in float64: gradients by hand, by autograd with in-place updates
# under no_grad, through a custom Function (Legendre P3), nn.Sequential with Flatten(0, 1) over x.unsqueeze(-1).pow(p),
# RMSprop, and a module whose depth changes each call.
import math
import random

import torch

torch.manual_seed(0)
random.seed(0)
dtype = torch.float64
x = torch.linspace(-math.pi, math.pi, 200, dtype=dtype)
y = torch.sin(x)

a, b, c, d = (torch.randn((), dtype=dtype) for _ in range(4))
for t in range(60):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum().item()
    grad_y_pred = 2.0 * (y_pred - y)
    a -= 1e-6 * grad_y_pred.sum()
    b -= 1e-6 * (grad_y_pred * x).sum()
    c -= 1e-6 * (grad_y_pred * x ** 2).sum()
    d -= 1e-6 * (grad_y_pred * x ** 3).sum()
print(f"by hand: {loss:.10f}, y = {a.item():.10f} + {b.item():.10f} x + {c.item():.10f} x^2 + {d.item():.10f} x^3")

a, b, c, d = (torch.randn((), dtype=dtype, requires_grad=True) for _ in range(4))
for t in range(60):
    loss = (a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum()
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= 1e-6 * p.grad
            p.grad = None
print(f"autograd: {loss.item():.10f}, {a.item():.10f} {b.item():.10f} {c.item():.10f} {d.item():.10f}")


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


a, b = torch.full((), 0.0, dtype=dtype, requires_grad=True), torch.full((), -1.0, dtype=dtype, requires_grad=True)
c, d = torch.full((), 0.0, dtype=dtype, requires_grad=True), torch.full((), 0.3, dtype=dtype, requires_grad=True)
for t in range(60):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= 5e-6 * p.grad
            p.grad = None
print(f"Legendre: {loss.item():.10f}", y_pred.grad_fn.name(), [type(f).__name__ for f, _ in y_pred.grad_fn.next_functions])

p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)
print(xx.shape, xx.dtype)
model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1)).double()
loss_fn = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
for t in range(60):
    loss = loss_fn(model(xx), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
linear_layer = model[0]
print(f"Result: y = {linear_layer.bias.item():.10f} + {linear_layer.weight[:, 0].item():.10f} x + "
      f"{linear_layer.weight[:, 1].item():.10f} x^2 + {linear_layer.weight[:, 2].item():.10f} x^3")


class DynamicNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.c, self.d, self.e = (torch.nn.Parameter(torch.randn((), dtype=dtype)) for _ in range(5))

    def forward(self, x):
        y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
        for exp in range(4, random.randint(4, 6)):
            y = y + self.e * x ** exp
        return y

    def string(self):
        return f"y = {self.a.item():.10f} + {self.b.item():.10f} x + ... + {self.e.item():.10f} x^4 ? + x^5 ?"


model = DynamicNet()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
for t in range(60):
    loss = torch.nn.MSELoss(reduction="sum")(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f"dynamic: {loss.item():.10f}", model.string())
