"""torch.Generator: PyTorch's CPU random stream, which the factories' `generator=` arguments accept.

Like PyTorch's, it is a Mersenne Twister (MT19937) seeded with the seed's low 32 bits (init_genrand), and
`uniform` / `normal` turn its 32-bit words into numbers the way PyTorch's CPU kernels do, so after the same
seed rand, randn, uniform_, normal_ and the nn.init fills give PyTorch's values (float32 normals of 16 or
more elements through PyTorch's x86 vectorised float math, float32_math; float64 ones of 16 or more within
2 ulps, NumPy's log/cos/sin against the C library's). randint, randperm, bernoulli, multinomial, random_,
exponential_, geometric_, cauchy_ (and log_normal_, but for float64 normals of 32 or more elements), and so
the samplers of `utils.data` and dropout, draw PyTorch's values too. The words come from NumPy's MT19937 in
bulk, never one Python call per element (only the scalar normals of fewer than 16 elements and float64
results of exponential_ and co. go through `math`, and randperm's swaps are sequential).

    g = Generator().manual_seed(0)
    randn(3, generator=g)       # tensor([ 1.5410, -0.2934, -2.1788]), as in PyTorch
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from gradscope import _dtypes
from gradscope.autograd import float32_math
from gradscope.autograd.tensor import Tensor, _c_type_name
from gradscope.autograd.tensor import device as Device

DEFAULT_SEED = 67280421310721  # PyTorch's: an unseeded Generator() starts from this same seed every time
# PyTorch's CPUGeneratorImplState, the bytes of its get_state(): the engine (initial seed, words left before the
# next twist, position, 624 32-bit words each in 64 bits) and the cached normals (the double one in the old
# layout's normal_y; its normal_x and normal_rho, at 5016 and 5032, stay 0), zero padding
_TORCH_STATE = np.dtype({
    "names": ["seed", "left", "seeded", "next", "key", "normal", "normal_is_valid", "float_normal",
              "float_normal_is_valid"],
    "formats": ["<u8", "<i4", "<i4", "<u8", ("<u8", 624), "<f8", "<i4", "<f4", "u1"],
    "offsets": [0, 8, 12, 16, 24, 5024, 5040, 5048, 5052],
    "itemsize": 5056,
})
_BOX_MULLER_BLOCK = 16  # PyTorch's normal fill transforms uniforms 16 at a time: u[j], u[j + 8] → n[j], n[j + 8]


def _mt19937_seeded(seed: int) -> dict:
    """The MT19937 state `init_genrand(seed)` makes (C++'s std::mt19937(seed), PyTorch's engine), as NumPy's
    MT19937 state; NumPy's legacy RandomState seeds an int exactly this way."""
    state = np.random.RandomState(seed & 0xFFFF_FFFF).get_state(legacy=False)["state"]
    return {"bit_generator": "MT19937", "state": state}


