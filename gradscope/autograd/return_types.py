"""Named (values, indices) results, printed as torch.return_types.max(...)."""

from __future__ import annotations


class ReturnType(tuple):
    """A (values, indices) pair with attribute access, like torch.return_types.max."""

    def __new__(cls, name: str, values, indices):
        self = super().__new__(cls, (values, indices))
        self._name = name
        return self

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})"


class MinMax(tuple):
    """A (min, max) pair with attribute access, like torch.return_types.aminmax."""

    def __new__(cls, low, high):
        return super().__new__(cls, (low, high))

    @property
    def min(self):
        return self[0]

    @property
    def max(self):
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types.aminmax(\nmin={self[0]!r},\nmax={self[1]!r})"


class Histogram(tuple):
    """A (hist, bin_edges) pair with attribute access, like torch.return_types.histogram."""

    def __new__(cls, hist, bin_edges):
        return super().__new__(cls, (hist, bin_edges))

    @property
    def hist(self):
        return self[0]

    @property
    def bin_edges(self):
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types.histogram(\nhist={self[0]!r},\nbin_edges={self[1]!r})"


class Frexp(tuple):
    """torch.frexp's (mantissa, exponent) pair, printed as torch.return_types.frexp."""

    def __new__(cls, mantissa, exponent):
        return super().__new__(cls, (mantissa, exponent))

    @property
    def mantissa(self):
        return self[0]

    @property
    def exponent(self):
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types.frexp(\nmantissa={self[0]!r},\nexponent={self[1]!r})"
