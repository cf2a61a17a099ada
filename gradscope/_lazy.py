"""Subpackages and names a package hands out on first use (PEP 562), so `import gradscope` loads the engine
and not the ~200 modules of distributions, optim's optimizers or nn's layers that a script may never touch.

    __getattr__, __dir__ = lazy_exports(__name__, globals(), submodules=("fft",),
                                        names={"gradscope.nn.compiled": ("compile",)})

`gradscope.fft` then imports gradscope.fft when first read, `gradscope.compile` imports gradscope.nn.compiled;
`dir(gradscope)` (and tab completion) lists both before either is loaded. Every target is a string literal in
the call, so tests/test_layers.py reads these edges as imports and checks them against the layers.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping


def lazy_exports(package: str, namespace: dict, *, submodules: Iterable[str] = (),
                 names: Mapping[str, Iterable[str]] | None = None,
                 bind: Callable = lambda name, value: value) -> tuple[Callable, Callable]:
    """The module `__getattr__` and `__dir__` of `package` (whose globals are `namespace`): each submodule in
    `submodules` and each name of `names` (module → the names it defines) loads when first read, then stays
    in `namespace` (as `bind(name, value)` makes it), so later reads cost what an eager attribute costs."""
    submodules = frozenset(submodules)
    home = {name: module for module, exported in (names or {}).items() for name in exported}

    def __getattr__(name: str):
        if name in submodules:
            value = importlib.import_module(f"{package}.{name}")
        elif name in home:
            value = bind(name, getattr(importlib.import_module(home[name]), name))
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(namespace.keys() | submodules | home.keys())

    return __getattr__, __dir__
