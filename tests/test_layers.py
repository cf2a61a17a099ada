"""The layering of DESIGN §1, checked statically over every import statement in the package.

`A ← B` means B may import A, never the reverse; the core imports only NumPy and the standard library.
"""

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gradscope"

# layer of a module → the gradscope layers it may import (its own included)
ALLOWED = {
    "base": {"base"},
    "ops": {"base", "ops"},
    "autograd": {"base", "ops", "autograd"},
    "nn": {"base", "ops", "autograd", "nn", "package"},
    "optim": {"base", "ops", "autograd", "nn", "optim", "package"},
    "trace": {"base", "ops", "autograd", "nn", "optim", "trace", "package"},
    "compare": {"base", "trace", "compare"},
    "watching": {"base", "ops", "autograd", "nn", "optim", "trace", "checks", "watching", "package"},
    "cli": {"base", "ops", "autograd", "nn", "optim", "trace", "compare", "checks", "watching", "cli", "tui",
            "package"},
    "tui": {"base", "ops", "autograd", "nn", "optim", "trace", "compare", "watching", "tui"},
    "checks": {"base", "ops", "autograd", "nn", "optim", "trace", "compare", "checks", "package"},
    "pytest_plugin": {"base", "ops", "autograd", "nn", "optim", "trace", "compare", "checks", "pytest_plugin",
                      "package"},
    "utils": {"base", "ops", "autograd", "utils"},
    "func": {"base", "ops", "autograd", "func"},
    "linalg": {"base", "ops", "autograd", "linalg"},
    "package": {"base", "ops", "autograd", "nn", "optim", "utils", "func", "linalg", "package"},
}
THIRD_PARTY = {"cli": {"numpy", "typer", "rich", "click"}, "tui": {"numpy", "rich", "textual"},
               "pytest_plugin": {"numpy", "pytest"}}
CORE_THIRD_PARTY = {"numpy"}
# the one exception in the core: gradscope.load reads .safetensors weights, importing the package only then
MODULE_THIRD_PARTY = {"gradscope.serialization": {"safetensors"}}
# the one upward import: the package root hands out gradscope.watch / WatchStop on first use (a module
# __getattr__), so importing gradscope never loads the layers above it (test_import_loads_no_upper_layer)
LAZY_EXPORTS = {"gradscope.__init__": {"gradscope.watching"}}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("__init__", "__main__"):
        return "cli" if parts[-1] == "__main__" else "package"
    first = parts[1]
    if first in ("_shapes", "_dtypes", "_printing", "_quiet", "_stats", "_diagnosis", "cuda", "backends"):
        return "base"
    if first in ("autograd", "serialization"):
        return "autograd"
    return first


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module != "gradscope":
                names.add(node.module)
                continue
            for alias in node.names:  # `from gradscope import _dtypes` imports a submodule, not the package
                is_module = (PACKAGE / f"{alias.name}.py").exists() or (PACKAGE / alias.name).is_dir()
                names.add(f"gradscope.{alias.name}" if is_module else "gradscope")
    return names


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_module_respects_layers(path):
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    layer = layer_of(module)
    for name in imports(path):
        top = name.split(".")[0]
        if top == "gradscope":
            if name == "gradscope":
                target = "package"
            else:
                target = layer_of(name)
            if name in LAZY_EXPORTS.get(module, ()):
                continue
            assert target in ALLOWED[layer], f"{module} ({layer}) imports {name} ({target})"
        elif top not in sys.stdlib_module_names and top not in ("tomli", "tomllib"):  # tomllib: stdlib from 3.11
            allowed = THIRD_PARTY.get(layer, CORE_THIRD_PARTY) | MODULE_THIRD_PARTY.get(module, set())
            assert top in allowed, f"{module} ({layer}) imports third-party {top}"


def test_namespaces_have_the_same_functions():
    """VJP rules run on either namespace, so both must offer every name."""
    from gradscope.autograd.tensor_namespace import TensorNamespace
    from gradscope.ops.namespace import NumpyNamespace

    def public(cls):
        return {name for name in dir(cls) if not name.startswith("_")}

    assert public(NumpyNamespace) == public(TensorNamespace)


def test_import_loads_no_upper_layer():
    """`import gradscope` loads the engine only; `gradscope.watch` loads its layer when first used."""
    import subprocess

    code = ("import sys, gradscope; upper = ('gradscope.trace', 'gradscope.watching', 'gradscope.cli'); "
            "print(sorted(m for m in sys.modules if m.startswith(upper))); gradscope.watch; "
            "print('gradscope.watching' in sys.modules)")
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert lines[:2] == ["[]", "True"]
