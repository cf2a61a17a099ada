"""gradscope.load reads weights trained elsewhere (issue 12 §1): .safetensors and .npz as state dicts,
and refuses a PyTorch pickle with the conversion, never unpickling it."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import gradscope
from gradscope import nn


def state_of(model) -> dict[str, np.ndarray]:
    return {name: tensor.detach().numpy().copy() for name, tensor in model.state_dict().items()}


def test_safetensors_weights_load_into_a_model(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    source, target = nn.Linear(3, 2), nn.Linear(3, 2)
    path = tmp_path / "model.safetensors"
    safetensors_numpy.save_file(state_of(source), str(path))
    loaded = gradscope.load(path)
    assert sorted(loaded) == ["bias", "weight"] and loaded["weight"].dtype == gradscope.float32
    target.load_state_dict(loaded)
    for name, array in state_of(source).items():
        np.testing.assert_array_equal(state_of(target)[name], array)


def test_npz_weights_load_into_a_model(tmp_path):
    source, target = nn.Linear(3, 2), nn.Linear(3, 2)
    path = tmp_path / "model.npz"
    np.savez(path, **state_of(source))
    target.load_state_dict(gradscope.load(path))
    for name, array in state_of(source).items():
        np.testing.assert_array_equal(state_of(target)[name], array)


class Boom:
    def __reduce__(self):
        return (exec, ("raise SystemExit('unpickled!')",))


def test_a_pytorch_pickle_is_refused_with_the_conversion_and_never_unpickled(tmp_path):
    legacy = tmp_path / "legacy.pt"
    legacy.write_bytes(pickle.dumps({"w": Boom()}))
    with pytest.raises(ValueError, match="is a PyTorch pickle.*save_file"):
        gradscope.load(legacy)
    torch = pytest.importorskip("torch")
    modern = tmp_path / "model.pt"
    torch.save({"weight": torch.ones(2)}, modern)
    with pytest.raises(ValueError, match=f"{modern} is a PyTorch pickle"):
        gradscope.load(modern)
