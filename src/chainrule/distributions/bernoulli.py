"""`Bernoulli`: 1 with probability `probs` (or sigmoid(`logits`)), else 0."""
from __future__ import annotations

import numpy

from ..creation import bernoulli
from ..nn.functional.loss import binary_cross_entropy_with_logits
from ..tensor import Tensor
from .distribution import Distribution


class Bernoulli(Distribution):
    def __init__(self, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args=None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: give either probs or logits, not both")
        self.shown = ("probs",) if logits is None else ("logits",)  # (what was given)
        if probs is not None:
            eps = numpy.finfo(probs.dtype).eps
            self.probs = probs
            clamped = probs.clamp(eps, 1 - eps)
            self.logits = clamped.log() - (1 - clamped).log()
        else:
            self.logits, self.probs = logits, logits.sigmoid()
        super().__init__(tuple(self.probs.shape))

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def _draw(self, sample_shape) -> Tensor:
        return bernoulli(self.probs.expand(*self._extended_shape(sample_shape)))

    def log_prob(self, value: Tensor) -> Tensor:
        """log P(x) = x log p + (1 − x) log(1 − p) = −BCE(logits, x)."""
        shape = numpy.broadcast_shapes(tuple(self.logits.shape), tuple(value.shape))
        logits, value = self.logits.expand(*shape), value.expand(*shape).to(self.logits.dtype)
        return -binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        """H = −p log p − (1 − p) log(1 − p) = BCE(logits, p)."""
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

