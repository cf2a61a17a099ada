"""L-BFGS, as torch.optim.LBFGS: a step of `lr` along each direction, or (`line_search_fn="strong_wolfe"`) the step a
line search satisfying the strong Wolfe conditions finds (bracketing, then zooming by cubic interpolation, as
minFunc and PyTorch do, with their constants and safeguards)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from gradscope.autograd.grad_mode import enable_grad, no_grad
from gradscope.autograd.shape_functions import cat
from gradscope.autograd.tensor import Tensor
from gradscope.optim.optimizer import Optimizer


class LBFGS(Optimizer):
    """Quasi-Newton steps from the last `history_size` gradient differences (the two-loop recursion), up to
    `max_iter` iterations per `step(closure)`; the closure recomputes the loss and its gradients.

    >>> opt = optim.LBFGS([image], lr=1)
    >>> def closure():
    ...     opt.zero_grad(); loss = criterion(model(image)); loss.backward(); return loss
    >>> opt.step(closure)
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float | Tensor = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn: str | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {"lr": lr, "max_iter": max_iter, "max_eval": max_eval, "tolerance_grad": tolerance_grad,
                    "tolerance_change": tolerance_change, "history_size": history_size,
                    "line_search_fn": line_search_fn}
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _gather_flat_grad(self) -> Tensor:
        return cat([p.new_zeros(p.numel()) if p.grad is None else p.grad.reshape(-1) for p in self._params], 0)

    def _add_grad(self, step_size: float, update: Tensor) -> None:
        offset = 0
        for p in self._params:
            numel = p.numel()
            p.add_(update[offset:offset + numel].view_as(p), alpha=step_size)
            offset += numel

    def step(self, closure: Callable):
        """Up to `max_iter` L-BFGS iterations; returns the loss the closure gave first."""
        if len(self.param_groups) != 1:
            raise AssertionError(f"Expected exactly one param_group, but got {len(self.param_groups)}")
        group = self.param_groups[0]
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise RuntimeError("only 'strong_wolfe' is supported")
        with no_grad():
            return self._iterate(closure, group)

    def _iterate(self, closure: Callable, group: dict):
        lr = float(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        def evaluate():
            with enable_grad():
                return closure()

        orig_loss = evaluate()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if float(flat_grad.abs().max()) <= tolerance_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag = state.get("H_diag")  # noqa: N806 - the inverse Hessian's diagonal scale, as in the literature
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = flat_grad.neg()
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1  # noqa: N806
            else:
                y = flat_grad.sub(prev_flat_grad)
                s = d.mul(t)
                ys = y.dot(s)
                if float(ys) > 1e-10:  # the curvature condition: keep the pair
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)  # noqa: N806
                alphas = [None] * len(old_dirs)
                q = flat_grad.neg()
                for i in range(len(old_dirs) - 1, -1, -1):
                    alphas[i] = old_stps[i].dot(q) * ro[i]
                    q.add_(old_dirs[i], alpha=-float(alphas[i]))
                d = r = q.mul(H_diag)
                for i in range(len(old_dirs)):
                    beta = old_dirs[i].dot(r) * ro[i]
                    r.add_(old_stps[i], alpha=float(alphas[i] - beta))
            prev_flat_grad = flat_grad.clone()
            prev_loss = loss
            # the first step's length: lr / |g|₁ (at most lr), a 0-dim tensor in the gradient's dtype, as PyTorch's
            t = min(1.0, 1.0 / flat_grad.abs().sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)  # NOTE: a 0-dim tensor: the line search computes in the parameters' dtype
            if float(gtd) > -tolerance_change:  # not a descent direction
                break
            if group["line_search_fn"] is not None:
                start = [p.clone() for p in self._params]
                loss, flat_grad, t, evaluations = _strong_wolfe(
                    functools.partial(self._evaluate_at, evaluate, start, direction=d), t, d, loss, flat_grad,
                    gtd, tolerance_change)
                self._add_grad(t, d)
                done = float(flat_grad.abs().max()) <= tolerance_grad
            else:
                self._add_grad(t, d)
                evaluations, done = 0, False
                if n_iter != max_iter:
                    loss = float(evaluate())
                    flat_grad = self._gather_flat_grad()
                    evaluations = 1
                    done = float(flat_grad.abs().max()) <= tolerance_grad
            current_evals += evaluations
            state["func_evals"] += evaluations
            if n_iter == max_iter or current_evals >= max_eval or done:
                break
            if float(d.mul(t).abs().max()) <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    def _evaluate_at(self, evaluate: Callable, start: list, step, direction: Tensor) -> tuple:
        """The loss and flat gradient at start + step · direction; the parameters are put back to `start`."""
        self._add_grad(step, direction)
        loss = float(evaluate())
        flat_grad = self._gather_flat_grad()
        for p, value in zip(self._params, start):
            p.copy_(value)
        return loss, flat_grad


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimizer, within `bounds` (by default the two points' interval), of the cubic through two points with
    their values and slopes; the interval's middle when that cubic has no minimum."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square.sqrt()
        if x1 <= x2:
            position = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            position = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(position, low), high)
    return (low + high) / 2.0


def _strong_wolfe(objective: Callable, t, d: Tensor, f: float, g: Tensor, gtd: Tensor, tolerance_change: float,
                  c1: float = 1e-4, c2: float = 0.9, max_ls: int = 25) -> tuple:
    """A step t along d meeting the strong Wolfe conditions (sufficient decrease c1, curvature c2): extend the step
    until an interval holds one, then shrink the interval. Returns (loss, flat gradient, t, evaluations)."""
    d_norm = d.abs().max()
    g = g.clone()
    f_new, g_new = objective(t)
    evaluations = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):  # too far: the minimum is behind
            bracket, values = [t_prev, t], [f_prev, f_new]
            grads, slopes = [g_prev, g_new.clone()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:  # both conditions hold
            bracket, values, grads = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:  # past the minimum
            bracket, values = [t_prev, t], [f_prev, f_new]
            grads, slopes = [g_prev, g_new.clone()], [gtd_prev, gtd_new]
            break
        # further: a step between 1.01 t and 10 t, where the cubic through the last two points is lowest
        previous = t
        t = _cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = previous, f_new, g_new.clone(), gtd_new
        f_new, g_new = objective(t)
        evaluations += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, values, grads = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket around the minimum, its low end the lower loss
    insufficient = False
    low, high = (0, 1) if values[0] <= values[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_minimum(bracket[0], values[0], slopes[0], bracket[1], values[1], slopes[1])
        # NOTE: a step too close to an end of the bracket (within a tenth of it) moves inside, unless the last
        # such step made progress
        margin = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < margin:
            if insufficient or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - margin if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + margin
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, g_new = objective(t)
        evaluations += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= values[low]:
            bracket[high], values[high], grads[high], slopes[high] = t, f_new, g_new.clone(), gtd_new
            low, high = (0, 1) if values[0] <= values[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:  # the minimum is on the low end's other side
                bracket[high], values[high], grads[high], slopes[high] = (bracket[low], values[low], grads[low],
                                                                          slopes[low])
            bracket[low], values[low], grads[low], slopes[low] = t, f_new, g_new.clone(), gtd_new
    return values[low], grads[low], bracket[low], evaluations
