"""`Independent`: the last `reinterpreted_batch_ndims` batch dimensions of a distribution
read as one event (a diagonal Gaussian over a vector: Independent(Normal(μ, σ), 1)), so
log_prob and entropy sum over them."""
from __future__ import annotations

from ..tensor import Tensor
from .distribution import Distribution


class Independent(Distribution):
    def __init__(self, base_distribution: Distribution, reinterpreted_batch_ndims: int,
                 validate_args=None) -> None:
        shape = base_distribution.batch_shape + base_distribution.event_shape
        moved = int(reinterpreted_batch_ndims)
        if not 0 <= moved <= len(base_distribution.batch_shape):
            raise ValueError(f"Independent: reinterpreted_batch_ndims {moved} is more than the "
                             f"base's {len(base_distribution.batch_shape)} batch dimensions")
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, moved
        cut = len(base_distribution.batch_shape) - moved
        super().__init__(shape[:cut], shape[cut:])

    @property
    def has_rsample(self) -> bool:
        return self.base_dist.has_rsample

    @property
    def mean(self) -> Tensor:
        return self.base_dist.mean

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    def sample(self, sample_shape=()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value) -> Tensor:
        return self._sum_event(self.base_dist.log_prob(value))

    def entropy(self) -> Tensor:
        return self._sum_event(self.base_dist.entropy())

    def _sum_event(self, values: Tensor) -> Tensor:
        for _ in range(self.reinterpreted_batch_ndims):
            values = values.sum(-1)
        return values
