"""`torch.testing`: `assert_close` (tensors, numbers, and lists or dicts of them, compared
with PyTorch's default tolerances for their dtype and failing with PyTorch's messages) and
`make_tensor` (a tensor of random values in a range, for tests)."""
from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy

from . import creation
from .printing import dtype_name
from .shapes import Size
from .tensor import Tensor

# (rtol, atol) by dtype when none are given, as PyTorch's; other dtypes compare exactly.
TOLERANCES = {numpy.dtype("float16"): (1e-3, 1e-5), numpy.dtype("float32"): (1.3e-6, 1e-5),
              numpy.dtype("float64"): (1e-7, 1e-7), numpy.dtype("complex64"): (1.3e-6, 1e-5),
              numpy.dtype("complex128"): (1e-7, 1e-7)}


def assert_close(actual, expected, *, allow_subclasses: bool = True, rtol=None, atol=None,
                 equal_nan: bool = False, check_device: bool = True, check_dtype: bool = True,
                 check_layout: bool = True, check_stride: bool = False, msg=None) -> None:
    """Raise AssertionError unless `actual` is close to `expected`: |a - e| <= atol + rtol·|e|
    elementwise (NaNs equal only with equal_nan), with the same shapes and dtypes."""
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted")
    problem = _compare(actual, expected, (rtol, atol), equal_nan, check_dtype, "")
    if problem is not None:
        raise AssertionError(msg(problem) if callable(msg) else msg or problem)


def _compare(actual, expected, tolerance, equal_nan, check_dtype, where):
    """The failure message for this pair (and what is inside it), or None."""
    if isinstance(expected, Mapping):
        if set(actual) != set(expected):
            return f"The keys of the mappings do not match{where}."
        found = (_compare(actual[k], expected[k], tolerance, equal_nan, check_dtype,
                          f"{where}[{k!r}]") for k in expected)
        return next((problem for problem in found if problem), None)
    if isinstance(expected, Sequence) and not isinstance(expected, str):
        if len(actual) != len(expected):
            return f"The length of the sequences mismatch: {len(actual)} != {len(expected)}"
        found = (_compare(a, e, tolerance, equal_nan, check_dtype, f"{where}[{i}]")
                 for i, (a, e) in enumerate(zip(actual, expected)))
        return next((problem for problem in found if problem), None)
    problem = _compare_values(actual, expected, tolerance, equal_nan, check_dtype)
    return problem + (f"\n\nThe failure occurred for item {where}" if where else "") \
        if problem else None


def _array(value) -> numpy.ndarray:
    if isinstance(value, Tensor):
        return value.detach().numpy()
    if isinstance(value, numbers.Number):
        return numpy.asarray(value, numpy.float64 if isinstance(value, float) else None)
    return numpy.asarray(value)


def _compare_values(actual, expected, tolerance, equal_nan, check_dtype):
    a, e = _array(actual), _array(expected)
    if a.shape != e.shape:
        return (f"The values for attribute 'shape' do not match: {Size(a.shape)!r} != "
                f"{Size(e.shape)!r}.")
    if check_dtype and a.dtype != e.dtype:
        return (f"The values for attribute 'dtype' do not match: {dtype_name(a.dtype)} != "
                f"{dtype_name(e.dtype)}.")
    rtol, atol = tolerance if tolerance[0] is not None else TOLERANCES.get(e.dtype, (0.0, 0.0))
    if a.ndim == 0:  # scalars compare as Python numbers, as PyTorch's
        a, e = numpy.asarray(a.item(), numpy.float64), numpy.asarray(e.item(), numpy.float64)
    integers = e.dtype.kind in "iub"
    wide = numpy.int64 if integers else e.dtype
    a_wide, e_wide = a.astype(wide), e.astype(wide)
    difference = numpy.abs(a_wide - e_wide)
    close = difference <= atol + rtol * numpy.abs(e_wide)
    if equal_nan:
        close |= numpy.isnan(a_wide) & numpy.isnan(e_wide)
    if close.all():
        return None
    with numpy.errstate(divide="ignore", invalid="ignore"):  # integers: in the default float
        relative = difference.astype(numpy.float32) / numpy.abs(e_wide).astype(numpy.float32) \
            if integers else difference / numpy.abs(e_wide)
    if a.ndim == 0:
        return (f"Scalars are not close!\n\nExpected {e.item()} but got {a.item()}.\n"
                f"Absolute difference: {difference.item()} (up to {atol} allowed)\n"
                f"Relative difference: {relative.item()} (up to {rtol} allowed)")
    return _tensor_report(~close, difference, relative, e.dtype.kind in "iub", rtol, atol)


def _tensor_report(mismatched, difference, relative, exact, rtol, atol) -> str:
    count, total = int(mismatched.sum()), mismatched.size
    worst = numpy.unravel_index(numpy.nanargmax(difference), difference.shape)
    worst_relative = numpy.unravel_index(numpy.nanargmax(numpy.where(
        numpy.isnan(relative), -numpy.inf, relative)), relative.shape)
    absolute = difference[worst].item()
    lines = [f"Tensor-likes are not {'equal' if exact else 'close'}!", "",
             f"Mismatched elements: {count} / {total} ({100 * count / total:.1f}%)",
             f"Greatest absolute difference: {int(absolute) if exact else absolute} at index "
             f"{tuple(int(i) for i in worst)}" + ("" if exact else f" (up to {atol} allowed)"),
             f"Greatest relative difference: {relative[worst_relative].item()} at index "
             f"{tuple(int(i) for i in worst_relative)}"
             + ("" if exact else f" (up to {rtol} allowed)")]
    return "\n".join(lines)


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format=None) -> Tensor:
    """Random values in [low, high): floats uniform (default [-9, 9)), integers
    (default [-9, 10); [0, 10) when unsigned), booleans at random."""
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], Sequence) else shape
    kind = numpy.dtype(dtype).kind
    if kind == "b":
        return creation.randint(0, 2, shape, device=device).to(dtype)
    low = (0 if kind == "u" else -9) if low is None else low
    high = (10 if kind in "iu" else 9) if high is None else high
    if kind in "iu":
        result = creation.randint(int(low), int(high), shape, dtype=dtype, device=device)
    else:
        result = creation.rand(*shape, dtype=dtype, device=device) * (high - low) + low
    if exclude_zero:
        result = result.masked_fill(result == 0, 1 if kind in "iu" else numpy.finfo(
            numpy.dtype(dtype)).tiny)
    return result.requires_grad_(requires_grad) if requires_grad else result
