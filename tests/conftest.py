"""Shared test helper: run one snippet on gradscope and on real PyTorch and compare what a user observes.

A snippet is Python source that refers to the library as `torch`. `oracle.check(source, stdout=..., error=...)`
runs it on gradscope and checks the literal expectations (taken from torch 2.13); when torch is installed it also
runs the snippet on torch, checks the same literals there (so a wrong literal is caught) and requires gradscope's
printed output, exception and warnings to equal torch's.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import sys
import textwrap
import warnings
from dataclasses import dataclass
from types import ModuleType

import pytest
from hypothesis import settings

import gradscope

# One thread for PyTorch's and the BLAS's pools, here and in every script a test starts: the suite runs one worker
# per core (pytest-xdist, see pyproject), and a second OpenMP thread per process only spins against the other
# workers (a torch script's CPU time tripled on a loaded machine). Set before anything imports torch.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

_TERMINAL = ("COLUMNS", "LINES")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """pytest-xdist starts its workers with COLUMNS=80 and LINES=24 set: pass them this process's values, so that
    what a test's scripts and CLI runs print is wrapped as it is without workers."""
    node.workerinput["terminal"] = {name: os.environ.get(name) for name in _TERMINAL}


def pytest_configure(config):
    for name, value in getattr(config, "workerinput", {}).get("terminal", {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_TRIGGERED = re.compile(r"\s*\(Triggered internally at [^)]*\)\.?")


def normalize(text: str) -> str:
    """Drop what legitimately differs between two runs: object addresses and C++ source locations."""
    return _TRIGGERED.sub("", _ADDRESS.sub(" at 0x...", text))


@functools.cache
def reference_torch() -> ModuleType | None:
    """Real PyTorch when installed (imported on first use), else None: the literals still run without it."""
    try:
        import torch
    except ImportError:
        return None
    return torch


@dataclass(frozen=True)
class Outcome:
    """What a user sees from a snippet: printed text, the exception (`"Type: message"`), the warnings."""

    stdout: str
    error: str | None
    warnings: tuple[str, ...]


# Property tests draw the same examples on every run, so that a green suite stays green (CI included) and a
# failure reproduces; `GRADSCOPE_HYPOTHESIS=explore` draws fresh random ones, more of them, to look for bugs.
# No example has a time limit (hypothesis' default is 200 ms): on a loaded machine a correct test went over it, and
# timings belong in bench/, not in tests.
settings.register_profile("repeatable", derandomize=True, deadline=None)
settings.register_profile("explore", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("GRADSCOPE_HYPOTHESIS", "repeatable"))


@contextlib.contextmanager
def _defaults_kept(module: ModuleType):
    """Library-wide defaults a snippet sets (`set_default_dtype`, `set_default_device`) end with it. PyTorch's
    default device is a global function mode: left on, it adds its frame to later tracebacks and sends F.l1_loss
    with a weight down another path, so tests would depend on the order they run in."""
    dtype = module.get_default_dtype()
    try:
        yield
    finally:
        module.set_default_dtype(dtype)
        module.set_default_device(None)


def run_snippet(module: ModuleType, source: str, env: dict | None = None) -> Outcome:
    """Execute `source` with `torch` bound to `module`; capture stdout, the exception and every warning."""
    namespace = {"__name__": "__main__", "torch": module, **(env or {})}
    stdout = io.StringIO()
    error = None
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(stdout), _defaults_kept(module):
        warnings.simplefilter("always")
        try:
            exec(compile(textwrap.dedent(source), "<snippet>", "exec"), namespace)
        except Exception as exc:  # the exception is the observable being compared
            error = normalize(f"{type(exc).__name__}: {exc}")
    seen = tuple(normalize(f"{w.category.__name__}: {w.message}") for w in caught)
    return Outcome(normalize(stdout.getvalue()), error, seen)


class Oracle:
    """Runs snippets on gradscope (always) and torch (when installed)."""

    def check(
        self,
        source: str,
        *,
        stdout: str | None = None,
        error: str | None = None,
        warns: tuple[str, ...] | None = None,
        env: dict | None = None,
        compare: bool = True,
    ) -> Outcome:
        """Run `source` on both libraries; assert the literals on each, then gradscope == torch.

        `error=None` means the snippet must not raise. `warns` (when given) is the exact tuple of warnings.
        `compare=False` skips the full gradscope == torch comparison (for snippets printing random values).
        """
        theirs = None
        torch = reference_torch()
        if torch is not None:
            theirs = run_snippet(torch, source, env)
            self._assert_literals(theirs, "torch", stdout, error, warns)
        ours = run_snippet(gradscope, source, env)
        if theirs is not None and compare:
            assert ours == theirs, "gradscope's outcome differs from torch's"
        self._assert_literals(ours, "gradscope", stdout, error, warns)
        return ours

    @staticmethod
    def _assert_literals(outcome: Outcome, who: str, stdout, error, warns) -> None:
        assert outcome.error == error, f"{who} raised {outcome.error!r}"
        if stdout is not None:
            assert outcome.stdout == textwrap.dedent(stdout).lstrip("\n"), f"{who} printed differently"
        if warns is not None:
            assert outcome.warnings == warns, f"{who} warned differently"


@pytest.fixture
def oracle() -> Oracle:
    """The snippet runner/comparator (see the module docstring)."""
    return Oracle()


@pytest.fixture(autouse=True)
def _global_modes_restored():
    """Every test leaves gradscope's and PyTorch's global modes as it found them, so that no test depends on the
    order tests run in: the default dtype is float32 and gradients are enabled."""
    yield
    for library in (gradscope, sys.modules.get("torch")):
        if library is not None:
            name = library.__name__
            assert library.get_default_dtype() == library.float32, f"a test left {name}'s default dtype changed"
            assert library.is_grad_enabled(), f"a test left {name}'s gradients disabled"
