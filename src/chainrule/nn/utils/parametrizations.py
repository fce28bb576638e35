"""`chainrule.nn.utils.parametrizations`: weight and spectral normalisation as
parametrizations (nn.utils.parametrize), PyTorch's current forms of both.

weight_norm keeps `original0` = g (the norms) and `original1` = v (the directions), and
computes weight = g · v / ‖v‖. spectral_norm keeps the weight itself and divides it by its
largest singular value σ = uᵀ W v, refining the singular vectors u, v (buffers `_u`, `_v`
of the parametrization) by one power-iteration step per training read:

    u <- W v / ‖W v‖,  v <- Wᵀ u / ‖Wᵀ u‖        (15 steps when it is registered)

A 1-D weight is simply divided by its norm. (torch.nn.utils.parametrizations.orthogonal
is not provided: it needs the matrix exponential or a QR factorisation with gradients.)
"""
from __future__ import annotations

from ... import creation
from ...autograd.grad_mode import no_grad
from ..functional.distance import normalize
from ..module import Module
from .norm_hooks import norm_except_dim, normalized, weight_matrix
from .parametrize import register_parametrization

__all__ = ["weight_norm", "spectral_norm"]


class _WeightNorm(Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight) -> tuple:
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module, name: str = "weight", dim: int | None = 0):
    """`module.<name>` = g · v / ‖v‖ (the norm over every dim but `dim`; all for None)."""
    return register_parametrization(module, name, _WeightNorm(-1 if dim is None else dim),
                                    unsafe=True)


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12):
        super().__init__()
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + weight.ndim
        self.eps, self.n_power_iterations = eps, n_power_iterations
        if weight.ndim > 1:
            rows, cols = weight_matrix(weight, self.dim).shape
            u = creation.randn(rows, dtype=weight.dtype, device=weight.device)
            v = creation.randn(cols, dtype=weight.dtype, device=weight.device)
            self.register_buffer("_u", normalize(u, dim=0, eps=eps))
            self.register_buffer("_v", normalize(v, dim=0, eps=eps))
            self._power_method(weight_matrix(weight, self.dim), 15)

    def _power_method(self, matrix, steps: int) -> None:
        with no_grad():
            w, u, v = matrix.array, self._u.array, self._v.array
            for _ in range(steps):                  # in place: the buffers learn
                u[...] = normalized(w @ v, self.eps)
                v[...] = normalized(w.T @ u, self.eps)

    def forward(self, weight):
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        matrix = weight_matrix(weight, self.dim)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        return weight / (u * (matrix @ v)).sum()

    def right_inverse(self, value):
        return value


def spectral_norm(module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None):
    """`module.<name>` divided by its spectral norm (dim: the output channels, 1 for a
    transposed convolution, else 0)."""
    weight = getattr(module, name, None)
    if weight is None or weight.ndim == 0:
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    return register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