class Generator(np.random.Generator):
    def __init__(self, device="cpu") -> None:
        self.device = device if isinstance(device, Device) else Device(device)
        super().__init__(np.random.MT19937())
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        self._initial_seed = int(seed) % 2**64  # PyTorch keeps the seed as uint64: -1 is 2**64 - 1
        self.bit_generator.state = _mt19937_seeded(self._initial_seed)
        self._next_normal = None  # the second Box-Muller draw of the scalar normal, kept for the next call
        self._next_float_normal = None  # in PyTorch's state too; its CPU kernels never draw or use it
        return self

    def seed(self) -> int:
        self.manual_seed(int(np.random.SeedSequence().entropy % (2**63)))
        return self._initial_seed

    def initial_seed(self) -> int:
        return self._initial_seed

    def get_state(self) -> Tensor:
        """The state as PyTorch's CPU generator gives it: 5056 bytes (uint8), the same bytes for the same
        stream, so a state saved by either library loads in the other.

        >>> state = gradscope.get_rng_state(); a = gradscope.rand(2)
        >>> gradscope.set_rng_state(state); bool((gradscope.rand(2) == a).all())
        True
        """
        numpy_state = self.bit_generator.state["state"]
        key, position = numpy_state["key"], int(numpy_state["pos"])
        state = np.zeros(1, _TORCH_STATE)
        state["seed"], state["seeded"], state["key"] = self._initial_seed, 1, key
        if position == 624 and np.array_equal(key, _mt19937_seeded(self._initial_seed)["state"]["key"]):
            state["left"], state["next"] = 1, 0  # just seeded, as PyTorch's engine says it
        else:  # PyTorch's engine counts down the words left until its next twist and up its position
            state["left"], state["next"] = 625 - position, position
        if self._next_normal is not None:
            state["normal"], state["normal_is_valid"] = self._next_normal, 1
        if self._next_float_normal is not None:
            state["float_normal"], state["float_normal_is_valid"] = self._next_float_normal, 1
        return Tensor._make(state.view(np.uint8))

    def set_state(self, new_state: Tensor) -> Generator:
        """Continue from `new_state`, a state from get_state (this library's or PyTorch's)."""
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        data = new_state._data
        if data.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        if data.size != _TORCH_STATE.itemsize:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_TORCH_STATE.itemsize} but found the input "
                               f"RNG state size to be {data.size}")
        state = np.ascontiguousarray(data).reshape(-1).view(_TORCH_STATE)[0]
        left, position = int(state["left"]), int(state["next"])
        if not (state["seeded"] and 0 < left <= 624 and position <= 624):
            raise RuntimeError("Invalid mt19937 state")
        key = state["key"].astype(np.uint32)  # PyTorch keeps 32-bit words in 64-bit slots
        position = 624 if left == 1 else position  # the next word twists first
        self.bit_generator.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": position}}
        self._initial_seed = int(state["seed"])
        self._next_normal = float(state["normal"]) if state["normal_is_valid"] else None
        self._next_float_normal = float(state["float_normal"]) if state["float_normal_is_valid"] else None
        return self

    def __reduce__(self):
        return (_rebuild, (str(self.device), self.get_state()._data))

    # PyTorch's CPU distributions --------------------------------------------------------------------------------
    def words(self, count: int) -> np.ndarray:
        """The next `count` 32-bit outputs of the engine (uint64 holding 32 bits)."""
        return self.bit_generator.random_raw(count)

    def unit_uniform(self, count: int, dtype: np.dtype) -> np.ndarray:
        """`count` draws from [0, 1) of `dtype`: float32 takes one word's low 24 bits, float64 two words
        (the first the high half) and the low 53 bits of that."""
        if np.dtype(dtype) == np.float64:
            pairs = self.words(2 * count).reshape(count, 2)
            bits = ((pairs[:, 0] & 0x1F_FFFF) << np.uint64(32)) | pairs[:, 1]
            return bits.astype(np.float64) * 2.0**-53
        return (self.words(count) & 0xFF_FFFF).astype(np.float32) * np.float32(2.0**-24)

    def bernoulli_fill(self, shape: tuple, dtype: np.dtype, p) -> np.ndarray:
        """0/1 of `dtype`, each 1 with probability p, as bernoulli_ fills a tensor: a number p is compared with
        a double uniform per element (two words), an array p (of `shape`) with a uniform of its precision:
        double for float64 p, float (one word) for the others, whose p is compared as float32."""
        count = math.prod(shape)
        if isinstance(p, np.ndarray):
            kind = np.float64 if p.dtype == np.float64 else np.float32
            ones = self.unit_uniform(count, kind).reshape(shape) < p.astype(kind, copy=False)
        else:
            ones = self._doubles_below(count, p)
        return _owned(ones.astype(dtype), shape)

    def _doubles_below(self, count: int, p: float) -> np.ndarray:
        """Whether each of `count` double uniforms is below p, without making them: u = bits·2⁻⁵³ < p exactly
        when bits < t = ⌈p·2⁵³⌉ (p·2⁵³ is exact); the first word's 21 bits against t's high part decide, but
        on a tie (one draw in 2²¹) the second word does."""
        pairs = self.words(2 * count).reshape(count, 2)
        high = pairs[:, 0] & 0x1F_FFFF
        threshold = math.ceil(p * 2.0**53)
        below = high < np.uint64(threshold >> 32)
        tied = np.flatnonzero(high == np.uint64(threshold >> 32))
        below[tied] = pairs[tied, 1] < np.uint64(threshold & 0xFFFF_FFFF)
        return below

    # exponential_, geometric_, cauchy_, log_normal_: PyTorch's scalar kernels transform one double draw per
    # element with the C library's math, then cast (see _as_the_c_library_computes)
    def exponential_fill(self, shape: tuple, dtype: np.dtype, rate: float) -> np.ndarray:
        """Exp(rate): −1/rate · log1p(−u), u a double uniform."""
        u, scale = self.unit_uniform(math.prod(shape), np.float64), -1.0 / rate
        values = _as_the_c_library_computes(scale * np.log1p(-u), _cast(dtype),
                                            lambda where: scale * _each(math.log1p, -u[where]))
        return _owned(values, shape)

    def geometric_fill(self, shape: tuple, dtype: np.dtype, p: float) -> np.ndarray:
        """Geometric(p) on 1, 2, …: ⌈log(u) / log1p(−p)⌉, u a double uniform."""
        u, scale = self.unit_uniform(math.prod(shape), np.float64), math.log1p(-p)
        with np.errstate(divide="ignore"):  # u = 0: log(0) = −inf, as in C
            approximate = np.log(u) / scale
        values = _as_the_c_library_computes(approximate, lambda q: np.ceil(q).astype(dtype),
                                            lambda where: _each(math.log, u[where]) / scale)
        return _owned(values, shape)

    def cauchy_fill(self, shape: tuple, dtype: np.dtype, median: float, sigma: float) -> np.ndarray:
        """Cauchy(median, sigma): median + sigma · tan(π (u − ½)) (one rounding: an FMA), u a double uniform."""
        u = self.unit_uniform(math.prod(shape), np.float64)
        angle = math.pi * (u - 0.5)
        values = _as_the_c_library_computes(np.tan(angle), _then_cast(sigma, median, dtype),
                                            lambda where: _each(math.tan, angle[where]))
        return _owned(values, shape)

    def log_normal_fill(self, shape: tuple, dtype: np.dtype, mean: float, std: float) -> np.ndarray:
        """LogNormal(mean, std): exp(mean + std · z), z the scalar double normal (kept pair included)."""
        exponent = _fused_multiply_add(self.scalar_normals(math.prod(shape)), np.float64(std), np.float64(mean))
        values = _as_the_c_library_computes(np.exp(exponent), _cast(dtype),
                                            lambda where: _each(math.exp, exponent[where]))
        return _owned(values, shape)

    def integers_fill(self, shape: tuple, dtype: np.dtype, low: int, high: int) -> np.ndarray:
        """Integers in [low, high) as randint / random_(low, high) fill a tensor of `dtype`: one word, or (for
        a range of 2**28 or more, any dtype) a random64, modulo the range, plus low. NOTE: PyTorch's releases
        switch to random64 at 2**28 (to bound the modulo's skew); its internal builds at 2**32, and only for
        int64/float tensors."""
        dtype = np.dtype(dtype)
        _check_range(low, high, dtype)
        count, span = math.prod(shape), high - low
        if span >= 2**28:
            pairs = self.words(2 * count).reshape(count, 2)
            raw = (pairs[:, 0] << np.uint64(32)) | pairs[:, 1]
        else:
            raw = self.words(count)
        shifted = raw % np.uint64(span) + np.uint64(low % 2**64)  # wraps as PyTorch's uint64 arithmetic does
        return _owned(shifted.view(np.int64).astype(dtype), shape)

    def random_fill(self, shape: tuple, dtype: np.dtype) -> np.ndarray:
        """What random_() with no range fills a tensor of `dtype` with: a word (a random64 for int64 and
        float64) modulo the dtype's count of values from 0 (its maximum + 1; for floats 2**digits + 1)."""
        dtype = np.dtype(dtype)
        count = math.prod(shape)
        if dtype in (np.int64, np.float64):
            pairs = self.words(2 * count).reshape(count, 2)
            raw = (pairs[:, 0] << np.uint64(32)) | pairs[:, 1]
        else:
            raw = self.words(count)
        if dtype.kind == "f":
            modulus = 2 ** (np.finfo(dtype).nmant + 1) + 1
        else:
            modulus = 2 if dtype == np.bool_ else int(np.iinfo(dtype).max) + 1
        return _owned((raw % np.uint64(modulus)).astype(dtype), shape)

    def permutation_fill(self, n: int) -> np.ndarray:
        """A permutation of 0 … n−1 as PyTorch's CPU randperm shuffles (n below 2**32 / 20): Fisher-Yates
        from the front, position i swapped with i + word % (n − i). The words are drawn at once; the swaps
        are sequential, a Python loop over a list (about 10 ms for n = 60,000)."""
        if n >= 2**32 // 20:
            raise NotImplementedError("randperm of 2**32 / 20 elements or more (PyTorch shuffles those otherwise)")
        offsets = (self.words(max(n - 1, 0)) % np.arange(n, 1, -1, dtype=np.uint64)).tolist()
        order = list(range(n))
        for i, offset in enumerate(offsets):
            j = i + offset
            order[i], order[j] = order[j], order[i]
        return np.array(order, dtype=np.int64)

    def uniform_fill(self, shape: tuple, dtype: np.dtype, low: float, high: float) -> np.ndarray:
        """U(low, high) as Tensor.uniform_ fills a tensor of `dtype` (float32 math for float32; other dtypes
        than float32/float64 draw as float32 and are cast). A complex tensor's real and imaginary parts are each
        U(low, high): PyTorch fills its view_as_real."""
        dtype = np.dtype(dtype)
        _refuse_integers(dtype, "check_uniform_bounds")
        if dtype.kind == "c":
            return _as_complex(self.uniform_fill((*shape, 2), _real_part(dtype), low, high), dtype, shape)
        kind = np.float64 if dtype == np.float64 else np.float32
        low, high = kind(low), kind(high)
        x = self.unit_uniform(math.prod(shape), kind)
        return _owned(_fused_multiply_add(x, high - low, low).astype(dtype, copy=False), shape)

    def normal_fill(self, shape: tuple, dtype: np.dtype, mean: float, std: float, contiguous=True) -> np.ndarray:
        """N(mean, std²) as Tensor.normal_ fills a tensor of `dtype`: a contiguous one of 16 elements or more
        takes uniforms for all of them, then Box-Muller on each block of 16 (a ragged tail redraws the last
        16); others take the scalar normal (random64 doubles, the second draw kept for the next call). A complex
        tensor's real and imaginary parts are each N(mean, std²/2), so that E|z - mean|² = std²: PyTorch fills its
        view_as_real with std/√2."""
        dtype = np.dtype(dtype)
        _refuse_integers(dtype, "normal_kernel_cpu")
        if dtype.kind == "c":
            values = self.normal_fill((*shape, 2), _real_part(dtype), mean, std / math.sqrt(2), contiguous)
            return _as_complex(values, dtype, shape)
        count = math.prod(shape)
        if count < _BOX_MULLER_BLOCK or not contiguous:
            values = _fused_multiply_add(self.scalar_normals(count), np.float64(std), np.float64(mean))
            return _owned(values.astype(dtype, copy=False), shape)
        kind = np.float64 if dtype == np.float64 else np.float32
        u = self.unit_uniform(count, kind)
        whole = count - count % _BOX_MULLER_BLOCK
        values = np.empty(count, dtype=kind)
        values[:whole] = _box_muller_blocks(u[:whole], kind)
        if whole < count:  # the last 16 elements, drawn afresh, overwrite the tail
            values[-_BOX_MULLER_BLOCK:] = _box_muller_blocks(self.unit_uniform(_BOX_MULLER_BLOCK, kind), kind)
        return _owned(_fused_multiply_add(values, kind(std), kind(mean)).astype(dtype, copy=False), shape)

    def scalar_normals(self, count: int) -> np.ndarray:
        """`count` standard normals from PyTorch's scalar normal_distribution<double>: each fresh pair of
        doubles (u1, u2) gives r·cos θ now and r·sin θ on the next call (r = √(−2 log(1 − u2)), θ = 2π u1)."""
        out = np.empty(count, dtype=np.float64)
        start = 0
        if count and self._next_normal is not None:
            out[0], self._next_normal, start = self._next_normal, None, 1
        pairs = (count - start + 1) // 2
        if pairs:
            u = self.unit_uniform(2 * pairs, np.float64).reshape(pairs, 2)
            if pairs < _BOX_MULLER_BLOCK:  # the C library's log1p/cos/sin (math's, as PyTorch's): exact
                drawn = np.array([value for u1, u2 in u.tolist() for value in _box_muller_pair(u1, u2)])
            else:  # a large non-contiguous fill: NumPy's, within an ulp or two
                r = np.sqrt(-2.0 * np.log1p(-u[:, 1]))
                theta = 2.0 * math.pi * u[:, 0]
                drawn = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1).ravel()
            out[start:] = drawn[:count - start]
            if len(drawn) > count - start:
                self._next_normal = float(drawn[-1])
        return out


