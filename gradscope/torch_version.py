"""`torch.torch_version.TorchVersion`: a version string that compares as a version (`"2.13.0" >= "2.9"` is True,
where as strings it is not), with strings and tuples alike. Under the `torch` alias a script's `torch.__version__`
is one: the PyTorch API version gradscope follows, gradscope's own as its local label (`2.13.0+gradscope.0.1.0`).
"""

from __future__ import annotations

import re

__all__ = ["TorchVersion"]

_RELEASE = re.compile(r"v?(\d+(?:\.\d+)*)")


def _key(version) -> tuple:
    """(release numbers padded to 4, local label parts): PEP 440's order for release and local versions."""
    if isinstance(version, tuple):
        release, local = tuple(int(part) for part in version), ()
    else:
        text, _, label = str(version).strip().partition("+")
        match = _RELEASE.match(text)
        if match is None:
            raise ValueError(f"Invalid version: {version!r}")
        release = tuple(int(part) for part in match.group(1).split("."))
        local = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[._-]", label) if p)
    return release + (0,) * (4 - len(release)), local


class TorchVersion(str):
    """A str whose comparisons are a version's."""

    def _compare(self, other, test) -> bool:
        if not isinstance(other, (str, tuple)):
            return NotImplemented
        return test(_key(self), _key(other))  # a tuple is a release without a local label

    def __lt__(self, other):
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._compare(other, lambda a, b: a >= b)

    def __eq__(self, other):
        return self._compare(other, lambda a, b: a == b)

    # NOTE: `!=` stays str's, as in PyTorch's TorchVersion: "2.13.0" == "2.13" and "2.13.0" != "2.13" are both True
    __ne__ = str.__ne__
    __hash__ = str.__hash__
