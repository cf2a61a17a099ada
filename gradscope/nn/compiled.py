"""`torch.compile` for a debugger: nothing is compiled, every op runs eagerly where gradscope sees it.

What a script can observe of compilation is kept: a compiled module is PyTorch's `OptimizedModule`
wrapper, with the original under `_orig_mod` (state_dict keys prefixed `_orig_mod.`, attributes read
through to the original), so checkpoints save and load as they do under PyTorch.
"""

from __future__ import annotations

from gradscope.nn.module import Module


class OptimizedModule(Module):
    """A module as `torch.compile` returns it; calling it calls the original."""

    _closed_forward = False  # the original's forward is the script's code: record it as such

    def __init__(self, mod: Module) -> None:
        super().__init__()
        self._orig_mod = mod

    @property
    def training(self) -> bool:
        return self._orig_mod.training

    @training.setter
    def training(self, mode: bool) -> None:
        if "_orig_mod" in self.__dict__.get("_modules", ()):  # Module.__init__ sets it before there is one
            self._orig_mod.training = mode

    def forward(self, *args, **kwargs):
        return self._orig_mod(*args, **kwargs)

    def __getattr__(self, name: str):
        if name == "_orig_mod":
            return self._modules["_orig_mod"]
        return getattr(self._orig_mod, name)


def compile(model=None, *, fullgraph: bool = False, dynamic: bool | None = None, backend=None,  # noqa: A001
            mode: str | None = None, options: dict | None = None, name: str | None = None, disable: bool = False,
            **kwargs):
    """The model, to run eagerly: a module wrapped as PyTorch wraps it, a function as it is. With no model
    (`@torch.compile(mode="max-autotune")`), the decorator."""
    if model is None:
        def decorator(model):
            return compile(model, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                           options=options, name=name, disable=disable, **kwargs)
        return decorator
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    return OptimizedModule(model) if isinstance(model, Module) else model