def _check_range(low: int, high: int, dtype: np.dtype) -> None:
    """PyTorch's checks on random_(low, high) / randint(low, high): a non-empty range whose ends `dtype`
    holds, with a warning for floats past the integers they hold exactly."""
    if not low < high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    ends = (("from", low), ("to - 1", high - 1))
    if dtype.kind == "f":
        info = np.finfo(dtype)
        smallest, largest = float(info.min), float(info.max)
    else:
        info = np.iinfo(np.uint8 if dtype == np.bool_ else dtype)
        smallest, largest = int(info.min), 1 if dtype == np.bool_ else int(info.max)
    for name, value in ends:
        if not smallest <= value <= largest:
            raise RuntimeError(f"{name} is out of bounds for {_c_type_name(dtype)}")
    if dtype.kind == "f":
        digits = np.finfo(dtype).nmant + 1
        for name, value in ends:
            if not -(2**digits) <= value <= 2**digits:
                warnings.warn(f"{name} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision limitations "
                              f"{_c_type_name(dtype)} can support discrete uniform distribution only within this "
                              "range. This warning will become an error in version 1.7 release, please fix the code "
                              "in advance", UserWarning, stacklevel=4)


def _refuse_integers(dtype: np.dtype, kernel: str) -> None:
    """Uniform and normal draws are of floating dtypes only: PyTorch's kernels are not implemented for others."""
    if dtype.kind in "biu":
        name = _dtypes.from_numpy_dtype(dtype).legacy_name.removesuffix("Tensor")
        raise NotImplementedError(f'"{kernel}" not implemented for \'{name}\'')


