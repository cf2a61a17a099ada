"""Which `torch` APIs a script uses, and which of them gradscope implements, read without running it.

The script's imports tell which names stand for torch modules (`import torch.nn as nn`, `from torch
import optim`, `from torch.nn import functional as F`, `from torch.utils.data import DataLoader`);
every attribute chain on those names (`nn.Conv2d`, `F.relu`, `torch.cuda.is_available`) is an API
use. Each is looked up in gradscope under the same path (`torch.nn.Conv2d` → `gradscope.nn.Conv2d`).
Methods called on tensors (`x.cumsum(0)`) can't be resolved without running the script and are not
listed.

>>> report = scan("model.py")
>>> [(use.api, use.lines, use.supported) for use in report.uses]
"""

from __future__ import annotations

import ast
import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from gradscope.trace.script import ScriptError, read_script
from gradscope.trace.torch_alias import ALIAS, TARGET


@dataclass
class ApiUse:
    """One torch API the script names, where, and whether gradscope has it."""

    api: str
    lines: list[int] = field(default_factory=list)
    supported: bool = False


@dataclass
class CompatReport:
    script: str
    uses: list[ApiUse]

    @property
    def unsupported(self) -> list[ApiUse]:
        return [use for use in self.uses if not use.supported]

    def to_json(self) -> dict:
        return {"script": self.script, "supported": not self.unsupported,
                "apis": [{"api": u.api, "lines": u.lines, "supported": u.supported} for u in self.uses]}


def scan(path: str | os.PathLike) -> CompatReport:
    """Read the script (never run it) and list its torch API uses. Raises ScriptError if it can't be read."""
    path = Path(path)
    source = read_script(path)
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as error:
        raise ScriptError(f"{path}: syntax error at line {error.lineno}") from None
    uses: dict[str, ApiUse] = {}
    for api, line in _api_uses(tree):
        uses.setdefault(api, ApiUse(api)).lines.append(line)
    for use in uses.values():
        use.lines = sorted(set(use.lines))
        use.supported = implemented(use.api)
    return CompatReport(str(path), sorted(uses.values(), key=lambda u: (u.lines[0], u.api)))


def implemented(api: str) -> bool:
    """Whether gradscope has `api` ('torch.nn.Conv2d') under its own name ('gradscope.nn.Conv2d')."""
    parts = (TARGET + api[len(ALIAS):]).split(".")
    for split in range(len(parts), 0, -1):  # the longest importable module, then attributes
        try:
            found = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


def _api_uses(tree: ast.Module):
    """(api, line) for every import of and attribute chain on a torch module or name."""
    names: dict[str, str] = {}  # local name → the torch path it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == ALIAS or alias.name.startswith(ALIAS + "."):
                    yield alias.name, node.lineno
                    if alias.asname:
                        names[alias.asname] = alias.name
                    else:
                        names[ALIAS] = ALIAS  # `import torch.nn` binds `torch`
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                node.module == ALIAS or node.module.startswith(ALIAS + ".")):
            for alias in node.names:
                if alias.name == "*":
                    yield node.module, node.lineno
                    continue
                full = f"{node.module}.{alias.name}"
                names[alias.asname or alias.name] = full
                yield full, node.lineno
    inner = {id(node.value) for node in ast.walk(tree)
             if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inner:  # the whole chain once, not each prefix
            chain = _chain(node)
            if chain and chain[0] in names:
                yield ".".join([names[chain[0]], *chain[1:]]), node.lineno


def _chain(node: ast.Attribute) -> list[str] | None:
    """['nn', 'functional', 'relu'] for `nn.functional.relu`; None if it isn't a plain name chain."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(parts)]
