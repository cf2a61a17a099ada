"""The training steps the rules look at.

An entry script is called `steps` times with an optimizer step between calls: the script's
`optimizer()` (a function returning an optimizer, or an optimizer object named `optimizer`), else
SGD over every parameter the script holds. A script run as `__main__` gives one step per backward
it performed. Each step is one backward pass of one `Trace`.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from dataclasses import dataclass
from pathlib import Path

from gradscope.optim import SGD, Optimizer
from gradscope.trace.model import Parameter, PassRecord, SourceLocation, TensorRecord, Trace
from gradscope.trace.recorder import Recorder, named_parameters
from gradscope.trace.script import DEFAULT_ENTRY, ScriptError, ScriptRun, call_entry, run_script, user_code


@dataclass
class Step:
    """One backward pass the rules judge: pass `pass_index` of `trace`, step `index` of the run."""

    index: int
    trace: Trace
    pass_index: int = 0

    @property
    def record(self) -> PassRecord:
        return self.trace.passes[self.pass_index]

    def grad(self, parameter: Parameter) -> TensorRecord | None:
        return self.trace.parameter_grad(parameter, self.pass_index)

    @functools.cached_property
    def parameters(self) -> list[Parameter]:
        """The parameters this pass is about: all of them, except the modules of a model that sat the pass
        out (none of its parameters got a gradient while another leaf did): a teacher trained before its
        student, the first of two models a script trains in turn, a GAN's generator in the discriminator's
        pass, every model in a pass about a tensor of the script's own (`theta.grad`). A model is the first
        part of its parameters' names (`teacher.fc.weight`)."""
        until = max(self.record.roots, default=-1)
        # a leaf first used after this pass's loss (theta made for a later check) is not this pass's
        present = [p for p in self.trace.parameters if p.node is None or p.node <= until]
        graded = [p for p in present if self.grad(p) is not None]
        if not graded:  # nothing got a gradient: everything was expected to
            return present
        trained = {_model(p) for p in graded if p.module is not None} or self._models_called()
        return [p for p in present if p.module is None or _model(p) in trained]

    def _models_called(self) -> set[str]:
        """The models whose ops this pass's forward ran (their nodes were made after the previous pass's
        loss): when only tensors of the script's own got a gradient, a model that ran and got none was cut
        off (`model(x).detach()`), one that didn't run sat the pass out."""
        passes = self.trace.passes
        after = max(passes[self.pass_index - 1].roots, default=-1) if self.pass_index > 0 else -1
        until = max(self.record.roots, default=-1)
        return {node.scope.partition(".")[0] for node in self.trace.nodes.values()
                if after < node.id <= until and node.scope}

    @property
    def first_uses(self) -> dict[int, SourceLocation]:
        """Node id → the user's line of the first op that used it (a leaf has no line of its own); one
        table for the whole trace, shared by its steps."""
        return self.trace.first_uses()


def _model(parameter: Parameter) -> str:
    return parameter.name.partition(".")[0]


@dataclass
class StepRun:
    """The script and the steps recorded from it."""

    run: ScriptRun
    steps: list[Step]

    @property
    def entry(self) -> str | None:
        return self.run.trace.meta.get("entry")


def _optimizer(run: ScriptRun, lr: float) -> Optimizer:
    found = run.namespace.get("optimizer")
    if isinstance(found, Optimizer):
        return found
    if callable(found):
        with user_code(run.path, "optimizer() raised {error}"):
            optimizer = found()
        if not isinstance(optimizer, Optimizer):
            raise ScriptError(f"{run.path}: optimizer() must return a gradscope.optim optimizer, "
                              f"got {type(optimizer).__name__}")
        return optimizer
    parameters = [tensor for _, _, tensor in named_parameters(run.namespace)]
    if not parameters:
        raise ScriptError(f"{run.path}: no parameters to train between steps (the script's globals hold no "
                          "module and no tensor that requires grad)")
    return SGD(parameters, lr=lr)


def _record_entry(run: ScriptRun, keep_values: int) -> Trace:
    name = run.trace.meta.get("entry") or DEFAULT_ENTRY
    recorder = Recorder(keep_values=keep_values)
    # the script's prints go to stderr, as on its first run, so --json output stays clean
    with contextlib.redirect_stdout(sys.stderr), recorder:
        result = call_entry(run.entry, run.path, name)
        with user_code(run.path, f"backward through {name}() failed"):
            result.backward()
    trace = recorder.finish(run.namespace)
    trace.meta.update(script=str(run.path), entry=name)
    return trace


def record_steps(script: str | Path, entry: str | None = None, steps: int = 1, lr: float = 0.01,
                 keep_values: int = 1 << 16) -> StepRun:
    """Run the script and record `steps` training steps (see the module docstring)."""
    run = run_script(script, entry, keep_values=keep_values)
    if run.entry is None:
        if steps > 1:
            raise ScriptError(f"{run.path}: --steps needs an entry function: the script defines no "
                              f"{entry or DEFAULT_ENTRY}() (a script run as __main__ gives one step per backward)")
        return StepRun(run, [Step(index, run.trace, index) for index in range(len(run.trace.passes))])
    recorded = [Step(0, run.trace)]
    if steps > 1:
        optimizer = _optimizer(run, lr)
        for index in range(1, steps):
            optimizer.step()
            optimizer.zero_grad()
            for _, _, tensor in named_parameters(run.namespace):  # also those the optimizer doesn't train
                tensor.grad = None
            recorded.append(Step(index, _record_entry(run, keep_values)))
    return StepRun(run, recorded)
