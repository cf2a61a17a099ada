"""torch.Generator: a seedable random generator that the factories' `generator=` arguments accept.

It *is* a NumPy `Generator` (PCG64), so `rand(…, generator=g)`, `randperm(n, generator=g)` and the
samplers of `utils.data` draw from it directly. Values differ from PyTorch's; the API doesn't.

    g = Generator().manual_seed(0)
    randperm(5, generator=g)
"""

from __future__ import annotations

import numpy as np

from gradscope.autograd.tensor import device as Device

DEFAULT_SEED = 67280421310721  # PyTorch's: an unseeded Generator() starts from this same seed every time


class Generator(np.random.Generator):
    def __init__(self, device="cpu") -> None:
        self.device = device if isinstance(device, Device) else Device(device)
        self._initial_seed = DEFAULT_SEED
        super().__init__(np.random.PCG64(self._initial_seed))

    def manual_seed(self, seed: int) -> Generator:
        self._initial_seed = int(seed)
        self.bit_generator.state = np.random.PCG64(self._initial_seed).state
        return self

    def seed(self) -> int:
        self.manual_seed(int(np.random.SeedSequence().entropy % (2**63)))
        return self._initial_seed

    def initial_seed(self) -> int:
        return self._initial_seed

    def get_state(self) -> dict:
        return self.bit_generator.state

    def set_state(self, new_state: dict) -> Generator:
        self.bit_generator.state = new_state
        return self

    def __reduce__(self):
        return (_rebuild, (str(self.device), self.get_state(), self._initial_seed))


def _rebuild(device, state, initial_seed) -> Generator:
    generator = Generator(device)
    generator._initial_seed = initial_seed
    return generator.set_state(state)
