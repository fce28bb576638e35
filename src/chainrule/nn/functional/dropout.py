"""Dropout: during training, zero each element with probability p and scale the survivors
by 1/(1-p) ("inverted" dropout), so the expected value of every element is unchanged and
evaluation needs no rescaling: in eval mode dropout is the identity.

The mask is drawn from chainrule's seeded generator (`cr.manual_seed`) on the CPU, and on
a GPU from CuPy's generator (seeded by the same call), so no mask crosses the bus.
"""
from __future__ import annotations

from ... import backend
from ...tensor import Tensor
from .inplace_option import honours_inplace

__all__ = ["dropout"]


@honours_inplace
def dropout(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
            inplace: bool = False) -> Tensor:
    """y = x·m/(1-p), m ~ Bernoulli(1-p) per element, when `training`; else y = x.
    The gradient is the same mask: dy/dx = m/(1-p). (inplace=True writes y into x.)"""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if input.dtype.kind != "f":
        raise TypeError(f"dropout: needs a floating point tensor, got {input.dtype}")
    data = input.array
    if p == 1.0:
        mask = backend.xp(data).zeros(data.shape, dtype=data.dtype)
    else:
        mask = _uniform(data) >= p
        mask = mask.astype(data.dtype)
        mask *= data.dtype.type(1.0 / (1.0 - p))
    return input * Tensor._wrap(mask)


def _uniform(data):
    """Uniform samples on [0, 1), shaped like `data`, on its device."""
    dtype = data.dtype if data.dtype in (backend.float32, backend.float64) else backend.float32
    return backend.uniform_like(data, dtype)
