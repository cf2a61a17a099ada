"""torch.nn for gradscope: Module, Parameter, layers, containers, losses, functional and init.

>>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
>>> loss = nn.MSELoss()(model(gradscope.randn(8, 4)), gradscope.zeros(8, 1))
>>> loss.backward()
"""

from gradscope.nn import functional, init
from gradscope.nn.activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Tanh
from gradscope.nn.container import ModuleDict, ModuleList, Sequential
from gradscope.nn.linear import Flatten, Identity, Linear
from gradscope.nn.loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from gradscope.nn.module import Module
from gradscope.nn.parallel import DataParallel
from gradscope.nn.parameter import Buffer, Parameter

__all__ = [
    "BCEWithLogitsLoss", "Buffer", "CrossEntropyLoss", "DataParallel", "Flatten", "GELU", "Identity", "LeakyReLU",
    "Linear",
    "LogSoftmax", "MSELoss", "Module", "ModuleDict", "ModuleList", "NLLLoss", "Parameter", "ReLU", "Sequential", "SiLU",
    "Sigmoid", "Softmax", "Tanh", "functional", "init",
]
