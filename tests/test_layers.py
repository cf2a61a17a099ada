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
    "utils": {"base", "ops", "autograd", "utils", "package"},  # benchmark's Timer puts the package in as `torch`
    "func": {"base", "ops", "autograd", "func"},
    "linalg": {"base", "ops", "autograd", "linalg"},
    "fft": {"base", "ops", "autograd", "fft"},
    "backends": {"base", "backends"},
    "amp": {"base", "ops", "autograd", "amp"},
    "distributions": {"base", "ops", "autograd", "nn", "distributions"},
    "special": {"base", "ops", "autograd", "special"},
    "signal": {"base", "ops", "autograd", "signal"},
    "testing": {"base", "ops", "autograd", "testing"},
    "jit": {"jit"},
    "distributed": {"distributed"},
    "multiprocessing": {"multiprocessing"},
    "hub": {"base", "ops", "autograd", "hub"},
    "profiler": {"base", "ops", "autograd", "profiler"},
    "package": {"base", "ops", "autograd", "nn", "optim", "utils", "func", "linalg", "backends", "amp", "distributions",
                "special", "testing", "jit", "distributed", "multiprocessing", "hub", "profiler", "fft", "signal",
                "package"},
}
THIRD_PARTY = {"cli": {"numpy", "typer", "rich", "click"}, "tui": {"numpy", "rich", "textual"},
               "pytest_plugin": {"numpy", "pytest"}}
CORE_THIRD_PARTY = {"numpy"}
# the one exception in the core: gradscope.load reads .safetensors weights, importing the package only then
MODULE_THIRD_PARTY = {"gradscope.serialization": {"safetensors"}}
# the upward imports, each made on first use (a module __getattr__, gradscope/_lazy.py): the package root hands out
# gradscope.watch / WatchStop, so importing gradscope never loads the layers above it
# (test_import_loads_no_upper_layer); torch.cpu.amp and torch.cuda.amp, PyTorch's old homes of torch.amp
LAZY_EXPORTS = {"gradscope.__init__": {"gradscope.watching"}, "gradscope.cpu.__init__": {"gradscope.cpu.amp"},
                "gradscope.cuda.__init__": {"gradscope.cuda.amp"},
                # torch.autograd.profiler, the profiler's older home
                "gradscope.autograd.profiler": {"gradscope.profiler.legacy", "gradscope.profiler",
                                                "gradscope.profiler._events"}}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("__init__", "__main__"):
        return "cli" if parts[-1] == "__main__" else "package"
    first = parts[1]
    if first in ("cuda", "cpu") and parts[2:3] == ["amp"]:  # torch.cuda.amp: PyTorch's old home of torch.amp
        return "amp"
    if first in ("_shapes", "_dtypes", "_printing", "_quiet", "_stats", "_format", "_diagnosis", "_lazy", "cuda",
                 "cpu", "backends", "torch_version", "accelerator", "version", "xpu", "mps"):
        return "base"
    if first in ("autograd", "serialization", "_runtime", "random", "types", "compiler"):
        return "autograd"
    return first


def lazy_imports(path: Path) -> set[str]:
    """The modules `path` hands out on first use: the string literals of its `lazy_exports(__name__, globals(),
    submodules=(...), names={module: (...)})` call (gradscope/_lazy.py). They are imports like any other for the
    layers, made later: not import-time edges (_module_level_imports)."""
    package = _module_name(path)
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", "").endswith("lazy_exports")):
            continue
        for keyword in node.keywords:
            if keyword.arg == "submodules":
                modules.update(f"{package}.{element.value}" for element in keyword.value.elts)
            elif keyword.arg == "names":
                modules.update(key.value for key in keyword.value.keys)
    return modules


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = lazy_imports(path)
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


