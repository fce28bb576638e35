"""Anomaly mode: stop at the first op that makes a NaN or an infinity, and say why.

    with cr.autograd.detect_anomaly():
        loss = loss_fn(model(x), y)   # forward: every op's output is checked
        loss.backward()               # backward: every gradient an op returns is checked

The first op whose output (forward) or returned gradient (backward) holds NaN or ±Inf
raises `AnomalyError`, naming the op, the pass, its inputs (shape, min, max, NaN?, Inf?),
the line of your code that created the op, and a likely cause with a fix.

No cost when off. While the mode is on, an op hook (autograd/hooks.py) checks every
op's output and every node's gradients, and records for each graph node the line of user
code that created it; switching the mode off removes the hook. The likely cause comes
from the op itself when it knows one (`Op.nan_cause`, `Op.infinite_slope`: why a log,
a division or a square root gives NaN or ±Inf is written beside the log, the division
and the square root).

What counts as an anomaly. A NaN always does. An infinity does when this op created it from
finite numbers, or when a parameter (a leaf that requires grad) already holds one; an
infinity passed along from a constant is not flagged, since models use -inf on purpose
(attention masks: scores + mask, then softmax gives exactly 0).
"""
from __future__ import annotations

import functools
import linecache
import os
import sys
import traceback

import numpy

from ..autograd.hooks import OpHook, backward_node, register_op_hook
from ..backend import xp
from ..sparse import RowSparseTensor
from ..tensor import Tensor

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class AnomalyError(RuntimeError):
    """A NaN or an infinity appeared. Attributes: `op` (its name), `phase` ("forward" or
    "backward"), `kind` (a short code for the cause, below), `cause` (the explanation),
    `origin` (a `traceback.FrameSummary` of the user code that created the op, or None),
    `input_index` (backward: whose gradient went bad).

    Kinds: log-zero, log-negative, exp-overflow, division-by-zero, sqrt-negative,
    sqrt-zero, pow-zero, negative-fractional-power, zero-times-inf, inf-minus-inf,
    overflow, gradient-overflow, lr-too-high, bad-input, bad-gradient, unknown."""

    def __init__(self, message: str, op: str, phase: str, kind: str, cause: str,
                 origin=None, input_index=None):
        super().__init__(message)
        self.op = op
        self.phase = phase
        self.kind = kind
        self.cause = cause
        self.origin = origin
        self.input_index = input_index


class _State:
    enabled = False
    check_forward = True
    handle = None  # the registered hook, while the mode is on


state = _State()


def is_anomaly_enabled() -> bool:
    return state.enabled


def _switch(enabled: bool, check_forward: bool = True) -> None:
    state.enabled = enabled
    state.check_forward = check_forward
    if enabled and state.handle is None:
        state.handle = register_op_hook(_AnomalyHook())
    elif not enabled and state.handle is not None:
        state.handle.remove()
        state.handle = None


