"""`Tensor`: an array of numbers that remembers the op that made it.

A tensor wraps one array (`.array`, NumPy on the CPU or CuPy on a GPU). When it was made by
a differentiable op from tensors that require a gradient, `.grad_fn` is that op's graph
node; `backward()` walks these nodes in reverse and fills `.grad` of the leaves.
"""
from __future__ import annotations

import numbers

import numpy

from . import backend, printing, shapes, versions


class Tensor:
    __slots__ = ("array", "grad", "grad_fn", "_requires_grad", "__weakref__")

    # NumPy hands `ndarray ⊕ Tensor` to our reflected operators instead of looping over us.
    __array_ufunc__ = None
    is_sparse = False  # (gradients of Embedding(sparse=True) are chainrule.sparse tensors)

    def __init__(self, *data, dtype=None, device=None, requires_grad: bool = False):
        """PyTorch's legacy constructor: `Tensor([1, 2])` in the default float dtype (a
        tensor or an array of it shared), `Tensor(2, 3)` uninitialised, `Tensor()` empty.
        `cr.tensor(data)` keeps integers and booleans."""
        self.array = _legacy_array(data, dtype, device)
        self.grad = None
        self.grad_fn = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # --- what a tensor is ----------------------------------------------------------------
    @property
    def shape(self) -> shapes.Size:
        return shapes.Size(self.array.shape)

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def device(self) -> str:
        return backend.device_of(self.array)

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if flag:
            _check_can_require_grad(self.dtype)
        self._requires_grad = bool(flag)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def size(self, dim: int | None = None):
        return shapes.Size(self.array.shape) if dim is None else self.array.shape[dim]

    def numel(self) -> int:
        return int(self.array.size)

    def dim(self) -> int:
        return self.array.ndim

    @property
    def data(self) -> "Tensor":
        """As PyTorch's: a tensor sharing this one's array that autograd does not track, so
        `p.data -= lr * p.grad` or `p.data.copy_(x)` change `p` in place, unrecorded. The
        raw array itself is `.array` (or `.numpy()` on the CPU)."""
        return Tensor._wrap(self.array)

    @data.setter
    def data(self, value) -> None:
        """`p.data = t` makes `p` hold `t`'s array (shared, not copied), as PyTorch."""
        self.array = value.array if isinstance(value, Tensor) else _as_array(value)

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __repr__(self) -> str:
        device = [f"device='{self.device}'"] if self.device != "cpu" else []
        graph = ([f"grad_fn=<{self.grad_fn.name}>"] if self.grad_fn is not None else
                 ["requires_grad=True"] if self.requires_grad else [])
        return printing.tensor_text(self.numpy(), backend.default_dtype(), device, graph)

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {tuple(self.shape)} is ambiguous")
        return bool(self.array)

    def __hash__(self) -> int:
        return id(self)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # --- leaving the graph ---------------------------------------------------------------
    def numpy(self) -> numpy.ndarray:
        return self.array if isinstance(self.array, numpy.ndarray) \
            else backend.to_device(self.array, "cpu")

    def item(self):
        if self.array.size != 1:
            raise ValueError("item(): only a one-element tensor converts to a number, "
                             f"got shape {tuple(self.shape)}")
        return self.array.reshape(()).item()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        """A one-element integer tensor used as a list index (`xs[i]`), as PyTorch."""
        if self.dtype.kind not in "iub" or self.array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            f"index, got {self.dtype} of shape {tuple(self.shape)}")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        """`f"{loss:.4f}"` formats a 0-d tensor's number; other tensors print as `str()`."""
        if self.ndim == 0:
            return format(self.item(), spec)
        return format(str(self), spec)

    def __array__(self, dtype=None, copy=None):
        """NumPy sees a CPU tensor as its array (`numpy.asarray(t)`), as PyTorch."""
        array = numpy.asarray(self.numpy())  # (a 0-d reduction holds a NumPy scalar)
        return array if dtype is None else array.astype(dtype, copy=False)

    def tolist(self):
        return self.numpy().tolist()

    def detach(self) -> "Tensor":
        """The same numbers, cut from the graph (no grad_fn, no requires_grad)."""
        return Tensor._wrap(self.array)

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self._requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use detach() instead")
        self.requires_grad = requires_grad
        return self

    # In-place changes bump the version of the memory they write (see versions.py), so a
    # backward pass that needs the old values refuses instead of using the new ones.
    def zero_(self) -> "Tensor":
        self.array[...] = 0
        versions.bump(self.array)
        return self

    def fill_(self, value) -> "Tensor":
        self.array[...] = value
        versions.bump(self.array)
        return self

    def copy_(self, other) -> "Tensor":
        source = other.array if isinstance(other, Tensor) else other
        self.array[...] = backend.to_device(backend.xp(self.array).asarray(source), self.device) \
            if backend.device_of(source) != self.device else source
        versions.bump(self.array)
        return self

    # --- dtype and device (`to` itself is an op: chainrule.composites installs it) --------
    def float(self) -> "Tensor":
        return self.to(backend.float32)

    def double(self) -> "Tensor":
        return self.to(backend.float64)

    def long(self) -> "Tensor":
        return self.to(backend.int64)

    def int(self) -> "Tensor":
        return self.to(backend.int32)

    def bool(self) -> "Tensor":
        return self.to(backend.bool_)

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self) -> "Tensor":
        return self.to("cuda")

    def type_as(self, other: "Tensor") -> "Tensor":
        return self.to(other.dtype)

    # `backward` and `register_hook` are installed by chainrule.autograd, and the operators
    # and math methods (`x + y`, `x.sum()`, `x.to()`) by chainrule.composites: this module
    # sits below both and imports neither.

    # --- DLPack: zero-copy exchange with NumPy, PyTorch, JAX, CuPy (cr.from_dlpack) -------
    def __dlpack__(self, **options):
        """A DLPack capsule of this tensor's array: the consumer (`torch.from_dlpack`,
        `numpy.from_dlpack`, ...) shares its memory. `options` (stream, max_version, ...)
        go to the array's own `__dlpack__`."""
        if self.requires_grad:
            raise RuntimeError("Can't export tensors that require gradient, use "
                               "tensor.detach()")
        return self.array.__dlpack__(**options)

    def __dlpack_device__(self) -> tuple:
        """(device type, device index): (1, 0) for the CPU, (2, n) for CUDA device n."""
        return self.array.__dlpack_device__()

    # --- internal constructor --------------------------------------------------------------
    @staticmethod
    def _wrap(array) -> "Tensor":
        """A constant tensor around an array, without conversion or copying."""
        t = Tensor.__new__(Tensor)
        t.array = array
        t.grad = None
        t.grad_fn = None
        t._requires_grad = False
        return t


