"""The PyTorch autograd tutorial, unchanged but for the import: a script with no entry function.

It shows what `backward()` does on a tiny graph: y = x + 2, z = 3·y², out = mean(z), and
d(out)/dx = 4.5 everywhere. gradscope runs it as `__main__` and records every backward it does.
"""

import gradscope as torch

x = torch.ones(2, 2, requires_grad=True)
print(x)

y = x + 2
print(y)
print(y.grad_fn)

z = y * y * 3
out = z.mean()
print(z, out)

out.backward()
print(x.grad)

with torch.no_grad():
    print((x**2).requires_grad)
