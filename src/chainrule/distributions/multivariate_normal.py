"""`MultivariateNormal`: the Gaussian over vectors N(loc, Σ), given by Σ
(`covariance_matrix`), its inverse (`precision_matrix`) or its Cholesky factor L
(`scale_tril`, Σ = L Lᵀ). Reparameterised: rsample is loc + L ε."""
from __future__ import annotations

import math

from ..composites.assorted import broadcast_shapes
from ..composites.matrix import inverse
from ..creation import randn
from ..ops.matrix import Cholesky
from ..tensor import Tensor
from .distribution import Distribution


class MultivariateNormal(Distribution):
    has_rsample = True

    def __init__(self, loc: Tensor, covariance_matrix: Tensor | None = None,
                 precision_matrix: Tensor | None = None, scale_tril: Tensor | None = None,
                 validate_args=None) -> None:
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise ValueError("MultivariateNormal: give exactly one of covariance_matrix, "
                             "precision_matrix or scale_tril")
        if loc.ndim < 1 or given[0].ndim < 2:
            raise ValueError("MultivariateNormal: loc must be at least a vector and the matrix "
                             f"at least 2-d, got shapes {tuple(loc.shape)} and "
                             f"{tuple(given[0].shape)}")
        if scale_tril is None:
            covariance = covariance_matrix if covariance_matrix is not None \
                else inverse(precision_matrix)
            scale_tril = Cholesky.apply(covariance)
        self._unbroadcasted_scale_tril = scale_tril
        batch = tuple(broadcast_shapes(tuple(loc.shape[:-1]), tuple(scale_tril.shape[:-2])))
        self.loc = loc.expand(*batch, loc.shape[-1])
        super().__init__(batch, tuple(loc.shape[-1:]), validate_args=validate_args)

    @property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(*self.batch_shape, *self.event_shape * 2)

    @property
    def covariance_matrix(self) -> Tensor:
        lower = self._unbroadcasted_scale_tril
        return (lower @ lower.transpose(-1, -2)).expand(*self.batch_shape,
                                                         *self.event_shape * 2)

    @property
    def precision_matrix(self) -> Tensor:
        return inverse(self.covariance_matrix)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """The diagonal of Σ = L Lᵀ: each row of L squared and summed."""
        return (self._unbroadcasted_scale_tril ** 2).sum(-1).expand(*self.batch_shape,
                                                                      *self.event_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        """loc + L ε, ε ~ N(0, I): differentiable in loc and L (so in Σ)."""
        eps = randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value) -> Tensor:
        """log p(x) = −½ (k log 2π + |L⁻¹(x − μ)|²) − Σ log diag L (a triangular solve, as
        PyTorch's: only L's lower triangle is read)."""
        lower = self._unbroadcasted_scale_tril.tril()
        z = inverse(lower) @ (value - self.loc).unsqueeze(-1)
        mahalanobis = (z.squeeze(-1) ** 2).sum(-1)
        k = self.event_shape[0]
        return -0.5 * (k * math.log(2 * math.pi) + mahalanobis) - self._half_log_det()

    def entropy(self) -> Tensor:
        """H = ½ k (1 + log 2π) + Σ log diag L."""
        k = self.event_shape[0]
        entropy = 0.5 * k * (1 + math.log(2 * math.pi)) + self._half_log_det()
        return entropy.expand(*self.batch_shape) if self.batch_shape else entropy

    def _half_log_det(self) -> Tensor:
        """½ log det Σ = Σ log diag L."""
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
