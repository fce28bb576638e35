"""`Categorical`: one of K classes, with probabilities `probs` or log-odds `logits`."""
from __future__ import annotations

import numpy

from ..creation import multinomial
from ..tensor import Tensor
from .distribution import Distribution


class Categorical(Distribution):
    """K classes along the last dim of `probs` (normalised to sum to 1) or of `logits`
    (normalised so that logsumexp is 0): P(k) = probs[k] = exp(logits[k])."""

    def __init__(self, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args=None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: give either probs or logits, not both")
        self.shown = ("probs",) if logits is None else ("logits",)  # (what was given)
        if probs is not None:
            self.probs = probs / probs.sum(-1, keepdim=True)
            self.logits = self.probs.clamp(min=numpy.finfo(self.probs.dtype).tiny).log()
        else:
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
            self.probs = self.logits.softmax(-1)
        super().__init__(tuple(self.probs.shape[:-1]))

    def _draw(self, sample_shape) -> Tensor:
        classes = self.probs.shape[-1]
        count = 1
        for n in sample_shape:
            count *= n
        rows = self.probs.reshape(-1, classes)
        draws = multinomial(rows, count, replacement=True)       # (batch, count)
        return draws.T.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value: Tensor) -> Tensor:
        """log P(value) = logits[value], broadcast over the batch."""
        index = value.long().unsqueeze(-1)
        shape = numpy.broadcast_shapes(tuple(index.shape[:-1]), self.batch_shape)
        logits = self.logits.expand(*shape, self.logits.shape[-1])
        return logits.gather(-1, index.expand(*shape, 1)).squeeze(-1)

    def entropy(self) -> Tensor:
        """H = −Σ_k p_k log p_k (a class of logit −inf adds 0)."""
        return -(self.probs * self.logits.clamp(min=numpy.finfo(self.logits.dtype).min)).sum(-1)

    @property
    def param_shape(self) -> tuple:
        return tuple(self.probs.shape)

