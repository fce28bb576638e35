"""Making tensors: from data, filled with a constant, from ranges, or at random.

The arguments are PyTorch's: a shape as separate ints or one tuple, and the keywords
`dtype=`, `device=` (None: the default device, `cr.set_default_device`),
`requires_grad=`, `generator=` on the random ones (None: the global stream that
`cr.manual_seed` seeds), and `layout=`, `pin_memory=`, `memory_format=`, which change
nothing here (one dense layout, no pinned memory).
"""
from __future__ import annotations

import numbers

import numpy

from . import backend
from .random import stream
from .shapes import Size
from .tensor import Tensor, _as_array

# PyTorch keywords that select what chainrule always does (dense arrays, pageable memory).
_IGNORED = ("layout", "pin_memory", "memory_format")


def _check(name: str, extra: dict) -> None:
    unknown = [k for k in extra if k not in _IGNORED]
    if unknown:
        raise TypeError(f"{name}(): unexpected keyword argument '{unknown[0]}'")


def tensor(data, dtype=None, device=None, requires_grad: bool = False, **extra) -> Tensor:
    """A new tensor from a number, a (nested) list or an array; floats become the default
    dtype. Like torch.tensor it copies (`from_numpy` shares the array's memory instead)."""
    _check("tensor", extra)
    if device is None and not hasattr(data, "shape"):
        device = backend.default_device()
    t = Tensor._wrap(_as_array(data, dtype, device)).requires_grad_(requires_grad)
    if hasattr(data, "shape"):
        t.array = t.array.copy()
    return t


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """`data` as a tensor, sharing its memory where dtype and device already match."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    return Tensor._wrap(_as_array(data, dtype, device))


asarray = as_tensor


def from_numpy(array) -> Tensor:
    """A tensor sharing memory with a NumPy array (its dtype kept)."""
    return Tensor._wrap(_as_array(array))


def _keyword_size(size: tuple, extra: dict) -> tuple:
    """`torch.empty(size=(2, 3))`: the shape given by keyword, as PyTorch allows."""
    return (extra.pop("size"),) if "size" in extra and not size else size


def _shape(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(int(n) for n in shape[0])
    return tuple(int(n) for n in shape)


def _made(array, requires_grad) -> Tensor:
    t = Tensor._wrap(array)
    return t.requires_grad_() if requires_grad else t


def _filled(fill: str, shape, dtype, device, requires_grad) -> Tensor:
    xp = backend.module_for(backend.normalize_device(device))
    array = getattr(xp, fill)(shape, dtype=dtype or backend.default_dtype())
    return _made(array, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, **extra) -> Tensor:
    size = _keyword_size(size, extra)
    _check("zeros", extra)
    return _filled("zeros", _shape(size), dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, **extra) -> Tensor:
    size = _keyword_size(size, extra)
    _check("ones", extra)
    return _filled("ones", _shape(size), dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, **extra) -> Tensor:
    size = _keyword_size(size, extra)
    _check("empty", extra)
    return _filled("empty", _shape(size), dtype, device, requires_grad)


def _dtype_of_value(value):
    """The dtype PyTorch gives `full(size, value)`: bool, int64 or the default float."""
    if isinstance(value, (bool, numpy.bool_)):
        return backend.bool_
    if isinstance(value, numbers.Integral):
        return backend.int64
    return backend.default_dtype()


def full(size, fill_value, dtype=None, device=None, requires_grad=False, **extra) -> Tensor:
    _check("full", extra)
    size = (size,) if isinstance(size, numbers.Integral) else size
    value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    t = _filled("empty", _shape((size,)), dtype or _dtype_of_value(value), device,
                requires_grad)
    t.array[...] = value
    return t


def _like(other: Tensor, dtype, device) -> tuple:
    return other.shape, dtype or other.dtype, device if device is not None else other.device


def zeros_like(input: Tensor, dtype=None, device=None, requires_grad=False,  # noqa: A002
               **extra) -> Tensor:
    _check("zeros_like", extra)
    return _filled("zeros", *_like(input, dtype, device), requires_grad)


def ones_like(input: Tensor, dtype=None, device=None, requires_grad=False,  # noqa: A002
              **extra) -> Tensor:
    _check("ones_like", extra)
    return _filled("ones", *_like(input, dtype, device), requires_grad)


def empty_like(input: Tensor, dtype=None, device=None, requires_grad=False,  # noqa: A002
               **extra) -> Tensor:
    _check("empty_like", extra)
    return _filled("empty", *_like(input, dtype, device), requires_grad)


def full_like(input: Tensor, fill_value, dtype=None, device=None,  # noqa: A002
              requires_grad=False, **extra) -> Tensor:
    _check("full_like", extra)
    shape, dtype, device = _like(input, dtype, device)
    return full(shape, fill_value, dtype, device, requires_grad)


class _LegacyTensorMeta(type):
    def __instancecheck__(cls, instance) -> bool:
        """isinstance(t, cr.FloatTensor): a CPU tensor of that dtype, as in PyTorch."""
        return isinstance(instance, Tensor) and instance.dtype == cls.dtype \
            and instance.device.type == "cpu"


class _LegacyTensorType(metaclass=_LegacyTensorMeta):
    """PyTorch's old constructors (`torch.LongTensor([1, 2])`, `torch.FloatTensor(2, 3)`,
    `torch.FloatTensor(x.size())`): from data, or uninitialised of the given sizes (a
    `Size` is sizes, a plain tuple or list is data), with a fixed dtype."""

    dtype: numpy.dtype

    def __new__(cls, *args, device=None):
        args = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Size) else args
        if not args:  # `torch.FloatTensor()`: an empty vector
            return empty(0, dtype=cls.dtype, device=device)
        if all(isinstance(a, numbers.Integral) for a in args):
            return empty(*args, dtype=cls.dtype, device=device)
        return tensor(args[0], dtype=cls.dtype, device=device)


def _legacy(name: str, dtype) -> type:
    return _LegacyTensorMeta(name, (_LegacyTensorType,), {
        "dtype": numpy.dtype(dtype), "__doc__": f"torch.{name}: a {dtype} tensor (legacy)."})


LEGACY_TYPES = {name: _legacy(name, dtype) for name, dtype in (
    ("FloatTensor", "float32"), ("DoubleTensor", "float64"), ("HalfTensor", "float16"),
    ("LongTensor", "int64"), ("IntTensor", "int32"), ("ShortTensor", "int16"),
    ("CharTensor", "int8"), ("ByteTensor", "uint8"), ("BoolTensor", "bool"))}


# --- ranges --------------------------------------------------------------------------------
def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False,
           **extra) -> Tensor:
    _check("arange", extra)
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    xp = backend.module_for(backend.normalize_device(device))
    is_float = any(isinstance(v, float) for v in (start, end, step))
    dtype = dtype or (backend.default_dtype() if is_float else backend.int64)
    return _made(xp.arange(start, end, step, dtype=dtype), requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False,
             **extra) -> Tensor:
    _check("linspace", extra)
    xp = backend.module_for(backend.normalize_device(device))
    return _made(xp.linspace(start, end, steps, dtype=dtype or backend.default_dtype()),
                 requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, dtype=None, device=None,
             requires_grad=False, **extra) -> Tensor:
    """base ** linspace(start, end, steps)."""
    _check("logspace", extra)
    xp = backend.module_for(backend.normalize_device(device))
    return _made(xp.logspace(start, end, steps, base=base,
                             dtype=dtype or backend.default_dtype()), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False,
        **extra) -> Tensor:
    _check("eye", extra)
    xp = backend.module_for(backend.normalize_device(device))
    return _made(xp.eye(n, m, dtype=dtype or backend.default_dtype()), requires_grad)


def _triangle_indices(which, row: int, col: int, offset: int, dtype, device) -> Tensor:
    xp = backend.module_for(backend.normalize_device(device))
    rows, cols = getattr(xp, which)(row, offset, col)
    return _made(xp.stack([rows, cols]).astype(dtype or backend.int64), False)


def tril_indices(row: int, col: int, offset: int = 0, dtype=None, device=None,
                 **extra) -> Tensor:
    """The (2, N) row and column indices of the lower triangle, in row-major order."""
    _check("tril_indices", extra)
    return _triangle_indices("tril_indices", row, col, offset, dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, dtype=None, device=None,
                 **extra) -> Tensor:
    _check("triu_indices", extra)
    return _triangle_indices("triu_indices", row, col, offset, dtype, device)


def range(start, end=None, step=1, dtype=None, device=None, requires_grad=False,  # noqa: A001
          **extra) -> Tensor:
    """torch.range (deprecated there): like arange but including `end`, default float."""
    _check("range", extra)
    if end is None:
        start, end = 0, start
    count = int(numpy.floor((end - start) / step)) + 1
    values = arange(count, dtype=dtype or backend.default_dtype(), device=device) * step + start
    return values.requires_grad_() if requires_grad else values


def scalar_tensor(s, dtype=None, device=None, requires_grad=False, **extra) -> Tensor:
    _check("scalar_tensor", extra)
    return full((), s, dtype=dtype or backend.default_dtype(), device=device,
                requires_grad=requires_grad)


def empty_strided(size, stride, dtype=None, device=None, requires_grad=False,
                  **extra) -> Tensor:
    """An uninitialised tensor of `size` (the strides are NumPy's own: C order)."""
    _check("empty_strided", extra)
    return empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


def _window(name: str, formula):
    def window(window_length: int, periodic: bool = True, *args, dtype=None, device=None,
               requires_grad=False, **extra) -> Tensor:
        _check(name, extra)
        n = window_length + 1 if periodic and window_length > 1 else window_length
        values = formula(n, *args) if n > 1 else numpy.ones(n)
        values = values[:window_length]
        array = backend.to_device(values.astype(dtype or backend.default_dtype()), device)
        return _made(array, requires_grad)
    window.__name__ = name
    window.__doc__ = f"The {name.split('_')[0]} window (periodic by default, as PyTorch)."
    return window


hann_window = _window("hann_window", numpy.hanning)
hamming_window = _window("hamming_window", lambda n, alpha=0.54, beta=0.46:
                         alpha - beta * numpy.cos(2 * numpy.pi * numpy.arange(n) / (n - 1)))
blackman_window = _window("blackman_window", numpy.blackman)
bartlett_window = _window("bartlett_window", numpy.bartlett)
kaiser_window = _window("kaiser_window", lambda n, beta=12.0: numpy.kaiser(n, beta))


# --- random ---------------------------------------------------------------------------------
def _random(sample, shape, dtype, device, requires_grad, generator) -> Tensor:
    """Random numbers drawn on the CPU from a seeded stream (reproducible on any device)."""
    dtype = dtype or backend.default_dtype()
    array = numpy.asarray(sample(stream(generator), shape)).astype(dtype, copy=False)
    return _made(backend.to_device(array, device), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False,
          **extra) -> Tensor:
    """Standard normal samples."""
    size = _keyword_size(size, extra)
    _check("randn", extra)
    return _random(lambda g, s: g.standard_normal(s), _shape(size), dtype, device,
                   requires_grad, generator)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False,
         **extra) -> Tensor:
    """Uniform samples on [0, 1)."""
    size = _keyword_size(size, extra)
    _check("rand", extra)
    return _random(lambda g, s: g.random(s), _shape(size), dtype, device, requires_grad,
                   generator)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad=False, **extra) -> Tensor:
    """Integers uniform on [low, high), as PyTorch: randint(high, size) or
    randint(low, high, size)."""
    _check("randint", extra)
    if size is None:
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint(): missing the size argument, e.g. randint(10, (3,))")
    return _random(lambda g, s: g.integers(low, high, size=s), _shape((size,)),
                   dtype or backend.int64, device, requires_grad, generator)


