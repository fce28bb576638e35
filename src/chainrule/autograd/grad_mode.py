"""Whether ops record the graph: `no_grad()` turns recording off, `enable_grad()` on.

The mode belongs to the thread, as in PyTorch: one thread evaluating under `no_grad()` (or
running a backward pass, which sets the mode to its `create_graph`) leaves every other
thread's recording as it was. A new thread starts with recording on.
"""
from __future__ import annotations

import copy
import functools
import threading


class _State(threading.local):
    enabled = True  # the class value is each thread's starting value


state = _State()


def is_grad_enabled() -> bool:
    return state.enabled


class _GradMode:
    """Context manager and decorator that sets grad recording to `self.mode`."""

    mode = True

    def __enter__(self):
        self.previous = state.enabled
        state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        state.enabled = self.previous
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._again():
                return fn(*args, **kwargs)
        return wrapper

    def _again(self):
        """A fresh manager like this one, for one call of a decorated function."""
        return copy.copy(self)


class _WithoutArguments(_GradMode):
    def __new__(cls, fn=None):
        # `@no_grad` without parentheses decorates too, as in PyTorch.
        self = super().__new__(cls)
        return self if fn is None else self(fn)


class no_grad(_WithoutArguments):
    """Ops inside build no graph: for evaluation and for updating weights."""

    mode = False


class enable_grad(_WithoutArguments):
    """Turn recording back on inside a `no_grad` block."""

    mode = True


class set_grad_enabled(_GradMode):
    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self.previous = state.enabled
        state.enabled = self.mode

    def __enter__(self):
        return self

    def __call__(self, fn):
        # `@set_grad_enabled(False)` sets the mode only while the function runs
        state.enabled = self.previous
        return super().__call__(fn)

    def _again(self):
        return set_grad_enabled(self.mode)


class inference_mode(_GradMode):
    """`no_grad` under PyTorch's other name (chainrule has no separate inference tensors);
    `inference_mode(False)` leaves recording as it is."""

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):  # `@inference_mode` without parentheses
            self.inference = True
            return self(mode)
        return self

    def __init__(self, mode=True):
        self.inference = bool(mode)

    def __enter__(self):
        self.mode = state.enabled and not self.inference
        self.was_inference, _inference.on = _inference.on, self.inference
        return super().__enter__()

    def __exit__(self, *exc):
        _inference.on = self.was_inference
        return super().__exit__(*exc)


class _Inference(threading.local):
    on = False


_inference = _Inference()


def is_inference_mode_enabled() -> bool:
    return _inference.on
