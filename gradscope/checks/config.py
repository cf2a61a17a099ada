"""Which rules `gradscope check` runs and with which thresholds: defaults, `[tool.gradscope.check]` in
pyproject.toml, then command-line flags (flags win).

    [tool.gradscope.check]
    rules = ["finite", "connected", "grad-norm"]
    grad-norm = ["model.encoder.*<=1e3", "*>=1e-8"]
    allow-nonfinite = ["model.attention.*"]
    steps = 3

Keys are the flags' names without the dashes in front; every value is checked, and a wrong one is a
`CheckConfigError` naming the key and where it came from. So is a wrong shape (a string where a list
belongs, a table where a number does, a `tool` or `tool.gradscope` that is not a table), a threshold
that is not a finite number, and a selection that would check nothing (`rules = []`, or grad-norm
selected with `grad-norm = []`): none of them may turn a check off while it still reports a pass.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, packaged as tomli
    import tomli as tomllib

RULES = ("finite", "connected", "nonzero", "grad-norm", "vanishing", "dead-units", "exploding", "gradcheck",
         "baseline")
# gradcheck costs finite differences, exploding needs several steps: both run when asked for
# (exploding also by default when --steps is 2 or more); baseline runs whenever a baseline file is given
DEFAULT_RULES = ("finite", "connected", "nonzero", "grad-norm", "vanishing", "dead-units")
SECTION = "tool.gradscope.check"
NOTHING_TO_CHECK = {
    "rules": f"no rules to check: the list of rules is empty (rules: {', '.join(RULES)})",
    "grad-norm": "no bounds to check: the grad-norm rule is selected but has no bounds (write GLOB<=NUMBER "
                 "or GLOB>=NUMBER, or leave grad-norm out of the rules)",
    "baseline": "no baseline to compare with: the baseline rule is selected but no baseline file is given "
                "(--baseline FILE, or write one with --update-baseline FILE)",
}


class CheckConfigError(ValueError):
    """A rule name, a threshold or a config file that makes no sense (exit code 2)."""


_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
_BOUND = re.compile(r"^\s*(?P<pattern>[^<>=]*?)\s*(?P<op><=|>=|<|>)\s*(?P<value>[^<>=\s]+)\s*$")


@dataclass(frozen=True)
class NormBound:
    """`model.fc1.*<=1e3`: the gradient norm of every parameter matching the glob obeys the bound."""

    pattern: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str) -> NormBound:
        """`GLOB<=NUMBER`, `GLOB>=NUMBER` (or `<`, `>`); raises CheckConfigError for anything else."""
        match = _BOUND.match(text) if isinstance(text, str) else None
        value = _parsed_number(match.group("value")) if match else None
        if match is None or not match.group("pattern") or value is None:
            raise CheckConfigError(f"{text!r} is not a bound: write GLOB<=NUMBER or GLOB>=NUMBER, "
                                   "e.g. 'model.fc1.*<=1e3' or '*>=1e-8'")
        if not math.isfinite(value):
            raise CheckConfigError(f"{text!r} is not a bound: its number must be finite")
        return cls(match.group("pattern"), match.group("op"), value)

    def __post_init__(self) -> None:
        # NOTE: '<= inf' and '>= -inf' hold for every norm and '<= nan' for none: a bound that decides nothing
        if not math.isfinite(self.value):
            raise CheckConfigError(f"{str(self)!r} is not a bound: its number must be finite")

    def matches(self, name: str) -> bool:
        return fnmatchcase(name, self.pattern)

    def holds(self, norm: float) -> bool:
        """False for a NaN norm: a NaN gradient obeys no bound."""
        return not math.isnan(norm) and _COMPARISONS[self.op](norm, self.value)

    def __str__(self) -> str:
        return f"{self.pattern}{self.op}{self.value:g}"


DEFAULT_GRAD_NORM = (NormBound("*", "<=", 1e4), NormBound("*", ">=", 1e-7))


@dataclass(frozen=True)
class CheckConfig:
    """Rules and thresholds. `rules=None` means the defaults (plus `exploding` when steps >= 2)."""

    rules: tuple[str, ...] | None = None
    entry: str | None = None
    steps: int = 1
    lr: float = 0.01  # of the default optimizer, SGD, between steps
    allow_nonfinite: tuple[str, ...] = ()  # globs of parameter names, op names, node names or scopes
    grad_norm: tuple[NormBound, ...] = DEFAULT_GRAD_NORM
    min_nonzero: float = 0.0  # nonzero: the fraction of nonzero gradient entries must be above this
    min_layer_ratio: float = 1e-3  # vanishing: smallest / largest layer gradient norm
    max_dead_fraction: float = 0.5  # dead-units: fraction of units that never fire over the batch
    max_growth: float = 100.0  # exploding: gradient norm at any step / at step 0
    gradcheck_mode: str = "fast"
    gradcheck_eps: float = 1e-6
    gradcheck_atol: float = 1e-5
    gradcheck_rtol: float = 1e-3
    keep_values: int = 1 << 16  # tensors up to this many elements keep their values (dead-units reads them)
    baseline: str | None = None  # a trace of golden gradients: the baseline rule compares the run with it
    baseline_rtol: float | None = None  # None: the tolerance of the lower precision of the two runs
    baseline_atol: float | None = None

    @property
    def selected_rules(self) -> tuple[str, ...]:
        rules = self.rules if self.rules is not None else DEFAULT_RULES + (("exploding",) if self.steps >= 2 else ())
        return rules + ("baseline",) if self.baseline is not None and "baseline" not in rules else rules


def _parsed_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _number(value) -> float | None:
    """A TOML float or integer, or a flag's number, as a float; None for anything else (strings and
    booleans too: `eps = "1e-6"` or `eps = true` is a mistake to report, not to guess at)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:  # an int beyond float's range
        return math.inf