def _check_can_require_grad(dtype) -> None:
    """Only floating tensors have gradients (an integer "gradient" would be truncated)."""
    if not backend.is_floating(dtype):
        raise TypeError(f"only tensors of floating point dtype can require gradients, got "
                        f"{dtype}")


def _as_array(data, dtype=None, device=None):
    """Turn user data into a backend array: Python floats become the default dtype,
    Python ints int64, and an array keeps its own dtype."""
    if isinstance(data, Tensor):
        data = data.array
    if dtype is not None:
        dtype = numpy.dtype(dtype)
    elif not hasattr(data, "dtype"):
        kind = numpy.asarray(data).dtype
        dtype = {"f": backend.default_dtype(), "i": backend.int64, "u": backend.int64}.get(
            kind.kind, kind)
    here = backend.device_of(data) if hasattr(data, "shape") else "cpu"
    array = backend.module_for(here).asarray(data, dtype=dtype)
    if device is not None:
        array = backend.to_device(array, device)
    if array.dtype not in backend.SUPPORTED_DTYPES:
        raise TypeError(f"tensor: unsupported dtype {array.dtype}; chainrule holds floats, "
                        "integers and booleans")
    return array


def _legacy_array(data: tuple, dtype, device):
    data = tuple(data[0]) if len(data) == 1 and isinstance(data[0], shapes.Size) else data
    if all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in data):
        xp = backend.module_for(backend.normalize_device(device or backend.default_device()))
        return xp.empty(data or (0,), dtype=dtype or backend.default_dtype())
    if len(data) != 1 or isinstance(data[0], numbers.Number):
        raise TypeError(f"Tensor(): data must be one sequence, array or tensor, or sizes; "
                        f"got {tuple(type(d).__name__ for d in data)}")
    if isinstance(data[0], Tensor) and dtype is None:
        return _as_array(data[0], device=device)
    return _as_array(data[0], dtype or backend.default_dtype(), device)


def lift(value, like: Tensor) -> Tensor:
    """A Python number or array as a constant tensor that combines with `like`."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        if like.dtype.kind == "f" or isinstance(value, numbers.Integral):
            dtype = like.dtype if like.dtype.kind in "fiu" else None
            if isinstance(value, float) and like.dtype.kind != "f":
                dtype = backend.default_dtype()
            return Tensor._wrap(backend.xp(like.array).asarray(value, dtype=dtype))
        return Tensor._wrap(backend.xp(like.array).asarray(value, dtype=backend.default_dtype()))
    return Tensor._wrap(_as_array(value, device=like.device))

