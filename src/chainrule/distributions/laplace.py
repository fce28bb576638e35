"""`Laplace`: p(x) = e^(−|x − loc|/scale) / 2·scale (rsample by inverting the cdf)."""
from __future__ import annotations

import numpy

from ..creation import rand
from ..tensor import Tensor
from .normal import LocationScale


class Laplace(LocationScale):
    @property
    def variance(self) -> Tensor:
        return 2 * self.scale ** 2

    def rsample(self, sample_shape=()) -> Tensor:
        """loc − scale·sign(u)·log(1 − |u|), u uniform on (−1, 1)."""
        tiny = float(numpy.finfo(self.loc.dtype).eps)
        u = rand(*self._extended_shape(sample_shape), dtype=self.loc.dtype) * (2 - tiny) \
            - (1 - tiny)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value) -> Tensor:
        """−log(2·scale) − |x − loc| / scale."""
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value) -> Tensor:
        z = (value - self.loc) / self.scale
        return 0.5 - 0.5 * z.sign() * (-z.abs()).expm1()

    def entropy(self) -> Tensor:
        """H = 1 + log(2·scale)."""
        return 1 + (2 * self.scale).log()