# ------------------------------------------------------------------------------------- converters
def _rules(value) -> tuple[str, ...]:
    names = _string_list(value)
    unknown = [name for name in names if name not in RULES]
    if unknown:
        raise ValueError(f"unknown rule {unknown[0]!r} (rules: {', '.join(RULES)})")
    return tuple(dict.fromkeys(names))


def _string_list(value) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"must be a list of strings, not {value!r}")
    return tuple(value)


def _bounds(value) -> tuple[NormBound, ...]:
    try:
        return tuple(NormBound.parse(text) for text in _string_list(value))
    except CheckConfigError as error:
        raise ValueError(str(error)) from None


def _positive_int(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"must be a whole number >= 1, not {value!r}")
    return value


def _fraction(value) -> float:
    number = _number(value)
    if number is None or not 0 <= number <= 1:
        raise ValueError(f"must be a number between 0 and 1, not {value!r}")
    return number


def _positive(value) -> float:
    number = _number(value)
    if number is not None and not math.isfinite(number):
        raise ValueError(f"must be a finite number > 0, not {value!r}")
    if number is None or not number > 0:
        raise ValueError(f"must be a number > 0, not {value!r}")
    return number


def _tolerance(value) -> float:
    number = _number(value)
    if number is None or not (math.isfinite(number) and number >= 0):
        raise ValueError(f"must be a finite number >= 0, not {value!r}")
    return number


def _file_name(value) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"must be a file name, not {value!r}")
    return value


def _identifier(value) -> str:
    if not isinstance(value, str) or not value.isidentifier():
        raise ValueError(f"must be a function name, not {value!r}")
    return value


def _mode(value) -> str:
    if value not in ("fast", "slow"):
        raise ValueError(f"must be 'fast' or 'slow', not {value!r}")
    return value


