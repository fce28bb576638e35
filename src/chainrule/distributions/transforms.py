"""Invertible maps of random values (`torch.distributions.transforms`): each gives y = f(x),
x = f⁻¹(y) (`t.inv` is the inverse as a transform) and log |df/dx|, which
TransformedDistribution subtracts to score a transformed value."""
from __future__ import annotations

import math

import numpy

from ..composites.shape import broadcast_tensors
from ..nn.functional import softplus
from ..tensor import Tensor


class Transform:
    """y = f(x) element by element (or over the last `event_dim` dimensions)."""

    event_dim = 0
    bijective = True

    def __call__(self, x: Tensor) -> Tensor:
        return self._call(x)

    @property
    def inv(self) -> "Transform":
        return _InverseTransform(self)

    def _call(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no forward map")

    def _inverse(self, y: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} is not invertible")

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no log-Jacobian")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _InverseTransform(Transform):
    def __init__(self, transform: Transform):
        self._inv, self.event_dim = transform, transform.event_dim

    @property
    def inv(self) -> Transform:
        return self._inv

    def _call(self, x: Tensor) -> Tensor:
        return self._inv._inverse(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return self._inv._call(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -self._inv.log_abs_det_jacobian(y, x)


class ExpTransform(Transform):
    """y = eᵡ;  log |dy/dx| = x."""

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class SigmoidTransform(Transform):
    """y = σ(x), kept inside (0, 1) by the dtype's smallest steps (as PyTorch);
    log |dy/dx| = −softplus(−x) − softplus(x)."""

    def _call(self, x):
        info = numpy.finfo(x.dtype)
        return x.sigmoid().clamp(min=float(info.tiny), max=1.0 - float(info.eps))

    def _inverse(self, y):
        info = numpy.finfo(y.dtype)
        y = y.clamp(min=float(info.tiny), max=1.0 - float(info.eps))
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x) - softplus(x)


class TanhTransform(Transform):
    """y = tanh(x);  log |dy/dx| = 2 (log 2 − x − softplus(−2x))."""

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return 0.5 * ((1 + y).log() - (1 - y).log())

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class AffineTransform(Transform):
    """y = loc + scale·x;  log |dy/dx| = log |scale|, summed over `event_dim` dimensions."""

    def __init__(self, loc, scale, event_dim: int = 0):
        self.loc, self.scale, self.event_dim = loc, scale, event_dim

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        scale = self.scale if isinstance(self.scale, Tensor) else x.new_tensor(self.scale)
        result = broadcast_tensors(scale.abs().log(), x)[0]
        for _ in range(self.event_dim):
            result = result.sum(-1)
        return result
