"""`TransformedDistribution`: a base distribution pushed through invertible transforms,
y = fₖ(…f₁(x)); log p(y) = log p_base(x) − Σ log |dfᵢ/dx| (a logistic distribution is
Uniform(0, 1) through SigmoidTransform().inv, as nflib's flows use for their prior)."""
from __future__ import annotations

from ..autograd import no_grad
from ..tensor import Tensor
from .distribution import Distribution
from .transforms import Transform


class TransformedDistribution(Distribution):
    def __init__(self, base_distribution: Distribution, transforms, validate_args=None) -> None:
        self.base_dist = base_distribution
        self.transforms = [transforms] if isinstance(transforms, Transform) else list(transforms)
        shape = base_distribution.batch_shape + base_distribution.event_shape
        event_dim = max([len(base_distribution.event_shape)] +
                        [t.event_dim for t in self.transforms])
        cut = len(shape) - event_dim
        super().__init__(shape[:cut], shape[cut:], validate_args=validate_args)

    @property
    def has_rsample(self) -> bool:
        return self.base_dist.has_rsample

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            return self._forward(self.base_dist.sample(sample_shape))

    def rsample(self, sample_shape=()) -> Tensor:
        return self._forward(self.base_dist.rsample(sample_shape))

    def _forward(self, x: Tensor) -> Tensor:
        for transform in self.transforms:
            x = transform(x)
        return x

    def log_prob(self, value) -> Tensor:
        """Back through the transforms, subtracting each one's log-Jacobian."""
        event_dim = len(self.event_shape)
        log_prob, y = 0.0, value
        for transform in reversed(self.transforms):
            x = transform.inv(y)
            log_prob = log_prob - _sum_rightmost(transform.log_abs_det_jacobian(x, y),
                                                 event_dim - transform.event_dim)
            y = x
        return log_prob + _sum_rightmost(self.base_dist.log_prob(y),
                                         event_dim - len(self.base_dist.event_shape))


def _sum_rightmost(value: Tensor, dims: int) -> Tensor:
    for _ in range(dims):
        value = value.sum(-1)
    return value