def _random_like(draw):
    def like(input: Tensor, generator=None, dtype=None, device=None,  # noqa: A002
             requires_grad=False, **extra) -> Tensor:
        _check(draw.__name__ + "_like", extra)
        shape, dtype, device = _like(input, dtype, device)
        return draw(shape, generator=generator, dtype=dtype, device=device,
                    requires_grad=requires_grad)
    like.__name__ = draw.__name__ + "_like"
    like.__doc__ = f"{draw.__name__} samples shaped like `input` (its dtype and device)."
    return like


randn_like = _random_like(randn)
rand_like = _random_like(rand)


def randint_like(input: Tensor, low, high=None, generator=None, dtype=None,  # noqa: A002
                 device=None, requires_grad=False, **extra) -> Tensor:
    _check("randint_like", extra)
    shape, dtype, device = _like(input, dtype, device)
    if high is None:
        low, high = 0, low
    return randint(low, high, shape, generator=generator, dtype=dtype, device=device,
                   requires_grad=requires_grad)


def randperm(n: int, generator=None, dtype=None, device=None, requires_grad=False,
             **extra) -> Tensor:
    _check("randperm", extra)
    return _random(lambda g, s: g.permutation(n), (), dtype or backend.int64, device,
                   requires_grad, generator)


def _array_of(value, like=None):
    if isinstance(value, Tensor):
        return backend.to_device(value.array, "cpu")
    return numpy.asarray(value, dtype=like)


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, device=None,
           requires_grad=False, **extra) -> Tensor:
    """Normal samples with elementwise `mean` and `std` (tensors or numbers, broadcast),
    or of shape `size` when both are numbers."""
    _check("normal", extra)
    m, s = _array_of(mean), _array_of(std)
    like = next((t for t in (mean, std) if isinstance(t, Tensor)), None)
    shape = numpy.broadcast_shapes(m.shape, s.shape) if size is None else _shape((size,))
    dtype = dtype or (like.dtype if like is not None else backend.default_dtype())
    device = device if device is not None else (like.device if like is not None else None)
    return _random(lambda g, sh: g.normal(m, s, sh), shape, dtype, device, requires_grad,
                   generator)


