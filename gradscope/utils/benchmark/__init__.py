"""`torch.utils.benchmark`: Timer and Measurement, as tutorials use them to compare two ways of computing a thing
(`Timer(stmt, setup, globals=...).timeit(n)` or `.blocked_autorange()`, then print the Measurement or read its
`times`, `mean`, `median`). Python statements only; the C++ timer, callgrind, Compare's tables and the fuzzers are
not implemented."""

from gradscope.utils.benchmark.measurement import Measurement, TaskSpec, select_unit
from gradscope.utils.benchmark.timer import Language, Timer, timer

__all__ = ["Language", "Measurement", "TaskSpec", "Timer", "select_unit", "timer"]
