"""How tensors print, as PyTorch prints them, and `cr.set_printoptions`.

    tensor([[0.1235, 2.0000],
            [3.5000, 4.0000]], dtype=torch.float64, requires_grad=True)

One number format serves a whole tensor, chosen from its nonzero finite numbers: whole
numbers print with a trailing point (`2.`), others with `precision` decimals, and
scientific notation takes over when they span more than three decades or leave
[1e-4, 1e8]. Every number is padded to the widest one. Rows wrap at `linewidth`; a tensor
of more than `threshold` numbers shows `edgeitems` at each end of every dimension.
This module works on arrays; `Tensor.__repr__` hands it the suffixes (dtype, grad_fn).
"""
from __future__ import annotations

import contextlib
import dataclasses
import math

import numpy


@dataclasses.dataclass
class PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None  # None: chosen from the numbers


options = PrintOptions()

_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """As torch.set_printoptions: a profile ("default", "short", "full") first, then the
    options given; `sci_mode` is always set (None: chosen from the numbers)."""
    chosen = dict(_PROFILES[profile]) if profile else {}
    given = dict(precision=precision, threshold=threshold, edgeitems=edgeitems,
                 linewidth=linewidth)
    chosen.update({name: value for name, value in given.items() if value is not None})
    for name, value in chosen.items():
        setattr(options, name, value)
    options.sci_mode = sci_mode


def get_printoptions() -> dict:
    return dataclasses.asdict(options)


@contextlib.contextmanager
def printoptions(**changes):
    """The options changed inside a `with` block only."""
    before = get_printoptions()
    set_printoptions(**changes)
    try:
        yield
    finally:
        set_printoptions(**before)


def dtype_name(dtype) -> str:
    """`torch.float32`: a dtype as PyTorch writes it."""
    return "torch." + numpy.dtype(dtype).name


class NumberFormat:
    """One format for every number of a tensor, decided from the numbers shown."""

    def __init__(self, array):
        self.floating = array.dtype.kind == "f"
        self.whole = True  # floats that are all whole numbers print as `2.`
        self.scientific = False
        self.width = 1
        values = array.reshape(-1)
        if not self.floating:
            self.width = max([1] + [len(str(v)) for v in values.tolist()])
            return
        shown = values[numpy.isfinite(values) & (values != 0)].astype(numpy.float64)
        if shown.size == 0:
            return
        self.whole = bool(numpy.all(shown == numpy.ceil(shown)))
        magnitudes = numpy.abs(shown)
        low, high = magnitudes.min(), magnitudes.max()
        self.scientific = (high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4) \
            if options.sci_mode is None else options.sci_mode
        self.width = max(len(self._plain(v)) for v in shown.tolist())

    def _plain(self, value: float) -> str:
        """The number without padding."""
        if self.scientific:
            return f"{value:.{options.precision}e}"
        if self.whole:  # the point says "floating"; NaN and inf have none
            return f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        return f"{value:.{options.precision}f}"

    def __call__(self, value) -> str:
        text = self._plain(value) if self.floating else str(value)
        return text.rjust(self.width)


def _edges(array) -> numpy.ndarray:
    """The numbers a summarised tensor shows: `edgeitems` at both ends of each dimension."""
    edge = options.edgeitems
    for axis, size in enumerate(array.shape):
        if edge == 0:
            return array[:0]
        if size > 2 * edge:
            array = numpy.take(array, list(range(edge)) + list(range(size - edge, size)),
                               axis=axis)
    return array


def array_text(array, indent: int) -> str:
    """The bracketed numbers of a tensor printed after `indent` characters."""
    if array.size == 0:
        return "[]"
    summarize = array.size > options.threshold
    number = NumberFormat(_edges(array) if summarize else array)
    return _nested(array, indent, summarize, number)


def _nested(array, indent: int, summarize: bool, number: NumberFormat) -> str:
    if array.ndim == 0:
        return number(array.item())
    if array.ndim == 1:
        return _row(array, indent, summarize, number)
    edge, rows = options.edgeitems, array.shape[0]
    if summarize and rows > 2 * edge:
        parts = [_nested(array[i], indent + 1, summarize, number) for i in range(edge)]
        parts += ["..."] + [_nested(array[i], indent + 1, summarize, number)
                            for i in range(rows - edge, rows)]
    else:
        parts = [_nested(array[i], indent + 1, summarize, number) for i in range(rows)]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _row(array, indent: int, summarize: bool, number: NumberFormat) -> str:
    edge, count = options.edgeitems, array.shape[0]
    if summarize and edge == 0:
        items = ["..."]
    elif summarize and count > 2 * edge:
        items = ([number(v) for v in array[:edge].tolist()] + [" ..."] +
                 [number(v) for v in array[count - edge:].tolist()])
    else:
        items = [number(v) for v in array.tolist()]
    per_line = max(1, (options.linewidth - indent) // (number.width + 2))
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def tensor_text(array, suffixes: list[str], prefix: str = "tensor(") -> str:
    """`tensor([...], suffix, ...)`: a suffix that would pass `linewidth` starts a line."""
    text = prefix + array_text(array, len(prefix))
    line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > options.linewidth:
            text += ",\n" + " " * len(prefix) + suffix
            line_length = len(prefix) + len(suffix)
        else:
            text += ", " + suffix
            line_length += len(suffix) + 2
    return text + ")"


def dtype_suffixes(array, default_dtype) -> list[str]:
    """What PyTorch adds about size and dtype: the dtype unless it is the default float,
    int64 or bool (an empty tensor names any dtype but the default, and its size unless
    it is 1-d)."""
    if array.size == 0:
        size = [] if array.ndim == 1 else [f"size={tuple(array.shape)}"]
        return size + ([] if array.dtype == default_dtype else
                       [f"dtype={dtype_name(array.dtype)}"])
    plain = array.dtype in (default_dtype, numpy.dtype("int64"), numpy.dtype("bool"))
    return [] if plain else [f"dtype={dtype_name(array.dtype)}"]