def _real_part(dtype: np.dtype) -> np.dtype:
    return np.dtype(np.float64 if dtype == np.complex128 else np.float32)


def _as_complex(pairs: np.ndarray, dtype: np.dtype, shape: tuple) -> np.ndarray:
    """Real and imaginary parts, the last dim of `pairs`, as one complex array of `shape` (owning its memory)."""
    return _owned(pairs.view(dtype), shape)


def _owned(values: np.ndarray, shape: tuple) -> np.ndarray:
    """`values` given `shape` in place, owning its memory (not a view: a factory's memory is its own, see
    gradscope.autograd.writes)."""
    if values.base is not None:
        values = values.copy()
    values.shape = shape
    return values


def fill_in_memory_order(target: np.ndarray, draw, *inputs: np.ndarray) -> np.ndarray:
    """`draw(shape, *inputs)`'s values laid out as PyTorch's CPU kernels write them into `target`: in memory
    order, dims taken from the largest stride to the smallest (a transposed tensor is filled as its storage
    is laid out, a sliced one in index order). `inputs` of target's shape (a bernoulli_'s p) are passed
    permuted the same way."""
    order = np.argsort([-stride for stride in target.strides], kind="stable")
    values = draw(tuple(target.shape[axis] for axis in order), *(array.transpose(order) for array in inputs))
    return values.transpose(np.argsort(order))


