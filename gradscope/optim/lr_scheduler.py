"""torch.optim.lr_scheduler: learning-rate schedules that rewrite each param group's "lr".

Each `step()` computes the next rates from the current ones (PyTorch's "chainable" form, so the
float sequences equal PyTorch's); `step(epoch)` uses the closed form where one exists.

>>> scheduler = lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
>>> for epoch in range(100):
...     train(...); opt.step(); scheduler.step()
"""

from gradscope.optim._lr_adaptive import ChainedScheduler, OneCycleLR, ReduceLROnPlateau, SequentialLR
from gradscope.optim._lr_cyclic import CyclicLR
from gradscope.optim._lr_schedules import (
    EPOCH_DEPRECATION_WARNING,
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)

__all__ = ["EPOCH_DEPRECATION_WARNING", "ChainedScheduler", "ConstantLR", "CosineAnnealingLR",
           "CosineAnnealingWarmRestarts", "CyclicLR", "ExponentialLR", "LRScheduler", "LambdaLR", "LinearLR",
           "MultiStepLR", "MultiplicativeLR", "OneCycleLR", "PolynomialLR", "ReduceLROnPlateau", "SequentialLR",
           "StepLR"]
