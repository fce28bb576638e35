"""Making tensors: from data, filled with a constant, from ranges, or at random."""
from __future__ import annotations

from . import backend
from .tensor import Tensor


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor from a number, a (nested) list or an array; floats become float32.
    Like torch.tensor it copies (`from_numpy` shares the array's memory instead)."""
    t = Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
    if hasattr(data, "shape"):
        t.array = t.array.copy()
    return t


def _shape(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _made(array, requires_grad) -> Tensor:
    t = Tensor._wrap(array)
    return t.requires_grad_() if requires_grad else t


def _filled(fill: str, shape, dtype, device, requires_grad) -> Tensor:
    xp = backend.module_for(backend.normalize_device(device))
    array = getattr(xp, fill)(_shape(shape), dtype=dtype or backend.default_dtype())
    return _made(array, requires_grad)


def zeros(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled("zeros", shape, dtype, device, requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled("ones", shape, dtype, device, requires_grad)


def empty(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled("empty", shape, dtype, device, requires_grad)


def full(shape, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    t = _filled("empty", (shape,) if isinstance(shape, int) else shape, dtype, device,
                requires_grad)
    t.array[...] = fill_value
    return t


def _like(fill, other: Tensor, dtype, requires_grad) -> Tensor:
    return _filled(fill, other.shape, dtype or other.dtype, other.device, requires_grad)


def zeros_like(other: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return _like("zeros", other, dtype, requires_grad)


def ones_like(other: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return _like("ones", other, dtype, requires_grad)


def full_like(other: Tensor, fill_value, dtype=None, requires_grad=False) -> Tensor:
    return full(other.shape, fill_value, dtype or other.dtype, other.device, requires_grad)


def _random(sample, shape, dtype, device, requires_grad) -> Tensor:
    """Random numbers drawn on the CPU from the seeded generator (reproducible on any device)."""
    dtype = dtype or backend.default_dtype()
    array = sample(backend.rng(), _shape(shape)).astype(dtype, copy=False)
    if device is not None:
        array = backend.to_device(array, device)
    return _made(array, requires_grad)


def randn(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples."""
    return _random(lambda g, s: g.standard_normal(s), shape, dtype, device, requires_grad)


def rand(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    return _random(lambda g, s: g.random(s), shape, dtype, device, requires_grad)


def randint(low, high=None, size=(), dtype=None, device=None) -> Tensor:
    """Integers uniform on [low, high) (or [0, low) when high is omitted), as PyTorch."""
    if high is None:
        low, high = 0, low
    return _random(lambda g, s: g.integers(low, high, size=s), (tuple(size),),
                   dtype or backend.int64, device, False)


def randperm(n: int, device=None) -> Tensor:
    return _random(lambda g, s: g.permutation(n), ((),), backend.int64, device, False)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    if end is None:
        start, end = 0, start
    xp = backend.module_for(backend.normalize_device(device))
    is_float = any(isinstance(v, float) for v in (start, end, step))
    dtype = dtype or (backend.default_dtype() if is_float else backend.int64)
    return _made(xp.arange(start, end, step, dtype=dtype), requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    xp = backend.module_for(backend.normalize_device(device))
    return _made(xp.linspace(start, end, steps, dtype=dtype or backend.default_dtype()),
                 requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    xp = backend.module_for(backend.normalize_device(device))
    return _made(xp.eye(n, m, dtype=dtype or backend.default_dtype()), requires_grad)


def from_numpy(array) -> Tensor:
    """A tensor sharing memory with a NumPy array (its dtype kept)."""
    return Tensor(array)
