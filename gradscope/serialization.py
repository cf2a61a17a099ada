"""gradscope.save / gradscope.load: tensors (and nested dicts/lists of them) in a zip of .npy files.

The format never uses pickle, so loading a file cannot run code. `load` also reads the weights of
models trained elsewhere as a state dict (name → tensor): `.safetensors` files (the field's standard,
no pickle) and NumPy `.npz` archives. A PyTorch `.pt` pickle is refused with the one-line conversion.

>>> model.load_state_dict(gradscope.load("model.safetensors"))
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections import OrderedDict

import numpy as np

from gradscope.autograd.tensor import Tensor

FORMAT = "gradscope.save"
VERSION = 1


def save(obj, f) -> None:
    """Write a tensor, or a dict (ordered or not)/list/tuple nesting tensors, NumPy arrays and scalars, numbers,
    strings and bytes, to a path or binary file."""
    arrays: list[np.ndarray] = []
    structure = _encode(obj, arrays)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("manifest.json", json.dumps({"format": FORMAT, "version": VERSION, "object": structure}))
        for i, array in enumerate(arrays):
            stream = io.BytesIO()
            np.save(stream, np.require(array, requirements='C'), allow_pickle=False)
            archive.writestr(f"{i}.npy", stream.getvalue())
    data = buffer.getvalue()
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as handle:
            handle.write(data)
    else:
        f.write(data)


PICKLE_REFUSED = (
    "{name} is a PyTorch pickle, and gradscope never unpickles (loading a pickle can run code). Convert it "
    "once with PyTorch: `from safetensors.torch import save_file; save_file(torch.load({name!r}), "
    "'model.safetensors')`, then `model.load_state_dict(gradscope.load('model.safetensors'))` (an .npz from "
    "`numpy.savez` works too)")


def load(f, map_location=None, weights_only=True):
    """Read what `save` wrote, or a `.safetensors` / `.npz` file as a dict of tensors. Raises ValueError for
    anything else, naming how to convert a PyTorch pickle."""
    head = _head(f)
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else "the file"
    if head[:1] == b"\x80" or _is_torch_zip(f):
        raise ValueError(PICKLE_REFUSED.format(name=name))
    if len(head) >= 9 and head[8:9] == b"{" and isinstance(f, (str, os.PathLike)):
        return _load_safetensors(f)
    if _is_npz(f):
        with np.load(f, allow_pickle=False) as archive:
            return {key: _tensor(archive[key]) for key in archive.files}
    try:
        with zipfile.ZipFile(f) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
                raise ValueError("not a gradscope.save file (or a newer version of the format)")
            return _decode(manifest["object"], archive)
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as error:
        raise ValueError(f"not a gradscope.save file: {error}") from None


def _head(f) -> bytes:
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as stream:
            return stream.read(16)
    position = f.tell()
    head = f.read(16)
    f.seek(position)
    return head


def _members(f) -> list[str]:
    try:
        with zipfile.ZipFile(f) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return []
    finally:
        if not isinstance(f, (str, os.PathLike)):
            f.seek(0)


def _is_torch_zip(f) -> bool:
    """torch.save's zip: `<name>/data.pkl` beside the storages."""
    return any(member.endswith("data.pkl") for member in _members(f))


def _is_npz(f) -> bool:
    members = _members(f)
    return bool(members) and "manifest.json" not in members and all(m.endswith(".npy") for m in members)


def _load_safetensors(path) -> dict:
    try:
        from safetensors.numpy import load_file  # a runtime dependency, imported when such a file is read
    except ImportError:  # pragma: no cover - installed with gradscope
        raise ValueError(f"{path}: reading .safetensors needs the safetensors package") from None
    try:
        arrays = load_file(os.fspath(path))
    except Exception as error:  # noqa: BLE001 - safetensors raises its own error types for bad files
        raise ValueError(f"{path}: not a readable .safetensors file ({error})") from None
    return {key: _tensor(array) for key, array in arrays.items()}


def _tensor(array: np.ndarray) -> Tensor:
    array = np.array(array)  # owned and writeable
    t = Tensor._make(array)
    t._init(array)
    return t


def _encode(obj, arrays: list):
    if isinstance(obj, Tensor):
        arrays.append(obj._data)
        return {"tensor": len(arrays) - 1, "requires_grad": obj._requires_grad}
    # NumPy's arrays and scalars (a checkpoint's metric history, np.float64 best scores: np.float64 is a float, so
    # this comes first) as .npy entries of their own, their dtype kept; an array of objects would need pickle
    if isinstance(obj, (np.ndarray, np.generic)):
        if np.asarray(obj).dtype.hasobject:
            raise TypeError("gradscope.save can't store NumPy arrays of Python objects (they would need pickle)")
        arrays.append(np.asarray(obj))
        return {"array" if isinstance(obj, np.ndarray) else "scalar": len(arrays) - 1}
    if isinstance(obj, dict):
        kind = "ordered_dict" if isinstance(obj, OrderedDict) else "dict"  # a state_dict is an OrderedDict
        return {kind: [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"list" if isinstance(obj, list) else "tuple": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, bytes):
        arrays.append(np.frombuffer(obj, np.uint8))
        return {"bytes": len(arrays) - 1}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    raise TypeError(f"gradscope.save can't store objects of type {type(obj).__name__}")


def _array(index, archive) -> np.ndarray:
    with archive.open(f"{int(index)}.npy") as stream:
        return np.load(io.BytesIO(stream.read()), allow_pickle=False)


def _decode(node, archive):
    if "tensor" in node:
        array = _array(node["tensor"], archive)
        t = Tensor._make(array)
        t._init(array)
        if node.get("requires_grad"):
            t.requires_grad_(True)
        return t
    if "array" in node:
        return _array(node["array"], archive)
    if "scalar" in node:
        return _array(node["scalar"], archive)[()]
    if "bytes" in node:
        return _array(node["bytes"], archive).tobytes()
    if "dict" in node:
        return {_decode(k, archive): _decode(v, archive) for k, v in node["dict"]}
    if "ordered_dict" in node:
        return OrderedDict((_decode(k, archive), _decode(v, archive)) for k, v in node["ordered_dict"])
    if "list" in node:
        return [_decode(v, archive) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, archive) for v in node["tuple"])
    return node["value"]
