"""How tensors print, as PyTorch prints them: `tensor([0.5000, 1.2500])`, four decimals by
default, all the numbers of a tensor in one format and one width, scientific notation when
their magnitudes are far apart, `...` past `threshold` numbers; `cr.set_printoptions`
changes the digits, summarising and line width (PyTorch's names and profiles)."""
from __future__ import annotations

import math

import numpy

options: dict = dict(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)

_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Digits, summarising and line width of printed tensors, as torch.set_printoptions
    (`sci_mode=True` prints in scientific notation, False never does, None decides)."""
    if profile:
        options.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            options[name] = value
    options["sci_mode"] = sci_mode


class _NumberFormat:
    """One format for every number of a tensor, chosen from the finite nonzero ones: whole
    floats print as `3.`, scientific notation when the largest is over 1000 times the
    smallest, over 1e8, or the smallest under 1e-4 (or as `sci_mode` says), else fixed
    decimals; the width is the widest of them."""

    def __init__(self, values: numpy.ndarray):
        self.floating = values.dtype.kind in "fc"
        self.whole, self.scientific = True, False
        if not self.floating:
            self.width = max((len(self._plain(v)) for v in values.flat), default=1)
            return
        finite = values[numpy.isfinite(values) & (values != 0)]
        self.width = 1
        if finite.size:
            magnitude = numpy.abs(finite).astype(numpy.float64)
            largest, smallest = magnitude.max(), magnitude.min()
            self.whole = bool((finite == numpy.ceil(finite)).all())
            self.scientific = (largest / smallest > 1000.0 or largest > 1.0e8 or
                               smallest < 1.0e-4) if options["sci_mode"] is None \
                else options["sci_mode"]
            self.width = max(len(self._number(v)) for v in finite)

    def _plain(self, value) -> str:
        return str(bool(value)) if isinstance(value, numpy.bool_) else str(value)

    def _number(self, value) -> str:
        if not self.floating:
            return self._plain(value)
        value = float(value)
        if self.scientific:
            return f"{value:.{options['precision']}e}"
        if self.whole:
            return f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        return f"{value:.{options['precision']}f}"

    def __call__(self, value) -> str:
        return self._number(value).rjust(self.width)


def _summarised(values: numpy.ndarray, edge: int) -> numpy.ndarray:
    """The numbers that a summarised print shows (the first and last `edge` along each axis)."""
    for axis in range(values.ndim):
        if values.shape[axis] > 2 * edge:
            values = numpy.concatenate([numpy.take(values, range(edge), axis),
                                        numpy.take(values, range(-edge, 0), axis)], axis)
    return values


def _nested(values: numpy.ndarray, indent: int, summarise: bool, number) -> str:
    edge = options["edgeitems"]
    shorten = summarise and values.shape[0] > 2 * edge
    if values.ndim == 1:
        texts = [number(v) for v in values] if not shorten else (
            [number(v) for v in values[:edge]] + [" ..."] + [number(v) for v in values[-edge:]])
        per_line = max(1, (options["linewidth"] - indent) // (number.width + 2))
        lines = [", ".join(texts[i:i + per_line]) for i in range(0, len(texts), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = [_nested(row, indent + 1, summarise, number) for row in values] if not shorten else (
        [_nested(row, indent + 1, summarise, number) for row in values[:edge]] + ["..."]
        + [_nested(row, indent + 1, summarise, number) for row in values[-edge:]])
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def tensor_text(values: numpy.ndarray, default_dtype, device: list[str],
                graph: list[str]) -> str:
    """`tensor(...)` for these numbers, then what PyTorch adds after them: the device, the
    size of an empty tensor, the dtype unless it goes without saying (the default float,
    int64, bool; for an empty tensor, the default float only), the graph (`grad_fn=<...>`),
    each on a new line when it would pass the line width."""
    prefix = "tensor("
    indent = len(prefix)
    implied = (default_dtype,) if values.size == 0 else (default_dtype, numpy.int64, numpy.bool_)
    suffixes = (device + ([f"size={tuple(values.shape)}"] if values.size == 0 and
                          values.ndim != 1 else [])
                + ([f"dtype={values.dtype}"] if values.dtype not in implied else []) + graph)
    if values.size == 0:
        body = "[]"
    else:
        summarise = values.size > options["threshold"]
        number = _NumberFormat(_summarised(values, options["edgeitems"]) if summarise
                               else values)
        body = number(values.item()) if values.ndim == 0 else \
            _nested(values, indent, summarise, number)
    text = prefix + body
    line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line + len(suffix) + 2 > options["linewidth"]:
            text += ",\n" + " " * indent + suffix
            line = indent + len(suffix)
        else:
            text += ", " + suffix
            line += len(suffix) + 2
    return text + ")"