def bernoulli(input: Tensor, p=None, generator=None, **extra) -> Tensor:  # noqa: A002
    """1 with probability `input` (or `p`) for each element, else 0, in input's dtype."""
    _check("bernoulli", extra)
    probabilities = _array_of(input if p is None else p)
    return _random(lambda g, s: g.random(s) < probabilities, input.shape, input.dtype,
                   input.device, False, generator)


def poisson(input: Tensor, generator=None) -> Tensor:  # noqa: A002
    """Poisson samples with rates `input`, in input's dtype."""
    rates = _array_of(input)
    return _random(lambda g, s: g.poisson(rates, s), input.shape, input.dtype, input.device,
                   False, generator)


def binomial(count: Tensor, prob: Tensor, generator=None) -> Tensor:
    """Binomial samples: `count` trials with success probability `prob`, elementwise."""
    n, p = _array_of(count), _array_of(prob)
    return _random(lambda g, s: g.binomial(n.astype(numpy.int64), p, s),
                   numpy.broadcast_shapes(n.shape, p.shape), count.dtype, count.device,
                   False, generator)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False,  # noqa: A002
                generator=None, **extra) -> Tensor:
    """Indices drawn from the categorical distribution(s) in each row of `input`
    (non-negative weights, not necessarily normalised), without replacement by default."""
    _check("multinomial", extra)
    weights = _array_of(input).astype(numpy.float64)
    rows = weights.reshape(-1, weights.shape[-1]) if weights.ndim else None
    if rows is None or weights.ndim > 2:
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {tuple(input.shape)}")
    if (rows < 0).any() or not numpy.isfinite(rows).all() or (rows.sum(1) <= 0).any():
        raise RuntimeError("multinomial: invalid probability distribution (weights must be "
                           "finite, non-negative, with a positive sum)")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(f"multinomial: cannot sample {num_samples} > {rows.shape[1]} "
                           "categories without replacement")
    g = stream(generator)
    picks = numpy.stack([g.choice(row.size, num_samples, replace=replacement,
                                  p=row / row.sum()) for row in rows])
    picks = picks.reshape(weights.shape[:-1] + (num_samples,))
    return _made(backend.to_device(picks.astype(backend.int64), input.device), False)
