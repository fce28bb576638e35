"""`Uniform`: every value in [low, high) equally likely (rsample: low + (high − low)·u)."""
from __future__ import annotations

from ..composites.shape import broadcast_tensors
from ..creation import rand
from ..tensor import Tensor
from .distribution import Distribution
from .normal import _tensors


class Uniform(Distribution):
    has_rsample = True

    def __init__(self, low, high, validate_args=None) -> None:
        self.low, self.high = broadcast_tensors(*_tensors(low, high))
        super().__init__(tuple(self.low.shape), validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=()) -> Tensor:
        u = rand(*self._extended_shape(sample_shape), dtype=self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value) -> Tensor:
        """−log(high − low) inside [low, high), −inf outside (with validate_args=False)."""
        inside = (self.low <= value) & (self.high > value)
        self._check_support(value, inside, "[low, high)")
        return inside.to(self.low.dtype).log() - (self.high - self.low).log()

    def cdf(self, value) -> Tensor:
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()
