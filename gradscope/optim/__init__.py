"""torch.optim for gradscope: the Optimizer base class, the optimizers and `lr_scheduler`.

>>> opt = optim.Adam(model.parameters(), lr=1e-3)
>>> opt.zero_grad(); loss.backward(); opt.step()
"""

from gradscope._lazy import lazy_exports as _lazy_exports
from gradscope.optim.optimizer import Optimizer

# a script uses one or two of the optimizers: each loads on first use, as do the schedulers
__getattr__, __dir__ = _lazy_exports(
    __name__, globals(),
    submodules=("_lr_adaptive", "_lr_cyclic", "_lr_schedules", "_updates", "adadelta", "adafactor", "adagrad", "adam",
                "adamax", "adamw", "asgd", "lbfgs", "lr_scheduler", "nadam", "radam", "rmsprop", "rprop", "sgd",
                "sparse_adam", "swa_utils"),
    names={
        "gradscope.optim.adadelta": ("Adadelta",),
        "gradscope.optim.adafactor": ("Adafactor",),
        "gradscope.optim.adagrad": ("Adagrad",),
        "gradscope.optim.adam": ("Adam",),
        "gradscope.optim.adamax": ("Adamax",),
        "gradscope.optim.adamw": ("AdamW",),
        "gradscope.optim.asgd": ("ASGD",),
        "gradscope.optim.lbfgs": ("LBFGS",),
        "gradscope.optim.nadam": ("NAdam",),
        "gradscope.optim.radam": ("RAdam",),
        "gradscope.optim.rmsprop": ("RMSprop",),
        "gradscope.optim.rprop": ("Rprop",),
        "gradscope.optim.sgd": ("SGD",),
        "gradscope.optim.sparse_adam": ("SparseAdam",),
    },
)

__all__ = ["ASGD", "LBFGS", "SGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "Optimizer",
           "RAdam", "RMSprop", "Rprop", "SparseAdam", "lr_scheduler", "swa_utils"]
