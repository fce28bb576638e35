"""Tensor conveniences PyTorch programs use that are not maths: `new_zeros` and friends,
`type(dtype)`, `contiguous()`, `nelement()`, `element_size()`, the dtype shorthands
(`half()`, `byte()`, ...), `is_cuda`, `retain_grad()`, and the in-place random fills
(`uniform_`, `normal_`, `bernoulli_`, ...)."""
from __future__ import annotations

import math
import numbers

import numpy

from .. import backend, creation, versions
from ..backend import xp
from ..kernels import shared
from ..ops.indexing import IndexAdd
from ..random import stream
from ..tensor import Tensor
from . import functions as f

# `x.type()` names, PyTorch's legacy tensor type names.
TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
              "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
              "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def _new(fill: str):
    def method(self, *size, dtype=None, device=None, requires_grad=False, **extra):
        return getattr(creation, fill)(*size, dtype=dtype or self.dtype,
                                       device=self.device if device is None else device,
                                       requires_grad=requires_grad, **extra)
    method.__name__ = "new_" + fill
    method.__doc__ = f"A new tensor of {fill} with this one's dtype and device."
    return method


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    return creation.full(size, fill_value, dtype=dtype or self.dtype,
                         device=self.device if device is None else device,
                         requires_grad=requires_grad)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    return creation.tensor(data, dtype=dtype or self.dtype,
                           device=self.device if device is None else device,
                           requires_grad=requires_grad)


def type(self, dtype=None, non_blocking: bool = False):  # noqa: A001
    """Without an argument the type's name ("torch.FloatTensor"); with one, a cast
    (a dtype, or a legacy name such as "torch.LongTensor")."""
    if dtype is None:
        prefix = "torch.cuda." if self.device.type == "cuda" else "torch."
        return prefix + TYPE_NAMES[str(self.dtype)]
    if isinstance(dtype, str):
        by_name = {name: numpy.dtype(d) for d, name in TYPE_NAMES.items()}
        where = "cuda" if dtype.startswith("torch.cuda.") else self.device
        return self.to(where, by_name[dtype.rsplit(".", 1)[-1]])
    where = "cuda" if getattr(dtype, "device_type", None) == "cuda" else self.device
    return self.to(where, numpy.dtype(getattr(dtype, "dtype", dtype)))  # (cr.LongTensor has one)


def contiguous(self, memory_format=None) -> Tensor:
    """A tensor whose array is C-contiguous (itself when it already is), as PyTorch."""
    flags = getattr(self.array, "flags", None)
    return self if flags is None or flags.c_contiguous else f.clone(self)


def is_contiguous(self, memory_format=None) -> bool:
    return bool(self.array.flags.c_contiguous)


