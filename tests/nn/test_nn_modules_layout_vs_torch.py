"""torch.nn.modules and torch.nn.common_types as PyTorch lays them out: research code imports base classes and helpers
from there (`from torch.nn.modules.loss import _Loss`, `from torch.nn.modules.utils import _pair`,
`from torch.nn.modules.batchnorm import _BatchNorm`); under gradscope every such import was a ModuleNotFoundError."""

from __future__ import annotations

import importlib
from collections import OrderedDict

import pytest

import gradscope
import gradscope.nn as gnn

torch = pytest.importorskip("torch")

SUBMODULES = ("activation", "adaptive", "batchnorm", "channelshuffle", "container", "conv", "distance", "dropout",
              "flatten", "fold", "instancenorm", "lazy", "linear", "loss", "module", "normalization", "padding",
              "pixelshuffle", "pooling", "rnn", "sparse", "transformer", "upsampling", "utils")
# names PyTorch defines there that scripts import (its public ones, and the bases and helpers they subclass and call)
PRIVATE = {"loss": ("_Loss", "_WeightedLoss"), "conv": ("_ConvNd",), "batchnorm": ("_BatchNorm", "_NormBase"),
           "instancenorm": ("_InstanceNorm",), "dropout": ("_DropoutNd",), "padding": ("_ConstantPadNd",),
           "pooling": ("_MaxPoolNd", "_AvgPoolNd"), "utils": ("_single", "_pair", "_triple", "_quadruple", "_ntuple"),
           "module": ("_addindent", "_IncompatibleKeys"), "transformer": ("_get_clones", "_get_activation_fn")}
# not provided: PyTorch's deprecated nn.Container, the global non-full backward hook, the registration hooks
NOT_PROVIDED = {"Container", "register_module_backward_hook", "register_module_buffer_registration_hook",
                "register_module_module_registration_hook", "register_module_parameter_registration_hook"}


@pytest.mark.parametrize("name", SUBMODULES)
def test_each_submodule_has_pytorchs_names(name):
    theirs = importlib.import_module(f"torch.nn.modules.{name}")
    ours = importlib.import_module(f"gradscope.nn.modules.{name}")
    for attr in list(getattr(theirs, "__all__", ())) + list(PRIVATE.get(name, ())):
        if attr in NOT_PROVIDED:
            continue
        assert hasattr(ours, attr), f"torch.nn.modules.{name}.{attr}"
        value = getattr(ours, attr)
        if isinstance(value, type) and attr in dir(gnn):
            assert value is getattr(gnn, attr)


def test_the_package_exports_every_layer():
    import gradscope.nn.modules as modules
    for attr in torch.nn.modules.__all__:
        if attr not in NOT_PROVIDED | {"LinearCrossEntropyOptions"}:  # an options type, not a layer
            assert getattr(modules, attr) is getattr(gnn, attr)
    assert gnn.modules.Linear is gnn.Linear


def test_a_loss_subclassing_loss_base_behaves_as_torchs():
    seen = []
    for lib in (gradscope, torch):
        loss_base = importlib.import_module(f"{lib.__name__}.nn.modules.loss")._Loss

        class AbsLoss(loss_base):
            def forward(self, a, b):
                d = (a - b).abs()
                return d.mean() if self.reduction == "mean" else d.sum()

        seen.append((AbsLoss()(lib.ones(2), lib.zeros(2)).item(), AbsLoss(reduction="sum").reduction,
                     AbsLoss(reduce=False).reduction))
    assert seen[0] == seen[1]


@pytest.mark.parametrize("call", ["_pair(3)", "_pair((1, 2))", "_single(4)", "_triple([1, 2, 3])", "_quadruple(0)",
                                  "_ntuple(5)(1)", "_ntuple(2, 'p').__name__", "_pair.__name__",
                                  "_reverse_repeat_tuple((1, 2, 3), 2)", "_list_with_default([None, 3], [1, 5, 7])",
                                  "_list_with_default(4, [1])", "_list_with_default([None, None], [1, 2])"])
def test_utils_as_torchs(call):
    def run(lib):
        utils = importlib.import_module(f"{lib.__name__}.nn.modules.utils")
        try:
            return repr(eval(call, vars(utils)))
        except ValueError as error:
            return f"ValueError: {error}"
    assert run(gradscope) == run(torch)


def test_consume_prefix_as_torchs():
    seen = []
    for lib in (gradscope, torch):
        state = OrderedDict([("module.weight", 1), ("module.sub.bias", 2), ("other", 3)])
        state._metadata = OrderedDict([("", {}), ("module", {"v": 1}), ("module.sub", {"v": 2})])
        importlib.import_module(f"{lib.__name__}.nn.modules.utils").consume_prefix_in_state_dict_if_present(
            state, "module.")
        seen.append((list(state.items()), list(state._metadata.items())))
    assert seen[0] == seen[1]


def test_addindent_and_transformer_helpers_as_torchs():
    seen = []
    for lib in (gradscope, torch):
        module = importlib.import_module(f"{lib.__name__}.nn.modules.module")
        transformer = importlib.import_module(f"{lib.__name__}.nn.modules.transformer")
        clones = transformer._get_clones(lib.nn.Linear(2, 2), 3)
        try:
            transformer._get_activation_fn("tanh")
        except RuntimeError as error:
            refused = str(error)
        seen.append((module._addindent("a\nb\n c", 2), module._addindent("one", 4), type(clones).__name__,
                     len(clones), clones[0].weight is not clones[1].weight, refused,
                     transformer._get_activation_fn("relu")(lib.tensor([-1.0, 2.0])).tolist()))
    assert seen[0] == seen[1]


def test_common_types_as_torchs():
    ours = importlib.import_module("gradscope.nn.common_types")
    for name in ("_size_1_t", "_size_2_t", "_size_3_t", "_size_any_t", "_size_2_opt_t", "_ratio_2_t",
                 "_scalar_or_tuple_2_t"):
        assert str(getattr(ours, name)) == str(getattr(torch.nn.common_types, name))