def _box_muller_pair(u1: float, u2: float) -> tuple[float, float]:
    r = math.sqrt(-2.0 * math.log1p(-u2))
    theta = 2.0 * math.pi * u1
    return r * math.cos(theta), r * math.sin(theta)


def _box_muller_blocks(u: np.ndarray, kind) -> np.ndarray:
    """Standard normals from uniforms in blocks of 16: u1 = 1 − u[j], u2 = u[j + 8] (j < 8) give
    r·cos θ at j and r·sin θ at j + 8, r = √(−2 log u1), θ = 2π u2. float32 runs PyTorch's vectorised
    kernel step by step in float32 with its log and sincos (float32_math): PyTorch's values on x86. float64
    uses NumPy's log/cos/sin, within 2 ulps of the C library's that PyTorch calls."""
    blocks = u.reshape(-1, 2, 8)
    u1, u2 = 1 - blocks[:, 0], blocks[:, 1]
    if kind == np.float32:
        radius = np.sqrt(np.float32(-2) * float32_math.log(u1))
        sin, cos = float32_math.sincos(np.float32(2 * math.pi) * u2)
        return np.stack([radius * cos, radius * sin], axis=1).ravel()
    radius = np.sqrt(-2 * np.log(u1))
    theta = 2.0 * math.pi * u2
    return np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1).ravel()


