"""`Exponential`: waiting times of rate λ, p(x) = λ e^(−λx) for x ≥ 0 (rsample: −log(u)/λ)."""
from __future__ import annotations

from ..creation import rand
from ..tensor import Tensor
from .distribution import Distribution
from .normal import _tensors


class Exponential(Distribution):
    shown = ("rate",)  # what repr lists, as PyTorch
    has_rsample = True

    def __init__(self, rate, validate_args=None) -> None:
        (self.rate,) = _tensors(rate)
        super().__init__(tuple(self.rate.shape), validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return 1 / self.rate

    @property
    def variance(self) -> Tensor:
        return self.rate ** -2

    def rsample(self, sample_shape=()) -> Tensor:
        u = rand(*self._extended_shape(sample_shape), dtype=self.rate.dtype)
        return -(1 - u).log() / self.rate          # 1 − u is in (0, 1]: no log(0)

    def log_prob(self, value) -> Tensor:
        """log λ − λx."""
        self._check_support(value, value >= 0, "[0, inf)")
        return self.rate.log() - self.rate * value

    def cdf(self, value) -> Tensor:
        return 1 - (-self.rate * value).exp()

    def entropy(self) -> Tensor:
        """H = 1 − log λ."""
        return 1 - self.rate.log()
