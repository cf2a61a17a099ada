"""gradscope.save / gradscope.load: tensors (and nested dicts/lists of them) in a zip of .npy files.

The format never uses pickle, so loading a file cannot run code.
"""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np

from gradscope.autograd.tensor import Tensor

FORMAT = "gradscope.save"
VERSION = 1


def save(obj, f) -> None:
    """Write a tensor, or a dict/list/tuple nesting tensors, numbers and strings, to a path or binary file."""
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


def load(f, map_location=None, weights_only=True):
    """Read what `save` wrote. Raises ValueError for files that are not gradscope saves."""
    try:
        with zipfile.ZipFile(f) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
                raise ValueError("not a gradscope.save file (or a newer version of the format)")
            return _decode(manifest["object"], archive)
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as error:
        raise ValueError(f"not a gradscope.save file: {error}") from None


def _encode(obj, arrays: list):
    if isinstance(obj, Tensor):
        arrays.append(obj._data)
        return {"tensor": len(arrays) - 1, "requires_grad": obj._requires_grad}
    if isinstance(obj, dict):
        return {"dict": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"list" if isinstance(obj, list) else "tuple": [_encode(v, arrays) for v in obj]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    raise TypeError(f"gradscope.save can't store objects of type {type(obj).__name__}")


def _decode(node, archive):
    if "tensor" in node:
        with archive.open(f"{int(node['tensor'])}.npy") as stream:
            array = np.load(io.BytesIO(stream.read()), allow_pickle=False)
        t = Tensor._make(array)
        t._init(array)
        if node.get("requires_grad"):
            t.requires_grad_(True)
        return t
    if "dict" in node:
        return {_decode(k, archive): _decode(v, archive) for k, v in node["dict"]}
    if "list" in node:
        return [_decode(v, archive) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, archive) for v in node["tuple"])
    return node["value"]