def stride(self, dim=None):
    """Steps in elements (not bytes) between neighbours along each dimension."""
    steps = tuple(s // self.array.itemsize for s in self.array.strides)
    return steps if dim is None else steps[dim]


def retain_grad(self) -> None:
    """Keep `.grad` of a non-leaf tensor after backward (through a tensor hook, once)."""
    if self.is_leaf or retains_grad(self):
        return

    def keep(grad):
        self.grad = grad if self.grad is None else self.grad + grad
    keep.retains = self
    self.register_hook(keep)


def new(self, *data) -> Tensor:
    """The legacy constructor with this tensor's dtype and device: `x.new(2, 3)`
    uninitialised, `x.new([1, 2])` from data, `x.new()` empty."""
    return Tensor(*data, dtype=self.dtype, device=self.device)


def share_memory_(self) -> Tensor:
    """Move the numbers into shared memory (kernels/shared.py), where another process that
    gets this tensor through torch.multiprocessing maps the same numbers, so each sees the
    other's in-place updates (Hogwild training). A GPU tensor stays where it is, as in
    PyTorch; views made before the move keep the old numbers."""
    if backend.device_of(self.array) == "cpu":
        self.array = shared.shared_copy(self.array)
    return self


def retains_grad(self) -> bool:
    """Whether retain_grad() was called on this non-leaf tensor."""
    hooks = getattr(self.grad_fn, "grad_hooks", {})
    return any(getattr(hook, "retains", None) is self for hook in hooks.values())


def _fill(sample):
    """An in-place random fill: `x.uniform_(a, b)`, ... drawn from the global stream or
    `generator=`, written into x's array (outside the graph, as PyTorch's fills)."""
    def method(self, *args, generator=None, **kwargs):
        values = sample(stream(generator), self.shape, *args, **kwargs)
        self.array[...] = backend.to_device(numpy.asarray(values).astype(self.dtype),
                                            self.device)
        versions.bump(self.array)
        return self
    return method


RANDOM_FILLS = {
    "uniform_": _fill(lambda g, s, a=0.0, b=1.0: g.uniform(a, b, s)),
    "normal_": _fill(lambda g, s, mean=0.0, std=1.0: g.normal(mean, std, s)),
    "bernoulli_": _fill(lambda g, s, p=0.5: g.random(s) < (
        p.numpy() if isinstance(p, Tensor) else p)),
    "exponential_": _fill(lambda g, s, lambd=1.0: g.exponential(1.0 / lambd, s)),
    "geometric_": _fill(lambda g, s, p: g.geometric(p, s)),
    "cauchy_": _fill(lambda g, s, median=0.0, sigma=1.0: median + sigma * g.standard_cauchy(s)),
    "log_normal_": _fill(lambda g, s, mean=1.0, std=2.0: g.lognormal(mean, std, s)),
    "random_": _fill(lambda g, s, low=0, high=None: g.integers(
        0 if high is None else low, 2 ** 24 if high is None and low == 0 else
        (low if high is None else high), s)),
}


def where(self, condition, other) -> Tensor:
    """`x.where(c, y)`: x where c holds, else y."""
    return f.where(condition, self, other)


def masked_scatter(self, mask, source: Tensor) -> Tensor:
    """x with the positions where `mask` holds filled, in order, from source's elements."""
    mask = mask.array if isinstance(mask, Tensor) else xp(self.array).asarray(mask)
    mask = xp(mask).broadcast_to(mask, self.shape)
    order = xp(mask).maximum(xp(mask).cumsum(mask.reshape(-1)) - 1, 0).reshape(self.shape)
    picked = f.index(f.reshape(source, -1), order)
    return f.where(Tensor._wrap(mask), picked, self)


def index_put(self, indices, values, accumulate: bool = False) -> Tensor:
    """x[indices] = values (or += with accumulate), as a new tensor."""
    key = tuple(i.array if isinstance(i, Tensor) else i for i in indices)
    values = values if isinstance(values, Tensor) else creation.tensor(values,
                                                                       dtype=self.dtype)
    placed = IndexAdd.apply(f.expand(values, self.array[key].shape), shape=self.shape,
                            key=key)
    if accumulate:
        return f.add(self, placed)
    hit = backend.xp(self.array).zeros(self.shape, bool)
    hit[key] = True
    return f.where(Tensor._wrap(hit), placed, self)


def put(self, index, source: Tensor, accumulate: bool = False) -> Tensor:
    flat = f.reshape(self, -1)
    return f.reshape(index_put(flat, (index,), f.reshape(source, -1), accumulate), self.shape)


def fill_diagonal_(self, fill_value, wrap: bool = False) -> Tensor:
    backend.xp(self.array).fill_diagonal(self.array, fill_value, wrap=wrap)
    versions.bump(self.array)
    return self


def resize_(self, *sizes, memory_format=None) -> Tensor:
    """The tensor given the shape `sizes` in place, its numbers read in order: as many of
    them as fit are kept (a smaller size keeps sharing them), and a larger size adds new
    places (uninitialised in PyTorch, zeros here). Refused on a tensor that requires grad,
    as PyTorch."""
    if len(sizes) == 1 and not isinstance(sizes[0], numbers.Integral):
        sizes = tuple(sizes[0])
    if self.requires_grad:
        raise RuntimeError("resize_: cannot resize a tensor that requires grad")
    flat, count = self.array.reshape(-1), math.prod(sizes)
    if count > flat.size:
        grown = xp(flat).zeros(count, dtype=flat.dtype)
        grown[:flat.size] = flat
        flat = grown
    self.array = flat[:count].reshape(sizes)
    versions.bump(self.array)
    return self


def apply_(self, callable) -> Tensor:  # noqa: A002
    """Each element replaced by callable(element) (CPU tensors, as PyTorch)."""
    flat = self.array.reshape(-1)
    for i, value in enumerate(flat.tolist()):
        flat[i] = callable(value)
    versions.bump(self.array)
    return self


def map_(self, tensor: Tensor, callable) -> Tensor:  # noqa: A002
    mine, theirs = self.array.reshape(-1), numpy.broadcast_to(tensor.array, self.shape).reshape(-1)
    for i, (a, b) in enumerate(zip(mine.tolist(), theirs.tolist())):
        mine[i] = callable(a, b)
    versions.bump(self.array)
    return self


METHODS = {
    "where": where, "masked_scatter": masked_scatter, "index_put": index_put, "put": put,
    "fill_diagonal_": fill_diagonal_, "apply_": apply_, "map_": map_, "resize_": resize_,
    "resize_as_": lambda self, other, memory_format=None: resize_(self, other.shape),
    "bernoulli": lambda self, p=None, generator=None: creation.bernoulli(self, p, generator),
    "multinomial": lambda self, num_samples, replacement=False, generator=None:
        creation.multinomial(self, num_samples, replacement, generator),
    "is_pinned": lambda self, device=None: False,
    "is_inference": lambda self: False,
    "is_neg": lambda self: False,
    "resolve_neg": lambda self: self,
    "new_zeros": _new("zeros"), "new_ones": _new("ones"), "new_empty": _new("empty"),
    "new_full": new_full, "new_tensor": new_tensor, "type": type,
    "contiguous": contiguous, "is_contiguous": is_contiguous, "stride": stride,
    "retain_grad": retain_grad, "new": new,
    "nelement": lambda self: self.numel(),
    "element_size": lambda self: self.array.itemsize,
    "ndimension": lambda self: self.ndim,
    "is_floating_point": lambda self: self.dtype.kind == "f",
    "is_complex": lambda self: self.dtype.kind == "c",
    "get_device": lambda self: -1 if self.device.type == "cpu" else self.device.index,
    "half": lambda self: self.to(backend.float16),
    "short": lambda self: self.to(numpy.dtype("int16")),
    "char": lambda self: self.to(numpy.dtype("int8")),
    "byte": lambda self: self.to(backend.uint8),
    "pin_memory": lambda self, device=None: self,
    "share_memory_": share_memory_,
    "is_shared": lambda self: shared.shared_path(self.array) is not None,
    **RANDOM_FILLS,
}
PROPERTIES = {
    "retains_grad": retains_grad,
    "is_cuda": lambda self: self.device.type == "cuda",
    "is_cpu": lambda self: self.device.type == "cpu",
    "nbytes": lambda self: int(self.array.nbytes),
    "itemsize": lambda self: self.array.itemsize,
    "layout": lambda self: "torch.strided",
    "is_quantized": lambda self: False,
    "is_meta": lambda self: False,
    # devices and layouts a chainrule tensor is never on (dcgan asks `input.is_xpu`)
    **{name: lambda self: False for name in (
        "is_xpu", "is_mps", "is_ipu", "is_xla", "is_maia", "is_mtia", "is_vulkan",
        "is_mkldnn", "is_nested", "is_sparse_csr")},
}
