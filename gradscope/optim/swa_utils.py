"""torch.optim.swa_utils: stochastic weight averaging and exponential moving averages of a model's weights
(AveragedModel), the SWA learning-rate schedule (SWALR) and update_bn, which recomputes batch-norm statistics
for the averaged weights.

>>> swa_model = AveragedModel(model)
>>> ema_model = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.999))
>>> swa_model.update_parameters(model)   # after each epoch (or step) of training
"""

from __future__ import annotations

import copy
import itertools
import math
import warnings
from collections.abc import Callable, Iterable
from typing import Any, Literal

import gradscope
from gradscope.autograd.grad_mode import no_grad
from gradscope.autograd.tensor import Tensor
from gradscope.nn.module import Module
from gradscope.nn.normalization import _BatchNorm
from gradscope.optim._lr_schedules import LRScheduler, _per_group
from gradscope.optim.optimizer import Optimizer

__all__ = ["SWALR", "AveragedModel", "get_ema_avg_fn", "get_ema_multi_avg_fn", "get_swa_avg_fn",
           "get_swa_multi_avg_fn", "update_bn"]


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay: float = 0.999):
    """An exponential moving average over lists of tensors: ema ← lerp(ema, current, 1 − decay)."""
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _) -> None:
        with no_grad():
            if ema_param_list[0].is_floating_point() or ema_param_list[0].is_complex():
                for ema, current in zip(ema_param_list, current_param_list, strict=True):
                    ema.lerp_(current, 1 - decay)
            else:
                for ema, current in zip(ema_param_list, current_param_list, strict=True):
                    ema.copy_(ema * decay + current * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """The running mean over lists of tensors: averaged ← lerp(averaged, current, 1 / (n + 1))."""
    def swa_update(averaged_param_list, current_param_list, num_averaged) -> None:
        with no_grad():
            if averaged_param_list[0].is_floating_point() or averaged_param_list[0].is_complex():
                for averaged, current in zip(averaged_param_list, current_param_list, strict=True):
                    averaged.lerp_(current, float(1 / (num_averaged + 1)))
            else:
                for averaged, current in zip(averaged_param_list, current_param_list, strict=True):
                    difference = current - averaged
                    if isinstance(num_averaged, Tensor):
                        averaged.addcdiv_(difference, num_averaged + 1)
                    else:
                        averaged.add_(difference, alpha=1.0 / (num_averaged + 1))
    return swa_update


def get_ema_avg_fn(decay: float = 0.999):
    """An exponential moving average of one tensor: decay · ema + (1 − decay) · current."""
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged) -> Tensor:
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """The running mean of one tensor: averaged + (current − averaged) / (n + 1)."""
    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged) -> Tensor:
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


def _by_dtype(averaged: list, current: list) -> list[tuple[list, list]]:
    """The pairs grouped by dtype, groups in order of first appearance (PyTorch groups by device and dtype)."""
    groups: dict = {}
    for a, c in zip(averaged, current, strict=True):
        group = groups.setdefault(a.dtype, ([], []))
        group[0].append(a)
        group[1].append(c)
    return list(groups.values())


class AveragedModel(Module):
    """A copy of `model` whose parameters (and, with use_buffers, buffers) are an average of the model's over
    the calls to update_parameters: the running mean by default (SWA), or avg_fn / multi_avg_fn's (EMA)."""

    def __init__(self, model: Module, device=None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", gradscope.tensor(0, dtype=gradscope.long))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold `model`'s current weights into the average (the first call copies them)."""
        if self.use_buffers:
            own = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = itertools.chain(model.parameters(), model.buffers())
        else:
            own, theirs = self.parameters(), model.parameters()
        averaged, current = [], []
        first = bool(self.n_averaged == 0)
        for p_averaged, p_model in zip(own, theirs, strict=False):
            averaged.append(p_averaged.detach())
            current.append(p_model.detach())
            if first:
                p_averaged.detach().copy_(p_model.detach())
        if self.n_averaged > 0:
            if self.avg_fn is None:
                for group_averaged, group_current in _by_dtype(averaged, current):
                    if self.multi_avg_fn is not None:
                        self.multi_avg_fn(group_averaged, group_current, self.n_averaged)
                    else:  # on the CPU PyTorch takes the one-tensor running mean, not its foreach form
                        average = get_swa_avg_fn()
                        for p_averaged, p_model in zip(group_averaged, group_current, strict=True):
                            p_averaged.copy_(average(p_averaged, p_model, self.n_averaged))
            else:
                for p_averaged, p_model in zip(averaged, current, strict=True):
                    p_averaged.copy_(self.avg_fn(p_averaged, p_model, self.n_averaged))
        if not self.use_buffers:
            with no_grad():
                for b_swa, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                    b_swa.copy_(b_model.detach())
        with no_grad():
            self.n_averaged += 1


def update_bn(loader: Iterable[Any], model: Module, device=None) -> None:
    """One pass over `loader` in training mode to recompute every batch norm's running statistics as a plain
    average (momentum None), for weights that were averaged rather than trained."""
    with no_grad():
        momenta = {}
        for module in model.modules():
            if isinstance(module, _BatchNorm):
                module.reset_running_stats()
                momenta[module] = module.momentum
        if not momenta:
            return
        was_training = model.training
        model.train()
        for module in momenta:
            module.momentum = None
        for input in loader:
            if isinstance(input, (list, tuple)):
                input = input[0]
            if device is not None:
                input = input.to(device)
            model(input)
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to swa_lr over anneal_epochs ('cos' or 'linear'), then hold it.

    >>> swa_scheduler = SWALR(opt, swa_lr=0.05, anneal_epochs=5)
    """

    def __init__(self, optimizer: Optimizer, swa_lr: float | list[float], anneal_epochs: int = 10,
                 anneal_strategy: Literal["cos", "linear"] = "cos", last_epoch: int = -1) -> None:
        for value, group in zip(_per_group("swa_lr", optimizer, swa_lr), optimizer.param_groups, strict=True):
            group["swa_lr"] = value
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        """The lr the annealing started from, recovered from the current one."""
        return swa_lr if alpha == 1 else (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list:
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                          UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        previous_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        previous = [self._get_initial_lr(group["lr"], group["swa_lr"], previous_alpha)
                    for group in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, previous, strict=True)]

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