def _as_the_c_library_computes(approximate: np.ndarray, finish, exact) -> np.ndarray:
    """`finish` (a cast, a ceil) of doubles PyTorch computes with the C library's log1p/log/tan/exp, given
    them computed with NumPy's vectorised functions (`approximate`); `exact(where)` recomputes those at
    `where` with `math`, which calls the C library. NOTE: NumPy's functions differ from the C library's in a
    double's last bit for some inputs (7% for log1p); `finish` hides that unless its result changes within 8
    ulps of the value (near a float32 rounding boundary: about one draw in 2**26), so only those draws are
    recomputed (all of them when `finish` keeps doubles)."""
    margin = 8 * np.finfo(np.float64).eps
    values = finish(approximate)
    unsure = np.flatnonzero(finish(approximate * (1 - margin)) != finish(approximate * (1 + margin)))
    if unsure.size:
        values[unsure] = finish(exact(unsure))
    return values


def _each(function, values: np.ndarray) -> np.ndarray:
    """`function` (one of math's) applied to each element: the C library's result."""
    return np.fromiter(map(function, values.tolist()), np.float64, len(values))


def _cast(dtype: np.dtype):
    return lambda values: values.astype(dtype)


def _then_cast(scale: float, offset: float, dtype: np.dtype):
    return lambda values: _fused_multiply_add(values, np.float64(scale), np.float64(offset)).astype(dtype)


def _fused_multiply_add(x: np.ndarray, scale, offset) -> np.ndarray:
    """x · scale + offset rounded once, as PyTorch's compiled kernels compute it (an FMA instruction), in x's
    dtype. float32 operands multiply exactly in float64; float64 takes Dekker's exact product and a
    compensated sum (NOTE: a plain x * scale + offset differs in the last bit for about half the draws)."""
    if x.dtype == np.float32:
        return (x.astype(np.float64) * np.float64(scale) + np.float64(offset)).astype(np.float32)
    scale = np.float64(scale)
    product = x * scale
    x_hi, x_lo = _halves(x)
    s_hi, s_lo = _halves(scale)
    product_error = ((x_hi * s_hi - product) + x_hi * s_lo + x_lo * s_hi) + x_lo * s_lo
    total = product + offset
    overshoot = total - product
    sum_error = (product - (total - overshoot)) + (offset - overshoot)
    return total + (sum_error + product_error)


def _halves(x):
    """x split into two halves of 26 significant bits each, whose products are exact (Veltkamp)."""
    scaled = x * 134217729.0  # 2**27 + 1
    high = scaled - (scaled - x)
    return high, x - high


def _rebuild(device, state: np.ndarray) -> Generator:
    return Generator(device).set_state(Tensor._make(state))
