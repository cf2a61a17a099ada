"""gradscope.load reads weights trained elsewhere (issue 12 §1): .safetensors and .npz as state dicts,
and refuses a PyTorch pickle with the conversion, never unpickling it."""

from __future__ import annotations

import collections
import io
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


CHECKPOINT_ENTRIES = {  # what training scripts put in a checkpoint beside the state dicts
    "metric history": "np.arange(3.0)", "best score": "np.float64(0.25)", "step": "np.int64(4)",
    "float32 score": "np.float32(1.5)", "bool array": "np.array([True, False])", "0-dim array": "np.array(2.5)",
    "ordered dict": "collections.OrderedDict(b=1, a=2)", "bytes": "b'tokenizer'",
    "state dict": "torch.nn.Linear(2, 1).state_dict()",
}


@pytest.mark.parametrize("name", CHECKPOINT_ENTRIES)
def test_a_checkpoint_keeps_numpy_values_ordered_dicts_and_bytes_as_torch(name):
    """torch.save/torch.load give them back as they were (gradscope refused NumPy arrays and scalars and bytes, and
    gave np.float64 back as a float and an OrderedDict as a dict); still without pickle."""
    torch = pytest.importorskip("torch")
    seen = []
    for lib in (gradscope, torch):
        lib.manual_seed(0)
        value = eval(CHECKPOINT_ENTRIES[name], {"np": np, "collections": collections, "torch": lib})
        buffer = io.BytesIO()
        lib.save({"entry": value}, buffer)
        buffer.seek(0)
        loaded = lib.load(buffer, weights_only=False)["entry"]
        seen.append((type(loaded).__name__, getattr(loaded, "dtype", None) and str(loaded.dtype),
                     repr(loaded).replace("tensor", "T") if not isinstance(loaded, dict) else
                     [(k, type(v).__name__) for k, v in loaded.items()]))
    assert seen[0] == seen[1]


def test_an_array_of_objects_is_refused():
    with pytest.raises(TypeError, match="NumPy arrays of Python objects"):
        gradscope.save({"a": np.array([{}, 1], dtype=object)}, io.BytesIO())
