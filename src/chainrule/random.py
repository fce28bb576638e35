"""Random streams: chainrule's global generator (`cr.manual_seed`) and `cr.Generator`, an
independent stream passed as `generator=` (PyTorch's way to make one draw reproducible
without touching the global seed)."""
from __future__ import annotations

import numpy

from . import backend
from .backend import get_rng_state, initial_seed, set_rng_state  # noqa: F401 - torch.random's


class Generator:
    """An independent random stream: `g = cr.Generator().manual_seed(0)`;
    `cr.randn(3, generator=g)`. Draws come from its own NumPy generator."""

    def __init__(self, device="cpu"):
        self.device = backend.normalize_device(device)
        self._seed = int(numpy.random.SeedSequence().entropy % 2 ** 63)
        self.numpy_generator = numpy.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self.numpy_generator = numpy.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Reseed from fresh entropy; returns the new seed."""
        return self.manual_seed(numpy.random.SeedSequence().entropy % 2 ** 63)._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self.numpy_generator.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        self.numpy_generator.bit_generator.state = state
        return self


class _DefaultGenerator(Generator):
    """`cr.default_generator`: the global stream itself, seen as a Generator."""

    def __init__(self):
        self.device = backend.CPU

    @property
    def numpy_generator(self) -> numpy.random.Generator:
        return backend.rng()

    def manual_seed(self, seed: int) -> Generator:
        backend.manual_seed(seed)
        return self

    def initial_seed(self) -> int:
        return initial_seed()

    def get_state(self) -> dict:
        return get_rng_state()

    def set_state(self, state: dict) -> Generator:
        set_rng_state(state)
        return self


default_generator = _DefaultGenerator()


def manual_seed(seed: int) -> Generator:
    """Seed every random source (the global stream, Python's, CuPy's); returns the global
    generator, as torch.manual_seed."""
    return default_generator.manual_seed(seed)


def stream(generator: Generator | None) -> numpy.random.Generator:
    """The NumPy generator to draw from: the global one, or `generator`'s own."""
    return backend.rng() if generator is None else generator.numpy_generator


def seed() -> int:
    """Seed every source from fresh entropy (as torch.seed); returns the seed."""
    fresh = int(numpy.random.SeedSequence().entropy % 2 ** 63)
    manual_seed(fresh)
    return fresh
