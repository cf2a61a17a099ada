"""Run PyTorch scripts on gradscope's engine: `torch` and its submodules resolve to gradscope's.

gradscope records its own graph, not PyTorch's, so a script that says `import torch` (or
`import torch.nn as nn`, `from torch import optim`, `from torch.utils.data import DataLoader`) is
given gradscope's modules under those names, whether or not PyTorch is installed. This happens only
in the child process that runs a user's script (`gradscope.trace.child`), never in a process that
may use the real PyTorch.

`torch` itself is gradscope's package seen through a thin module that answers `torch.__version__` with the
PyTorch API version gradscope follows (`2.13.0+gradscope.0.1.0`, a TorchVersion: scripts that check for "2.0 or
later" take their modern path); every other name, read or set, is the package's own. Its submodules are the
very modules (`torch.nn is gradscope.nn`).

An API gradscope lacks is reported as such: `unsupported_api` turns the AttributeError or
ModuleNotFoundError a script hits into "model.py:12 uses torch.nn.CTCLoss, which gradscope does not
implement".
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import traceback
import types
from collections.abc import Callable

from gradscope.torch_version import TorchVersion

ALIAS = "torch"
TARGET = "gradscope"
PYTORCH_API_VERSION = "2.13.0"  # the PyTorch release whose behaviour gradscope follows (its tests' oracle)
# the attributes the import system keeps on the module object itself
_IMPORT_ATTRIBUTES = frozenset({"__name__", "__spec__", "__loader__", "__package__", "__path__", "__file__",
                                "__cached__", "__builtins__"})


class TorchModule(types.ModuleType):
    """`torch` under the alias: gradscope's package, with PyTorch's version (see the module docstring)."""

    def __init__(self, package: types.ModuleType) -> None:
        super().__init__(ALIAS, package.__doc__)
        self.__dict__["_package"] = package
        self.__dict__["__version__"] = TorchVersion(f"{PYTORCH_API_VERSION}+gradscope.{package.__version__}")

    def __getattr__(self, name: str):  # only for names not on the module itself: the package's
        return getattr(self.__dict__["_package"], name)

    def __setattr__(self, name: str, value) -> None:
        if name in _IMPORT_ATTRIBUTES or name == "__version__":
            self.__dict__[name] = value
        else:  # torch.x = … (a script's monkeypatch, an import of torch.x) changes the package
            setattr(self.__dict__["_package"], name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self.__dict__["_package"], name)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self.__dict__["_package"])) | {"__version__"})


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec):
        module = importlib.import_module(self.target)  # the very module object: one module, two names
        return TorchModule(module) if self.target == TARGET else module

    def exec_module(self, module) -> None:
        pass  # already executed when gradscope imported it


class TorchAlias(importlib.abc.MetaPathFinder):
    """Finds `torch` and `torch.x.y` as `gradscope` and `gradscope.x.y`; `on_first_use` is called once."""

    def __init__(self, on_first_use: Callable[[], None] | None = None) -> None:
        self._on_first_use = on_first_use

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        name = TARGET + fullname[len(ALIAS):]
        if importlib.util.find_spec(name) is None:
            raise ModuleNotFoundError(f"No module named {fullname!r} (gradscope does not implement {fullname})",
                                      name=fullname)
        if self._on_first_use is not None:
            notice, self._on_first_use = self._on_first_use, None
            notice()
        return importlib.util.spec_from_loader(fullname, _AliasLoader(name), origin=f"alias of {name}")


def install(on_first_use: Callable[[], None] | None = None) -> TorchAlias:
    """Make `import torch…` give gradscope's modules in this process (first on sys.meta_path)."""
    for name in [n for n in sys.modules if n == ALIAS or n.startswith(ALIAS + ".")]:
        del sys.modules[name]  # a real torch imported earlier must not be found first
    finder = TorchAlias(on_first_use)
    sys.meta_path.insert(0, finder)
    return finder


def unsupported_api(error: BaseException, script: str) -> str | None:
    """'model.py:12 uses torch.nn.CTCLoss, which gradscope does not implement', when `error` is a script
    reaching for an API gradscope lacks (an attribute of a gradscope module, or a missing submodule)."""
    if isinstance(error, ModuleNotFoundError) and (error.name or "").startswith((ALIAS + ".", TARGET + ".")):
        api = error.name
    elif isinstance(error, AttributeError) and type(getattr(error, "obj", None)).__name__ == "module":
        module = error.obj.__name__
        if module != TARGET and not module.startswith(TARGET + "."):
            return None
        api = f"{module}.{error.name}"
    else:
        return None
    shown = ALIAS + api[len(TARGET):] if api.startswith(TARGET) and ALIAS in sys.modules else api
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == script]
    where = f"{script}:{frames[-1].lineno} " if frames else f"{script} "
    return f"{where}uses {shown}, which gradscope does not implement"
