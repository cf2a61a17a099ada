"""torch.func.functional_call, nn.utils.stateless.functional_call and torch.func.stack_module_state against torch:
values and gradients, tied weights, attributes that are not parameters, tensors the module replaces during the
call (written back to the caller's dict), the module put back after errors, and the error texts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "detach"):
        return np.round(value.detach().numpy().astype(np.float64), 5).tolist()
    return value


def _error(call) -> str:
    try:
        call()
    except (RuntimeError, ValueError, TypeError, AttributeError, KeyError) as error:
        return f"{type(error).__name__}: {error}"
    return "no error"


def _tied(lib):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Linear(2, 2))
    model[1].weight = model[0].weight
    return model


def test_values_gradients_and_tied_weights():
    def run(lib):
        model = _tied(lib)
        x = lib.arange(4.0).reshape(2, 2)
        weight = lib.full((2, 2), 0.5, requires_grad=True)
        out = lib.func.functional_call(model, {"0.weight": weight}, (x,))
        out.sum().backward()
        seen = [out, weight.grad, model[0].weight, model[1].weight is model[0].weight]
        seen.append(lib.func.functional_call(model, ({"0.weight": weight}, {"1.bias": lib.ones(2)}), x))
        seen.append(lib.func.functional_call(model, {"0.weight": weight}, (x,), tie_weights=False))
        seen.append(lib.func.functional_call(model, {"0.weight": weight, "1.weight": weight}, (x,)))
        seen.append(_error(lambda: lib.func.functional_call(model, {"0.weight": weight, "1.weight": lib.ones(2, 2)},
                                                            (x,))))
        return seen

    assert _plain(run(gradscope)) == _plain(run(torch))


def test_errors_and_the_module_put_back():
    def run(lib):
        model = _tied(lib)
        x = lib.ones(1, 2)
        call = lib.func.functional_call
        seen = [
            _error(lambda: call(model, {"0.weight": lib.ones(2, 2)}, (x,), strict=True)),
            _error(lambda: call(model, {"0.weight": lib.ones(2, 2), "0.bias": lib.ones(2), "1.bias": lib.ones(2),
                                        "2.bias": lib.ones(2)}, (x,), strict=True)),
            _error(lambda: call(model, {"0.weight": 1.0}, (x,))),
            _error(lambda: call(model, {"5.weight": lib.ones(2, 2)}, (x,))),
            _error(lambda: call(model, {"0.weight": lib.ones(2, 2)}, (lib.ones(1, 3),))),
            _error(lambda: call(model, [{"0.bias": x}, {"0.bias": x}], (x,))),
            _error(lambda: call(model, [{"0.bias": x}, 3], (x,))),
            _error(lambda: call(model, 3, (x,))),
            _error(lambda: call(model, {"0.training": lib.ones(1)}, (x,))),
            model(x), sorted(dict(model.named_parameters(remove_duplicate=False))),
        ]
        return seen

    assert _plain(run(gradscope)) == _plain(run(torch))


def test_attributes_replaced_buffers_and_running_stats():
    def run(lib):
        class Counter(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("count", lib.zeros(()))

            def forward(self, x):
                self.count = self.count + 1  # a new tensor, not an in-place change
                return x * getattr(self, "scale", lib.ones(()))

        counter = Counter()
        given = {"count": lib.full((), 5.0), "scale": lib.full((), 3.0)}
        out = lib.func.functional_call(counter, given, lib.ones(2))
        seen = [out, given, counter.count, hasattr(counter, "scale")]
        norm = lib.nn.BatchNorm1d(2)
        stats = {"running_mean": lib.zeros(2), "running_var": lib.ones(2), "num_batches_tracked": lib.tensor(0)}
        lib.func.functional_call(norm, stats, lib.arange(4.0).reshape(2, 2))
        seen += [stats, norm.running_mean, norm.num_batches_tracked]
        return seen

    assert _plain(run(gradscope)) == _plain(run(torch))


def test_stateless_functional_call_warns_and_calls_the_same():
    def run(lib):
        layer = lib.nn.Linear(2, 1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = lib.nn.utils.stateless.functional_call(layer, {"weight": lib.ones(1, 2), "bias": lib.zeros(1)},
                                                         lib.ones(1, 2))
        return [out, [(w.category.__name__, str(w.message)) for w in caught],
                _error(lambda: lib.nn.utils.stateless.functional_call(layer, {"weight": lib.ones(1, 2)}, lib.ones(1, 2),
                                                                      strict=True))]

    assert _plain(run(gradscope)) == _plain(run(torch))


def test_stack_module_state():
    def run(lib):
        lib.manual_seed(3)
        models = [lib.nn.Linear(2, 1) for _ in range(3)]
        params, buffers = lib.func.stack_module_state(models)
        seen = [params, buffers, [p.requires_grad and p.is_leaf for p in params.values()]]
        frozen = lib.nn.Linear(2, 1)
        frozen.weight.requires_grad_(False)
        seen.append(_error(lambda: lib.func.stack_module_state([models[0], frozen])))
        seen.append(_error(lambda: lib.func.stack_module_state([models[0], models[1].eval()])))
        seen.append(_error(lambda: lib.func.stack_module_state([models[0], lib.nn.Sequential()])))
        seen.append(_error(lambda: lib.func.stack_module_state([])))
        return seen

    assert _plain(run(gradscope)) == _plain(run(torch))
