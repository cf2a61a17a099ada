"""`import gradscope` loads the engine; the rest of the torch namespace loads when first read (gradscope/_lazy.py),
and reads exactly as if it had been imported eagerly."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import gradscope

LAZY_PACKAGES = ("gradscope", "gradscope.autograd", "gradscope.nn", "gradscope.optim", "gradscope.cpu",
                 "gradscope.cuda")
LAZY_MODULES = LAZY_PACKAGES + ("gradscope.nn.functional", "gradscope.pytest_plugin")


def _run(code: str) -> list[str]:
    """`code`'s printed lines, run in a fresh interpreter (this one has loaded everything already)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()


def test_import_gradscope_loads_no_rarely_used_subpackage():
    rare = ("gradscope.distributions", "gradscope.optim", "gradscope.fft", "gradscope.special", "gradscope.linalg",
            "gradscope.func", "gradscope.utils", "gradscope.amp", "gradscope.nn.functional", "gradscope.nn.transformer",
            "gradscope.nn.rnn", "gradscope.autograd.functional", "gradscope.autograd.graph", "textual", "rich", "typer")
    code = f"import sys, gradscope; print(sorted(m for m in sys.modules if m.startswith({rare!r})))"
    assert _run(code) == ["[]"]


def test_lazy_attributes_read_as_eager_ones():
    code = """
import sys
import gradscope as torch
print('distributions' in dir(torch), 'Linear' in dir(torch.nn), 'gradscope.distributions' in sys.modules)
normal = torch.distributions.Normal(torch.tensor(0.0), torch.tensor(1.0))
print(round(normal.log_prob(torch.tensor(0.5)).item(), 6))
from gradscope.distributions import Normal
import gradscope.distributions
print(Normal is torch.distributions.Normal, gradscope.distributions is sys.modules['gradscope.distributions'])
print(torch.fft.fft(torch.ones(4)).real.tolist(), torch.nn.Linear is torch.nn.linear.Linear)
print(torch.conv2d is sys.modules['gradscope.nn._functional.torch_forms'].conv2d, torch.vmap is torch.func.vmap)
print(torch.optim.SGD.__module__, torch.cuda.amp.autocast.__module__, hasattr(torch, 'no_such_name'))
try:
    torch.nn.no_such_layer
except AttributeError as error:
    print(error)
"""
    assert _run(code) == [
        "True True False", "-1.043939", "True True", "[4.0, 0.0, 0.0, 0.0] True", "True True",
        "gradscope.optim.sgd gradscope.cuda.amp False", "module 'gradscope.nn' has no attribute 'no_such_layer'"]


@pytest.mark.parametrize("package", LAZY_MODULES)
def test_every_listed_name_resolves(package):
    """dir() promises every lazy name (tab completion reads it): each must load, and be what its module defines."""
    module = importlib.import_module(package)
    for name in dir(module):
        getattr(module, name)  # raises AttributeError when a table names what its module does not define
    for name in getattr(module, "__all__", ()):
        assert name in dir(module)


def test_a_star_import_loads_every_lazy_name():
    namespace = {}
    exec("from gradscope.nn import *", namespace)
    assert namespace["TransformerEncoder"] is gradscope.nn.TransformerEncoder
    exec("from gradscope.nn.functional import *", namespace)
    assert namespace["conv2d"] is gradscope.nn.functional.conv2d and namespace["relu"] is gradscope.nn.functional.relu
    exec("from gradscope import *", namespace)
    assert namespace["distributions"] is gradscope.distributions and namespace["conv2d"] is gradscope.conv2d
    assert "watch" not in namespace  # the debugger's layers load only when asked for by name


def test_a_layer_loads_only_the_functional_families_it_calls():
    code = """
import sys
import gradscope as torch
layer = torch.nn.Linear(3, 2)
torch.nn.functional.relu(layer(torch.ones(1, 3)))
families = ('convolution', 'pooling', 'attention', 'margin', 'ctc')
print(sorted(m for m in sys.modules if m.startswith('gradscope.nn._functional.') and m.rpartition('.')[2] in families))
print(torch.nn.functional.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2)).shape)
"""
    assert _run(code) == ["[]", "torch.Size([1, 1, 2, 2])"]


def test_gradscope_help_loads_neither_textual_nor_the_subpackages():
    """`gradscope --help` lists the commands; the TUI's textual loads only for `browse`."""
    code = """
import sys
from gradscope.cli import app
try:
    app(['--help'])
except SystemExit:
    pass
print(sorted(m for m in sys.modules if m.startswith(('textual', 'gradscope.tui', 'gradscope.distributions'))))
"""
    assert _run(code)[-1] == "[]"


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_no_lazy_name_is_also_a_submodule(package):
    """A lazy name that is also a submodule's (autograd's `gradcheck`) would turn into the module as soon as
    anything imported the submodule: such a name stays eager."""
    init = Path(importlib.import_module(package).__file__)
    names = {element.value for node in ast.walk(ast.parse(init.read_text())) if isinstance(node, ast.keyword)
             and node.arg == "names" for value in node.value.values for element in value.elts}
    directory = init.parent
    submodules = {path.stem for path in directory.glob("*.py")} | {path.name for path in directory.iterdir()
                                                                   if (path / "__init__.py").exists()}
    assert names & submodules == set()
    assert package != "gradscope" or {"conv2d", "watch", "Normal"} - names == {"Normal"}  # the table was read


def test_pytest_start_loads_no_debugger_layer():
    """pytest loads gradscope's plugin (pytest11) in every run of every project: the checks, compare and trace
    layers load when a test first uses a helper or the grad_recorder fixture."""
    code = """
import sys
import gradscope.pytest_plugin as plugin
layers = ('gradscope.checks', 'gradscope.compare', 'gradscope.trace', 'gradscope.nn.functional')
print(sorted(m for m in sys.modules if m.startswith(layers)))
print(plugin.assert_grads_finite.__module__, 'assert_grads_match_baseline' in dir(plugin))
"""
    assert _run(code) == ["[]", "gradscope.checks.assertions True"]
