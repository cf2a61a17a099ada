"""gradscope.hub: torch.hub without the network. A local hubconf.py loads as PyTorch loads it (entry points,
dependencies, errors); a GitHub repository only from PyTorch's hub cache; weights only from the cache; anything
that would download is a RuntimeError that says where to put the file."""

from __future__ import annotations

import sys

import pytest

import gradscope
import gradscope.hub

torch = pytest.importorskip("torch")
import torch.hub  # noqa: E402, F811 - binds torch.hub

HUBCONF = '''
dependencies = ["numpy"]
from helper import factor


def scaled(x, by=2):
    """x times `by` (helper.factor)."""
    return x * by * factor


def _private():
    pass
'''


@pytest.fixture(autouse=True)
def _forget_the_repositorys_modules():
    """hub.load imports hubconf's own imports (helper) as torch.hub does, into sys.modules: forget them, or a
    later test's script in another directory would get this `helper` for its own sibling."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name in ("hubconf", "helper"):
            del sys.modules[name]


@pytest.fixture
def repository(tmp_path):
    (tmp_path / "hubconf.py").write_text(HUBCONF)
    (tmp_path / "helper.py").write_text("factor = 3\n")
    return tmp_path


def _error(call) -> str:
    try:
        call()
    except (RuntimeError, ValueError, FileNotFoundError) as error:
        return f"{type(error).__name__}: {error}"
    return "no error"


def test_a_local_repository_loads_as_in_torch(repository):
    for hub in (gradscope.hub, torch.hub):
        assert hub.load(str(repository), "scaled", 5, source="local", by=4) == 60
    for call in (lambda hub: hub.load(str(repository), "missing", source="local"),
                 lambda hub: hub.load(str(repository), "scaled", source="svn"),
                 lambda hub: hub.load(str(repository), 3, source="local")):
        assert _error(lambda call=call: call(gradscope.hub)) == _error(lambda call=call: call(torch.hub))


def test_missing_dependencies_as_in_torch(repository):
    (repository / "hubconf.py").write_text(HUBCONF.replace('["numpy"]', '["numpy", "no_such_package_here"]'))
    call = lambda hub: hub.load(str(repository), "scaled", 1, source="local")  # noqa: E731
    assert _error(lambda: call(gradscope.hub)) == _error(lambda: call(torch.hub))


def test_github_comes_from_torchs_cache_only(repository, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))
    assert gradscope.hub.get_dir() == torch.hub.get_dir() == str(tmp_path / "home" / "hub")
    with pytest.raises(RuntimeError, match="gradscope.hub: loading owner/repo from GitHub needs the network"):
        gradscope.hub.load("owner/repo", "scaled", 1)
    cached = tmp_path / "home" / "hub" / "owner_repo_main"
    cached.mkdir(parents=True)
    for name in ("hubconf.py", "helper.py"):
        (cached / name).write_text((repository / name).read_text())
    assert gradscope.hub.load("owner/repo", "scaled", 1) == 6
    assert gradscope.hub.list("owner/repo") == ["scaled"]
    assert gradscope.hub.help("owner/repo", "scaled") == "x times `by` (helper.factor)."


def test_weights_come_from_the_cache_only(tmp_path):
    gradscope.hub.set_dir(tmp_path)
    try:
        url = "https://example.com/models/weights.gs?download=1"
        with pytest.raises(RuntimeError, match=r"needs the network(.|\n)*checkpoints/weights.gs to load it"):
            gradscope.hub.load_state_dict_from_url(url)
        (tmp_path / "checkpoints").mkdir()
        gradscope.save({"w": gradscope.ones(2)}, tmp_path / "checkpoints" / "weights.gs")
        assert gradscope.hub.load_state_dict_from_url(url)["w"].tolist() == [1.0, 1.0]
        with pytest.raises(RuntimeError, match="downloading https://example.com/x needs the network"):
            gradscope.hub.download_url_to_file("https://example.com/x", str(tmp_path / "x"))
    finally:
        gradscope.hub._hub_dir = None