class detect_anomaly:
    """Context manager and decorator: anomaly mode on inside, previous mode restored after.
    `check_forward=False` checks only the backward pass (as PyTorch does)."""

    def __init__(self, check_forward: bool = True):
        self.check_forward = check_forward

    def __enter__(self):
        self.previous = (state.enabled, state.check_forward)
        _switch(True, self.check_forward)
        return self

    def __exit__(self, *exc):
        _switch(*self.previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_forward):
                return fn(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """`set_detect_anomaly(True)` turns the mode on now (off with False); used as a context
    manager it restores the previous mode on exit."""

    def __init__(self, mode: bool, check_forward: bool = True):
        self.previous = (state.enabled, state.check_forward)
        _switch(bool(mode), check_forward)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _switch(*self.previous)
        return False


# --- the checks -----------------------------------------------------------------------------
class _AnomalyHook(OpHook):
    def after_forward(self, node, inputs, output):
        if output.grad_fn is node:
            node.anomaly_origin = _user_frame()
        if state.check_forward and _nonfinite(output.array):
            _check_forward(node, inputs, output.array)

    def before_backward(self, node, grad):
        incoming = _array(grad)
        if _nonfinite(incoming):
            _report_backward(node, incoming, None, None)

    def after_backward(self, node, grad, input_grads):
        for i, g in enumerate(input_grads):
            if g is not None and _nonfinite(_array(g)):
                _report_backward(node, _array(grad),
                                 [None if x is None else _array(x) for x in input_grads], i)


def _user_frame():
    """(file, line, function) of the innermost caller outside the chainrule package."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:
        return None
    return frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name


# --- forward ---------------------------------------------------------------------------------
def _check_forward(node, inputs, out) -> None:
    has_nan = _count(out, "nan") > 0
    param_bad = any(_is_parameter(t) and _nonfinite(t.array) for t in inputs)
    inherited_inf = any(_count(t.array, "inf") for t in inputs if not _is_parameter(t))
    if not has_nan and not param_bad and inherited_inf:
        return  # an infinity handed on from a constant (a mask), not made here
    kind, cause = _forward_cause(node, inputs, out)
    origin = _frame_summary(_user_frame())
    op, phase = node.name, "forward"
    head = f"the forward pass of {op} produced {_what(out)}"
    running = backward_node()
    if running is not None:  # a tensor op run by a backward (autograd.Function, create_graph)
        op, phase = running.name, "backward"
        head = f"the backward pass of {op} produced {_what(out)} (in its {node.name})"
    lines = [f"anomaly mode: {head}"]
    lines += _origin_lines(origin, "called at")
    lines += [_row(f"input {i}", _stats(t.array)) for i, t in enumerate(inputs)]
    lines.append(_row("output", _where_bad(out)))
    lines.append(_row("likely cause", cause))
    raise AnomalyError("\n".join(lines), op, phase, kind, cause, origin)


def _forward_cause(node, inputs, out) -> tuple[str, str]:
    for i, t in enumerate(inputs):
        if _nonfinite(t.array):
            if _is_parameter(t):
                return "lr-too-high", _lr_too_high(i)
            if _count(t.array, "nan"):
                made = ("is data (not a parameter): check the data set and its "
                        "preprocessing" if t.is_leaf else
                        "was computed before anomaly mode was switched on")
                return "bad-input", f"input {i} already contains NaN; it {made}"
    data = [t.array for t in inputs]
    known = node.nan_cause(*data, out=out)
    if known is not None:
        return known
    infinite = [i for i, d in enumerate(data) if _count(d, "inf")]
    if _count(out, "nan") and infinite:
        return "zero-times-inf", zero_times_inf(node.name, f"input {infinite[0]} holds ±Inf")
    if _count(out, "inf") and not infinite:
        big = max(_max_abs(d) for d in data)
        return "overflow", (f"overflow: the result is beyond the largest {out.dtype} "
                            f"({float(numpy.finfo(out.dtype).max):.3g}), with inputs as "
                            f"large as {big:.3g}. Values this large usually mean training "
                            "diverged (a learning rate too high); otherwise use a stable "
                            "formulation or float64")
    return "unknown", f"{node.name} produced {_what(out)} from these inputs"


# --- backward --------------------------------------------------------------------------------
def _report_backward(node, incoming, grads, index) -> None:
    kind, cause = _backward_cause(node, incoming, grads, index)
    origin = _frame_summary(getattr(node, "anomaly_origin", None))
    inputs = node.inputs or ()
    if grads is None:
        head = f"the gradient arriving at {node.name} in the backward pass is {_what(incoming)}"
    else:
        head = (f"the backward pass of {node.name} produced {_what(grads[index])} in the "
                f"gradient for input {index}")
    lines = [f"anomaly mode: {head}"]
    lines += _origin_lines(origin, "created at") or [
        _row("created at", "unknown (the graph was built before anomaly mode was on)")]
    lines += [_row(f"input {i}", _stats(t.array)) for i, t in enumerate(inputs)]
    lines.append(_row("incoming", _stats(incoming) + "  (dloss/doutput)"))
    if grads is not None:
        lines.append(_row(f"gradient {index}", _where_bad(grads[index])))
    lines.append(_row("likely cause", cause))
    raise AnomalyError("\n".join(lines), node.name, "backward", kind, cause, origin, index)


def _backward_cause(node, incoming, grads, index) -> tuple[str, str]:
    inputs = node.inputs or ()
    for i, t in enumerate(inputs):
        if _is_parameter(t) and _nonfinite(t.array):
            return "lr-too-high", _lr_too_high(i)
    if grads is None:
        return "bad-gradient", ("the gradient arriving at this op was already NaN/Inf before "
                                "its backward ran: the gradient given to backward() is not "
                                "finite, or a sum of gradients overflowed")
    g = grads[index]
    slope = node.infinite_slope(index) if node.saved is not None else None
    if _count(g, "nan") and _masked(g, incoming):
        return "zero-times-inf", zero_times_inf(
            node.name, "the gradient arriving here is 0 where this value was not used (the "
            "other branch of where(), or a factor 0), but "
            + (slope[1] if slope else "the local derivative is infinite there"))
    if slope:
        return slope[0], f"{slope[1]}: {slope[2]}"
    if _count(g, "inf") and not _nonfinite(incoming):
        return "gradient-overflow", (f"the gradient overflowed {g.dtype}: gradients as large "
                                     f"as {_max_abs(incoming):.3g} arrive at {node.name}. "
                                     "Exploding gradients: lower the learning rate, clip "
                                     "gradients (cr.nn.utils.clip_grad_norm_), or normalise")
    if node.out is not None and _nonfinite(node.out):
        return "bad-gradient", ("this op's forward output was already NaN/Inf (computed "
                                "before anomaly mode was on?): the loss exploded, which "
                                "usually means a learning rate too high")
    return "unknown", (f"the local derivative of {node.name} is infinite or undefined at "
                       "these inputs")


def _masked(g, incoming) -> bool:
    """NaN in the returned gradient exactly where the incoming gradient is 0 (0·∞)."""
    try:
        zero = numpy.broadcast_to(_host(incoming) == 0, g.shape)
    except ValueError:
        return False
    return bool((numpy.isnan(_host(g)) & zero).any())


# --- shared pieces ---------------------------------------------------------------------------
def _lr_too_high(i: int) -> str:
    return (f"input {i} is a parameter that already holds NaN/Inf: an earlier update "
            "diverged. The usual cause is a learning rate too high (or exploding gradients): "
            "lower the learning rate, clip gradients (cr.nn.utils.clip_grad_norm_), or "
            "scale the inputs")


def zero_times_inf(name: str, detail: str) -> str:
    return (f"0·∞ in a masked branch at {name}: {detail}; and 0·∞ = NaN. Masking with "
            "where() or a 0/1 mask does not remove an infinity: give the op a safe input "
            "in the unused branch, e.g. sqrt(where(x > 0, x, 1)) instead of "
            "where(x > 0, sqrt(x), 0)")


def _is_parameter(t) -> bool:
    return t.grad_fn is None and t.requires_grad


def _array(x):
    """The array behind a tensor or gradient (a row-sparse gradient's stored rows, which
    hold every value it has that could be NaN or Inf)."""
    if isinstance(x, RowSparseTensor):
        return x.values().array
    return x.array if isinstance(x, Tensor) else x


def _host(x):
    return numpy.asarray(x) if isinstance(x, (numpy.ndarray, numpy.generic)) else \
        numpy.asarray(x.get() if hasattr(x, "get") else x)


def _nonfinite(a) -> bool:
    return a.dtype.kind in "fc" and not bool(xp(a).isfinite(a).all())


def _count(a, what: str) -> int:
    if a.dtype.kind not in "fc":
        return 0
    test = xp(a).isnan if what == "nan" else xp(a).isinf
    return int(test(a).sum())


def _what(a) -> str:
    host = _host(a)
    kinds = []
    if numpy.isnan(host).any():
        kinds.append("NaN")
    if numpy.isposinf(host).any():
        kinds.append("+Inf")
    if numpy.isneginf(host).any():
        kinds.append("-Inf")
    return " and ".join(kinds) or "no NaN or Inf"


def _max_abs(a) -> float:
    host = _host(a)
    finite = host[numpy.isfinite(host)] if host.dtype.kind in "fc" else host
    return float(numpy.abs(finite).max()) if finite.size else float("nan")


def _stats(a) -> str:
    host = _host(a)
    text = f"shape {tuple(host.shape)} {host.dtype}"
    if host.dtype.kind not in "fc":
        return text
    finite = host[numpy.isfinite(host)]
    if finite.size:
        text += f"  min {float(finite.min()):.4g}  max {float(finite.max()):.4g}"
    nan, inf = int(numpy.isnan(host).sum()), int(numpy.isinf(host).sum())
    return text + f"  NaN {'yes (' + str(nan) + ')' if nan else 'no'}" \
                  f"  Inf {'yes (' + str(inf) + ')' if inf else 'no'}"


def _where_bad(a) -> str:
    host = _host(a)
    bad = ~numpy.isfinite(host)
    first = tuple(int(k) for k in numpy.argwhere(bad)[0]) if bad.any() else ()
    return (f"shape {tuple(host.shape)}: {int(bad.sum())} of {host.size} elements are "
            f"{_what(host)}, the first at index {first}")


def _frame_summary(frame):
    if frame is None:
        return None
    filename, lineno, name = frame
    return traceback.FrameSummary(filename, lineno, name,
                                  line=linecache.getline(filename, lineno).strip() or None)


def _row(label: str, text: str) -> str:
    return f"  {label:<13} {text}"


def _origin_lines(origin, label: str) -> list:
    if origin is None:
        return []
    lines = [_row(label, f"{origin.filename}:{origin.lineno}, in {origin.name}")]
    if origin.line:
        lines.append(_row("", origin.line))
    return lines