# key (as in pyproject.toml and, with -- in front, on the command line) → field, converter
FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "rules": ("rules", _rules),
    "entry": ("entry", _identifier),
    "steps": ("steps", _positive_int),
    "lr": ("lr", _positive),
    "allow-nonfinite": ("allow_nonfinite", _string_list),
    "grad-norm": ("grad_norm", _bounds),
    "min-nonzero": ("min_nonzero", _fraction),
    "min-layer-ratio": ("min_layer_ratio", _fraction),
    "max-dead-fraction": ("max_dead_fraction", _fraction),
    "max-growth": ("max_growth", _positive),
    "gradcheck-mode": ("gradcheck_mode", _mode),
    "gradcheck-eps": ("gradcheck_eps", _positive),
    "gradcheck-atol": ("gradcheck_atol", _positive),
    "gradcheck-rtol": ("gradcheck_rtol", _positive),
    "keep-values": ("keep_values", _positive_int),
    "baseline": ("baseline", _file_name),
    "baseline-rtol": ("baseline_rtol", _tolerance),
    "baseline-atol": ("baseline_atol", _tolerance),
}


def _converted(values: dict, describe: Callable[[str], str]) -> dict:
    changes = {}
    for key, value in values.items():
        if key not in FIELDS:
            raise CheckConfigError(f"{describe(key)}: unknown key (known: {', '.join(FIELDS)})")
        name, convert = FIELDS[key]
        try:
            changes[name] = convert(value)
        except ValueError as error:
            raise CheckConfigError(f"{describe(key)}: {error}") from None
    return changes


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml in `start` or a parent directory, as pytest and ruff look for theirs."""
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def read_pyproject(path: Path) -> dict:
    """The `[tool.gradscope.check]` table of `path` ({} when the file has none); `tool`,
    `tool.gradscope` and `tool.gradscope.check` must each be a table where present."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CheckConfigError(f"{path}: can't read it ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise CheckConfigError(f"{path}: not valid TOML ({error})") from None
    table = document
    keys = SECTION.split(".")
    for depth, key in enumerate(keys, 1):
        table = table.get(key, {})
        if not isinstance(table, dict):
            raise CheckConfigError(f"{path}: [{'.'.join(keys[:depth])}] must be a table, not {table!r}")
    return table


def empty_selection(config: CheckConfig) -> str | None:
    """The key that leaves `config` checking nothing ("rules", "grad-norm"), or None."""
    if not config.selected_rules:
        return "rules"
    if "grad-norm" in config.selected_rules and not config.grad_norm:
        return "grad-norm"
    if "baseline" in config.selected_rules and config.baseline is None:
        return "baseline"
    return None


def require_something_to_check(config: CheckConfig) -> None:
    """CheckConfigError when `config` would check nothing, so a run can never pass by checking nothing."""
    key = empty_selection(config)
    if key is not None:
        raise CheckConfigError(NOTHING_TO_CHECK[key])


def build_config(file_values: dict | None = None, flag_values: dict | None = None,
                 source: str = "pyproject.toml") -> CheckConfig:
    """Defaults, then the file's `[tool.gradscope.check]` values, then flags (None = not given).

    >>> build_config({"steps": 3}, {"grad-norm": ["*<=1e3"]}).steps
    3
    """
    def in_file(key: str) -> str:
        return f"{source} [{SECTION}] {key}"

    def flag(key: str) -> str:
        return "--rule" if key == "rules" else f"--{key}"

    from_file = _converted(file_values or {}, in_file)
    if "baseline" in from_file:  # a path in the file is relative to the file, as pytest and ruff read theirs
        from_file["baseline"] = str(Path(source).parent / from_file["baseline"])
    config = dataclasses.replace(CheckConfig(), **from_file)
    given = {key: value for key, value in (flag_values or {}).items() if value is not None}
    config = dataclasses.replace(config, **_converted(given, flag))
    key = empty_selection(config)
    if key is not None:
        raise CheckConfigError(f"{flag(key) if key in given else in_file(key)}: {NOTHING_TO_CHECK[key]}")
    return config
