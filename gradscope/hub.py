"""torch.hub without the network: models from a local directory's hubconf.py (`source="local"`, or a GitHub
repository PyTorch already downloaded into the hub cache), and weights already in the cache. gradscope never
downloads: anything that would is a RuntimeError saying where to put the file instead.

    >>> model = gradscope.hub.load("path/to/repo", "resnet_tiny", source="local")
    >>> weights = gradscope.hub.load_state_dict_from_url("https://host/w.safetensors")  # from get_dir()/checkpoints
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from urllib.parse import urlparse

from gradscope.serialization import load as _load

__all__ = ["download_url_to_file", "get_dir", "help", "list", "load", "load_state_dict_from_url", "set_dir"]

VAR_DEPENDENCY = "dependencies"
MODULE_HUBCONF = "hubconf.py"
_hub_dir: str | None = None


def get_dir() -> str:
    """The hub cache: set_dir's, else $TORCH_HOME/hub, else $XDG_CACHE_HOME/torch/hub (~/.cache/torch/hub)."""
    if _hub_dir is not None:
        return _hub_dir
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join("~", ".cache")), "torch")
    return os.path.join(os.path.expanduser(torch_home), "hub")


def set_dir(d) -> None:
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def _no_network(what: str, where: str) -> RuntimeError:
    return RuntimeError(f"gradscope.hub: {what} needs the network, and gradscope never downloads. {where}")


def _repository_dir(github: str, source: str) -> str:
    if source not in ("github", "local"):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    if source == "local":
        return github
    owner_name, _, ref = github.partition(":")
    if "/" not in owner_name:
        raise ValueError(f'Invalid input: repo_or_dir should be in the form of "repo_owner/repo_name[:ref]". Got '
                         f"{github}")
    owner, name = owner_name.split("/", 1)
    candidates = [ref] if ref else ["main", "master"]
    for candidate in candidates:  # where PyTorch caches a repository it downloaded
        cached = os.path.join(get_dir(), "_".join((owner, name, candidate.replace("/", "_"))))
        if os.path.isdir(cached):
            return cached
    raise _no_network(f"loading {github} from GitHub", f"Clone it and pass its directory with source='local', or let "
                      f"PyTorch download it once into {get_dir()}.")


@contextlib.contextmanager
def _on_path(directory: str):
    sys.path.insert(0, directory)
    try:
        yield
    finally:
        sys.path.remove(directory)


def _hubconf(directory: str):
    """The repository's hubconf.py as a module (call within `_on_path`: it may import its siblings)."""
    path = os.path.join(directory, MODULE_HUBCONF)
    spec = importlib.util.spec_from_file_location(MODULE_HUBCONF, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    missing = [name for name in getattr(module, VAR_DEPENDENCY, []) if importlib.util.find_spec(name) is None]
    if missing:
        raise RuntimeError(f"Missing dependencies: {', '.join(missing)}")
    return module


def _entry(module, model: str):
    if not isinstance(model, str):
        raise ValueError("Invalid input: model should be a string of function name")
    entry = getattr(module, model, None)
    if entry is None or not callable(entry):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return entry


def list(github, force_reload=False, skip_validation=False, trust_repo="check", verbose=True):  # noqa: A001
    """The entry points (public callables) of a GitHub repository's hubconf.py, from PyTorch's hub cache."""
    directory = _repository_dir(github, "github")
    with _on_path(directory):
        module = _hubconf(directory)
    return [name for name in dir(module) if callable(getattr(module, name)) and not name.startswith("_")]


def help(github, model, force_reload=False, skip_validation=False, trust_repo="check"):  # noqa: A001 - torch's
    """The docstring of one entry point of a GitHub repository's hubconf.py, from PyTorch's hub cache."""
    directory = _repository_dir(github, "github")
    with _on_path(directory):
        return _entry(_hubconf(directory), model).__doc__


def load(repo_or_dir, model, *args, source="github", trust_repo="check", force_reload=False, verbose=True,
         skip_validation=False, **kwargs):
    """The model `model` of the repository's hubconf.py, called with `args` and `kwargs`: from a local directory
    (`source="local"`) or from PyTorch's hub cache for a GitHub repository."""
    directory = _repository_dir(repo_or_dir, source.lower())
    with _on_path(directory):
        return _entry(_hubconf(directory), model)(*args, **kwargs)


def download_url_to_file(url, dst, hash_prefix=None, progress=True) -> None:
    raise _no_network(f"downloading {url}", f"Download it by other means to {dst}.")


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True, check_hash=False,
                             file_name=None, weights_only=False):
    """The weights at `url` if they are in the cache (`model_dir`, by default get_dir()/checkpoints, under the
    URL's file name), read with gradscope.load."""
    directory = model_dir if model_dir is not None else os.path.join(get_dir(), "checkpoints")
    cached = os.path.join(directory, file_name or os.path.basename(urlparse(url).path))
    if not os.path.exists(cached):
        raise _no_network(f"downloading {url}", f"Put the file at {cached} to load it from there.")
    return _load(cached, map_location=map_location)
