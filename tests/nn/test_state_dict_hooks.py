"""Module.state_dict / load_state_dict against torch: the state-dict and load hooks (what they are handed, their
order, what their edits do), metadata versions, extra state, `_load_from_state_dict` overrides, the converters
of old checkpoints (BatchNorm's num_batches_tracked, InstanceNorm's running stats, weight_norm's g/v keys,
the hook-based spectral_norm's format before version 1) and the error texts."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _plain(value):
    """Tensors as arrays and containers as plain lists/dicts, for comparing what the two libraries saw."""
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "detach"):  # to 5 digits: float32 sums may round differently
        return np.round(value.detach().numpy().astype(np.float64), 5).tolist()
    return value


def _both(run):
    ours, theirs = _plain(run(gradscope)), _plain(run(torch))
    assert ours == theirs


def _error(call) -> str:
    try:
        call()
    except (RuntimeError, AssertionError, TypeError) as error:
        return f"{type(error).__name__}: {error}"
    return "no error"


def _model(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3), lib.nn.Sequential(lib.nn.Linear(3, 1)))


def test_load_hooks_see_what_torch_hands_them_in_torch_order():
    def run(lib):
        seen = []
        model = _model(lib)

        def pre(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
            seen.append(("pre", type(module).__name__, prefix, dict(local_metadata), strict, sorted(state_dict),
                         list(missing), list(unexpected)))

        def private_pre(state_dict, prefix, *rest):
            seen.append(("private", prefix))

        def post(module, keys):
            seen.append(("post", type(module).__name__, list(keys.missing_keys), list(keys.unexpected_keys)))

        for module in model.modules():
            module.register_load_state_dict_pre_hook(pre)
            module.register_load_state_dict_post_hook(post)
        model[1]._register_load_state_dict_pre_hook(private_pre)
        state = model.state_dict()
        del state["1.running_var"]
        state["2.0.extra"] = state["0.bias"]
        state["stray"] = state["0.bias"]
        result = model.load_state_dict(state, strict=False)
        seen.append(repr(result))
        seen.append(_error(lambda: model.load_state_dict(state)))
        return seen

    _both(run)


def test_load_pre_hook_renames_keys_and_post_hook_edits_the_report():
    def run(lib):
        layer = lib.nn.Linear(2, 2)

        def rename(state_dict, prefix, *rest):
            if prefix + "w" in state_dict:
                state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")

        handle = layer._register_load_state_dict_pre_hook(rename)
        seen = [repr(layer.load_state_dict({"w": lib.ones(2, 2), "bias": lib.zeros(2)})), layer.weight]
        handle.remove()
        seen.append(_error(lambda: layer.load_state_dict({"w": lib.ones(2, 2), "bias": lib.zeros(2)})))
        layer.register_load_state_dict_post_hook(lambda module, keys: (keys.missing_keys.clear(),
                                                                       keys.unexpected_keys.clear()) and None)
        seen.append(repr(layer.load_state_dict({"w": lib.ones(2, 2), "bias": lib.zeros(2)})))
        layer.register_load_state_dict_post_hook(lambda module, keys: keys)
        seen.append(_error(lambda: layer.load_state_dict(layer.state_dict())))
        return seen

    _both(run)


def test_state_dict_hooks_and_metadata():
    def run(lib):
        seen = []
        model = _model(lib)
        model[0].register_state_dict_pre_hook(lambda module, prefix, keep_vars: seen.append(("pre", prefix,
                                                                                                keep_vars)))

        def post(module, state_dict, prefix, local_metadata):
            seen.append(("post", prefix, dict(local_metadata), list(state_dict)))
            state_dict[prefix + "added"] = lib.zeros(1)

        model[2].register_state_dict_post_hook(post)
        state = model.state_dict(keep_vars=True)
        seen += [list(state), dict(state._metadata)]
        model[2].register_state_dict_post_hook(lambda module, state_dict, prefix, local_metadata: {})
        seen.append(_error(lambda: model.state_dict()))
        replaced = lib.nn.Linear(1, 1)
        replaced._register_state_dict_hook(lambda module, state_dict, prefix, local_metadata: {"only": 1})
        seen.append(replaced.state_dict())
        outer = lib.nn.Sequential(replaced)  # below the root, the returned dict is dropped, as in PyTorch
        seen.append(list(outer.state_dict()))
        return seen

    _both(run)


def test_extra_state_and_load_from_state_dict_overrides():
    def run(lib):
        class Counter(lib.nn.Module):
            _version = 3

            def __init__(self):
                super().__init__()
                self.count = 0
                self.scale = lib.nn.Parameter(lib.ones(1))

            def get_extra_state(self):
                return {"count": self.count}

            def set_extra_state(self, state):
                self.count = state["count"]

            def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
                if prefix + "old_scale" in state_dict:
                    state_dict[prefix + "scale"] = state_dict.pop(prefix + "old_scale")
                super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing, unexpected,
                                              errors)

        model = lib.nn.Sequential(Counter())
        model[0].count = 7
        state = model.state_dict()
        seen = [list(state), state["0._extra_state"], dict(state._metadata)]
        fresh = lib.nn.Sequential(Counter())
        seen += [repr(fresh.load_state_dict(state)), fresh[0].count]
        seen.append(repr(fresh.load_state_dict({"0.old_scale": lib.full((1,), 2.0), "0._extra_state": {"count": 1}})))
        seen += [fresh[0].scale, fresh[0].count]
        seen.append(_error(lambda: fresh.load_state_dict({"0.scale": lib.ones(1)})))
        seen.append(_error(lambda: lib.nn.Linear(1, 1).load_state_dict({"weight": lib.ones(1, 1), "bias": lib.ones(1),
                                                                       "_extra_state": 0})))
        return seen

    _both(run)


def test_old_checkpoint_conversions():
    def run(lib):
        seen = []
        norm = lib.nn.BatchNorm1d(2)
        old = {key: value for key, value in norm.state_dict().items() if key != "num_batches_tracked"}
        seen.append(repr(norm.load_state_dict(old)))  # no metadata: counted as 0
        current = norm.state_dict()
        del current["num_batches_tracked"]  # metadata says version 2: the key is missing
        seen.append(_error(lambda: norm.load_state_dict(current)))
        instance = lib.nn.InstanceNorm1d(2)
        stats = {"running_mean": lib.zeros(2), "running_var": lib.ones(2)}
        seen.append(_error(lambda: instance.load_state_dict(stats)))
        seen.append(_error(lambda: instance.load_state_dict({"running_mean": lib.zeros(2)}, strict=False)))
        scalar = lib.nn.Module()
        scalar.register_buffer("step", lib.tensor(0.0))
        seen += [repr(scalar.load_state_dict({"step": lib.tensor([4.0])})), scalar.step]  # a 0.3-era scalar
        seen.append(_error(lambda: scalar.load_state_dict({"step": "x"})))
        seen.append(_error(lambda: scalar.load_state_dict({"step": lib.ones(2)})))
        return seen

    _both(run)


def test_weight_norm_loads_the_hook_based_checkpoint():
    def run(lib):
        lib.manual_seed(1)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            old = lib.nn.utils.weight_norm(lib.nn.Linear(3, 2))
        new = lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(3, 2))
        seen = [repr(new.load_state_dict(old.state_dict())), list(new.state_dict())]
        x = lib.arange(6.0).reshape(2, 3)
        seen += [new(x), old(x)]
        return seen

    _both(run)


def test_hooked_spectral_norm_metadata_and_old_format():
    def run(lib):
        lib.manual_seed(2)
        layer = lib.nn.utils.spectral_norm(lib.nn.Linear(3, 4))  # WᵀW invertible: the solved v is well defined
        layer(lib.ones(1, 3))
        state = layer.state_dict()
        seen = [dict(state._metadata), repr(layer.load_state_dict(state))]
        old = {key: value for key, value in state.items() if key != "weight_v"}
        old["weight"] = layer.weight.detach()
        old = type(state)(old)
        old._metadata = {"": {"version": 1}}  # saved before spectral_norm recorded a version
        fresh = lib.nn.utils.spectral_norm(lib.nn.Linear(3, 4))
        seen += [repr(fresh.load_state_dict(old)), fresh.weight_v]
        fresh.eval()
        seen.append(fresh(lib.ones(1, 3)))
        seen.append(_error(lambda: fresh.load_state_dict({"weight_orig": state["weight_orig"], "bias": state["bias"]})))
        lib.nn.utils.remove_spectral_norm(layer)
        seen += [len(layer._state_dict_hooks), len(layer._load_state_dict_pre_hooks)]
        seen.append(_error(lambda: layer.load_state_dict(layer.state_dict())))  # PyTorch leaves its load pre-hook
        return seen

    ours, theirs = run(gradscope), run(torch)
    assert _plain(ours[:3]) == _plain(theirs[:3]) and _plain(ours[5:]) == _plain(theirs[5:])
    np.testing.assert_allclose(_plain(ours[3]), _plain(theirs[3]), rtol=1e-5)
    np.testing.assert_allclose(_plain(ours[4]), _plain(theirs[4]), rtol=1e-5)


def test_lazy_modules_load_through_their_pre_hook():
    def run(lib):
        lazy = lib.nn.LazyLinear(3)
        seen = [len(lazy._load_state_dict_pre_hooks), repr(lazy.load_state_dict(lib.nn.LazyLinear(3).state_dict()))]
        seen.append(repr(lazy.load_state_dict(lib.nn.Linear(2, 3).state_dict())))
        seen.append(list(lazy.weight.shape))
        return seen

    _both(run)


def test_assign_keeps_requires_grad_and_takes_the_loaded_tensors():
    def run(lib):
        layer = lib.nn.Linear(2, 2)
        layer.bias.requires_grad_(False)
        weight = lib.nn.Parameter(lib.ones(2, 2), requires_grad=False)
        bias = lib.zeros(2)
        layer.load_state_dict({"weight": weight, "bias": bias}, assign=True)
        return [layer.weight is weight, layer.weight.requires_grad, type(layer.bias).__name__,
                layer.bias.requires_grad]

    _both(run)
