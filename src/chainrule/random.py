"""Random streams: chainrule's global generator (`cr.manual_seed`) and `cr.Generator`, an
independent stream passed as `generator=` (PyTorch's way to make one draw reproducible
without touching the global seed)."""
from __future__ import annotations

import contextlib
import json

import numpy

from . import backend
from .backend import initial_seed
from .tensor import Tensor


def get_rng_state() -> Tensor:
    """The global stream's state as a uint8 tensor, the kind PyTorch returns (its numbers:
    NumPy's bit-generator state written as JSON), to clone, save and give set_rng_state."""
    return _state_tensor(backend.get_rng_state())


def set_rng_state(new_state: Tensor) -> None:
    backend.set_rng_state(_state_dict(new_state, "set_rng_state"))


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str = "cuda"):
    """Draws inside the block leave the global stream as it was: its state is saved on
    entering and put back on leaving (torch.random.fork_rng; `enabled=False` does nothing)."""
    if not enabled:
        yield
        return
    saved = backend.get_rng_state()
    try:
        yield
    finally:
        backend.set_rng_state(saved)


def _state_tensor(state: dict) -> Tensor:
    return Tensor._wrap(numpy.frombuffer(json.dumps(state).encode(), dtype=numpy.uint8).copy())


def _state_dict(state, caller: str) -> dict:
    """The bit-generator state a tensor from get_rng_state holds (a dict passes as it is)."""
    if isinstance(state, dict):
        return state
    if not isinstance(state, Tensor) or state.dtype != numpy.uint8:
        given = f"{type(state).__name__} of {state.dtype}" if isinstance(state, Tensor) \
            else type(state).__name__
        raise TypeError(f"{caller}: expected a torch.ByteTensor from get_rng_state, got {given}")
    try:
        return json.loads(bytes(numpy.asarray(state.array, dtype=numpy.uint8)).decode())
    except ValueError:
        raise RuntimeError(f"{caller}: this state was not made by chainrule's get_rng_state "
                           "(a PyTorch generator's state cannot be read)") from None


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

    def get_state(self) -> Tensor:
        """This stream's state as a uint8 tensor (as get_rng_state), for set_state."""
        return _state_tensor(self.numpy_generator.bit_generator.state)

    def set_state(self, new_state: Tensor) -> Generator:
        self.numpy_generator.bit_generator.state = _state_dict(new_state, "Generator.set_state")
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

    def get_state(self) -> Tensor:
        return get_rng_state()

    def set_state(self, new_state: Tensor) -> Generator:
        set_rng_state(new_state)
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
