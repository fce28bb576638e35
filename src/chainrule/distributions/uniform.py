"""`Uniform`: the uniform distribution on [low, high), reparameterised (rsample:
low + (high − low)·u with u ~ U(0, 1))."""
from __future__ import annotations

from ..composites.shape import broadcast_tensors
from ..creation import rand
from ..tensor import Tensor, lift
from .distribution import Distribution
from .normal import _tensors


class Uniform(Distribution):
    shown = ("low", "high")  # what repr lists, as PyTorch
    has_rsample = True

    def __init__(self, low, high, validate_args=None) -> None:
        self.low, self.high = broadcast_tensors(*_tensors(low, high))
        super().__init__(tuple(self.low.shape), validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return (self.low + self.high) / 2

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=()) -> Tensor:
        """low + (high − low)·u: differentiable in low and high."""
        u = rand(*self._extended_shape(sample_shape), dtype=self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value) -> Tensor:
        """−log(high − low) inside [low, high); outside, PyTorch's ValueError, or −inf with
        validate_args=False."""
        value = value if isinstance(value, Tensor) else lift(value, self.low)
        inside = (value >= self.low) & (value < self.high)
        self._check_support(value, inside, "[low, high)")
        return inside.to(self.low.dtype).log() - (self.high - self.low).log()

    def cdf(self, value) -> Tensor:
        value = value if isinstance(value, Tensor) else lift(value, self.low)
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value) -> Tensor:
        return self.low + value * (self.high - self.low)

    def entropy(self) -> Tensor:
        """H = log(high − low)."""
        return (self.high - self.low).log()