# autograd's own order, bottom-up (DESIGN §1): a module imports modules of its own layer or below, never above
AUTOGRAD_LAYERS = (
    ("graph primitives", {"errors", "grad_mode", "hooks", "observers", "stacks", "return_types", "saved", "node",
                          "writes", "refusals", "numpy_names"}),
    ("tensor", {"tensor"}),
    ("dispatch", {"dispatch", "fused", "fused_products", "fused_losses", "fused_target_losses"}),
    ("function library", {
        "functions", "shape_functions", "products", "reductions", "legacy", "factories", "constructors", "generator",
        "float32_math", "fused_cells",
        "inplace", "out_arg", "out_forms", "pointwise", "scans", "rearrange", "indexing_functions", "sorting_functions",
        "statistics_functions", "placement_functions", "composites", "numerical_gradient", "view_copies",
        "product_functions", "random_functions", "sequential_sampling", "linalg_functions", "linalg_aliases",
        "linalg_products", "conversions", "linalg_factorizations", "linalg_least_squares", "linalg_torch_forms",
        "view_inplace", "tensor_namespace", "pointwise_extra", "inplace_forms", "bitwise", "complex_functions",
        "spectral_functions", "short_time", "variable", "random_tensors", "lowrank"}),
    ("engine", {"engine", "leaf_order"}),
    ("tensor methods", {"tensor_methods"}),
    ("built on the engine", {"function", "graph", "functional", "anomaly", "localize", "forward_ad",
                             "gradcheck_forward", "gradcheck", "__init__", "profiler"}),
)
AUTOGRAD_LAYER = {module: rank for rank, (_, modules) in enumerate(AUTOGRAD_LAYERS) for module in modules}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _target(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The gradscope modules an import statement loads (`from gradscope.x import y` loads gradscope.x.y when y
    is a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.startswith("gradscope")]
    if node.level or not node.module or not node.module.startswith("gradscope"):
        return []
    modules = []
    for alias in node.names:
        submodule = PACKAGE.parent.joinpath(*node.module.split("."), alias.name)
        is_module = submodule.with_suffix(".py").exists() or submodule.is_dir()
        modules.append(f"{node.module}.{alias.name}" if is_module else node.module)
    return modules


def _module_level_imports(path: Path) -> set[str]:
    """The gradscope modules `path` imports when it is imported (not those imported inside functions)."""
    tree = ast.parse(path.read_text())
    statements = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    statements += [inner for node in tree.body if isinstance(node, (ast.If, ast.Try))
                   for inner in ast.walk(node) if isinstance(inner, (ast.Import, ast.ImportFrom))]
    return {module for node in statements for module in _target(node)}


AUTOGRAD = sorted((PACKAGE / "autograd").glob("*.py"))


def test_every_autograd_module_has_a_layer():
    assert {path.stem for path in AUTOGRAD} == set(AUTOGRAD_LAYER)


@pytest.mark.parametrize("path", AUTOGRAD, ids=lambda p: p.stem)
def test_autograd_reads_bottom_up(path):
    rank = AUTOGRAD_LAYER[path.stem]
    for module in _module_level_imports(path):
        parts = module.split(".")
        if parts[:2] != ["gradscope", "autograd"] or len(parts) < 3 or parts[2] == path.stem:
            continue
        assert AUTOGRAD_LAYER[parts[2]] <= rank, (
            f"autograd.{path.stem} ({AUTOGRAD_LAYERS[rank][0]}) imports autograd.{parts[2]} "
            f"({AUTOGRAD_LAYERS[AUTOGRAD_LAYER[parts[2]]][0]}), a layer above it")


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` as a path [a, b, …, a], or None (depth-first, iterative)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in graph:
        if start in state:
            continue
        path, iterators = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while path:
            following = next(iterators[-1], None)
            if following is None:
                state[path.pop()] = 2
                iterators.pop()
            elif state.get(following) == 1:
                return path[path.index(following):] + [following]
            elif following not in state:
                state[following] = 1
                path.append(following)
                iterators.append(iter(sorted(graph.get(following, ()))))
    return None


def test_no_import_cycle_inside_any_package():
    """Within each package, modules import each other in one direction only (at import time)."""
    graph = {}
    for path in MODULES:
        name = _module_name(path)
        package = name if path.stem == "__init__" else name.rpartition(".")[0]
        graph[name] = {module for module in _module_level_imports(path)
                       if module != name and module.rpartition(".")[0] == package and module != package}
    assert _cycle(graph) is None


def test_imports_inside_functions_say_why():
    """An import placed in a function is a design choice (textual loaded only for `browse`, a layer reached
    only in a rare case, a third-party module only some paths need): a comment on it, or just above it, says so.
    Dodging an import cycle is not one. Every import, gradscope's own and others'."""
    unexplained = []
    for path in MODULES:
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    here, above = lines[inner.lineno - 1], lines[inner.lineno - 2]
                    if "#" not in here and "#" not in above:  # above: a comment line, or a commented import
                        unexplained.append(f"{path.relative_to(PACKAGE.parent)}:{inner.lineno}")
    assert unexplained == []


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
