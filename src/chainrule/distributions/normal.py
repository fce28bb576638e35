"""`Normal`: the Gaussian N(loc, scale²), reparameterised (rsample: loc + scale·ε)."""
from __future__ import annotations

import math

from ..composites.shape import broadcast_tensors
from ..creation import as_tensor, randn
from ..tensor import Tensor
from .distribution import Distribution


class LocationScale(Distribution):
    """A distribution of loc + scale·z for a fixed law of z (Normal, Laplace): its
    parameters broadcast together, its mean is loc, and it samples differentiably."""
    has_rsample = True
    shown = ("loc", "scale")

    def __init__(self, loc, scale, validate_args=None) -> None:
        self.loc, self.scale = broadcast_tensors(*_tensors(loc, scale))
        super().__init__(tuple(self.loc.shape))

    @property
    def mean(self) -> Tensor:
        return self.loc


class Normal(LocationScale):

    @property
    def variance(self) -> Tensor:
        return self.scale ** 2

    def rsample(self, sample_shape=()) -> Tensor:
        """loc + scale·ε, ε ~ N(0, 1): differentiable in loc and scale."""
        eps = randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value) -> Tensor:
        """log p(x) = −(x − μ)² / 2σ² − log σ − ½ log 2π."""
        return (-((value - self.loc) ** 2) / (2 * self.variance) - self.scale.log()
                - 0.5 * math.log(2 * math.pi))

    def cdf(self, value) -> Tensor:
        """P(X ≤ x) = ½ (1 + erf((x − μ) / σ√2))."""
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())

    def icdf(self, value) -> Tensor:
        """The x with P(X ≤ x) = p: μ + σ√2 erfinv(2p − 1)."""
        return self.loc + self.scale * (2 * value - 1).erfinv() * math.sqrt(2)

    def entropy(self) -> Tensor:
        """H = ½ + ½ log 2π + log σ."""
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()


def _tensors(*values) -> list:
    """Numbers become tensors of the first tensor's dtype (or the default one)."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    dtype = like.dtype if like is not None else None
    return [v if isinstance(v, Tensor) else as_tensor(float(v), dtype=dtype) for v in values]
