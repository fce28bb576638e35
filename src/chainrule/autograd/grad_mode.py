"""Whether ops record the graph: `no_grad()` turns recording off, `enable_grad()` on."""
from __future__ import annotations

import functools


class _State:
    enabled = True


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
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


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
