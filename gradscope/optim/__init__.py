"""torch.optim for gradscope: the Optimizer base class, the optimizers and `lr_scheduler`.

>>> opt = optim.Adam(model.parameters(), lr=1e-3)
>>> opt.zero_grad(); loss.backward(); opt.step()
"""

from gradscope.optim import lr_scheduler, swa_utils
from gradscope.optim.adadelta import Adadelta
from gradscope.optim.adafactor import Adafactor
from gradscope.optim.adagrad import Adagrad
from gradscope.optim.adam import Adam
from gradscope.optim.adamax import Adamax
from gradscope.optim.adamw import AdamW
from gradscope.optim.asgd import ASGD
from gradscope.optim.lbfgs import LBFGS
from gradscope.optim.nadam import NAdam
from gradscope.optim.optimizer import Optimizer
from gradscope.optim.radam import RAdam
from gradscope.optim.rmsprop import RMSprop
from gradscope.optim.rprop import Rprop
from gradscope.optim.sgd import SGD
from gradscope.optim.sparse_adam import SparseAdam

__all__ = ["ASGD", "LBFGS", "SGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "Optimizer",
           "RAdam", "RMSprop", "Rprop", "SparseAdam", "lr_scheduler", "swa_utils"]
