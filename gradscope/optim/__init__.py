"""torch.optim for gradscope: the Optimizer base class and SGD.

>>> opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
>>> opt.zero_grad(); loss.backward(); opt.step()
"""

from gradscope.optim.optimizer import Optimizer
from gradscope.optim.sgd import SGD

__all__ = ["SGD", "Optimizer"]
