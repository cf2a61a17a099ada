"""Timer: times a Python statement with `timeit`, in blocks of runs, after its setup, as PyTorch's Timer does
(`torch` is in the statement's globals unless given)."""

from __future__ import annotations

import contextlib
import enum
import textwrap
import timeit
from collections.abc import Callable, Iterator

import numpy as np

import gradscope
from gradscope.utils.benchmark.measurement import Measurement, TaskSpec

timer = timeit.default_timer  # the CPU has nothing to synchronise


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    before = gradscope.get_num_threads()
    try:
        gradscope.set_num_threads(n)
        yield
    finally:
        gradscope.set_num_threads(before)


def _dedented(source: str) -> str:
    source = textwrap.dedent(source)
    return (source[1:] if source.startswith("\n") else source).rstrip()


class Timer:
    """Times `stmt` after running `setup` once, in the namespace `globals`.

    >>> Timer("x * 2", setup="x = torch.ones(3)").timeit(100).number_per_run
    100
    """

    def __init__(self, stmt: str = "pass", setup: str = "pass", global_setup: str = "",
                 timer: Callable[[], float] = timer, globals: dict | None = None, label: str | None = None,
                 sub_label: str | None = None, description: str | None = None, env: str | None = None,
                 num_threads: int = 1, language: Language | str = Language.PYTHON) -> None:
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if language not in (Language.PYTHON, "py", "python"):
            if language in (Language.CPP, "cpp", "c++"):
                raise NotImplementedError("gradscope's Timer times Python statements only")
            raise ValueError(f"Invalid language `{language}`.")
        if global_setup:
            raise ValueError(f"global_setup is C++ only, got `{global_setup}`. Most likely this code can simply be "
                             "moved to `setup`.")
        namespace = dict(globals or {})
        namespace.setdefault("torch", gradscope)
        stmt, setup = _dedented(stmt), _dedented(setup)
        self._timer = timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=namespace)
        self._task_spec = TaskSpec(stmt=stmt, setup=setup, global_setup=global_setup, label=label,
                                   sub_label=sub_label, description=description, env=env, num_threads=num_threads)

    def _timeit(self, number: int) -> float:
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number: int = 1000000) -> Measurement:
        """One block of `number` runs, after a warm-up of a hundredth as many (at least 2)."""
        with _threads(self._task_spec.num_threads):
            self._timeit(number=max(number // 100, 2))
            return Measurement(number_per_run=number, raw_times=[self._timeit(number)], task_spec=self._task_spec)

    def repeat(self, repeat: int = -1, number: int = -1) -> None:
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback=None) -> None:
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _block_size(self, min_run_time: float) -> int:
        """Runs per block: powers of ten until the timer's own overhead is under 0.01% of a block that takes at
        least a thousandth of `min_run_time` (or a block takes all of it)."""
        with _threads(self._task_spec.num_threads):
            overhead = float(np.median([self._timeit(0) for _ in range(5)]))
            number = 1
            while True:
                taken = self._timeit(number)
                if (overhead / taken <= 1e-4 and taken >= min_run_time / 1000) or taken > min_run_time:
                    return number
                if number * 10 > 2147483647:
                    return number
                number *= 10

    def _blocks(self, number: int, min_run_time: float, callback, enough: Callable[[list[float]], bool],
                max_run_time: float | None = None) -> list[float]:
        """Blocks of `number` runs until `min_run_time` has passed and `enough` says so (or `max_run_time`)."""
        times: list[float] = []
        total, can_stop = 0.0, False
        with _threads(self._task_spec.num_threads):
            while total < min_run_time or not can_stop:
                taken = self._timeit(number)
                times.append(taken)
                total += taken
                if callback:
                    callback(number, taken)
                can_stop = enough(times)
                if max_run_time and total > max_run_time:
                    break
        return times

    def blocked_autorange(self, callback=None, min_run_time: float = 0.2) -> Measurement:
        """Blocks of runs (sized so the timer's overhead is negligible) for at least `min_run_time` seconds."""
        number = self._block_size(min_run_time)
        times = self._blocks(number, min_run_time, callback, lambda times: True)
        return Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01, max_run_time: float = 10.0,
                           callback=None) -> Measurement:
        """As blocked_autorange, then on until the interquartile range is under `threshold` of the median (over
        at least four blocks) or `max_run_time` has passed."""
        number = self._block_size(min_run_time=0.05)

        def steady(times: list[float]) -> bool:
            return len(times) > 3 and Measurement(number, times, self._task_spec).meets_confidence(threshold)

        times = self._blocks(number, min_run_time, callback, steady, max_run_time)
        return Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)
