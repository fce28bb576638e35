"""`chainrule.nn.utils.parametrizations`: weight and spectral normalisation as
parametrizations (nn.utils.parametrize), PyTorch's current forms of both.

weight_norm keeps `original0` = g (the norms) and `original1` = v (the directions), and
computes weight = g · v / ‖v‖. spectral_norm keeps the weight itself and divides it by its
largest singular value σ = uᵀ W v, refining the singular vectors u, v (buffers `_u`, `_v`
of the parametrization) by one power-iteration step per training read:

    u <- W v / ‖W v‖,  v <- Wᵀ u / ‖Wᵀ u‖        (15 steps when it is registered)

A 1-D weight is simply divided by its norm.

orthogonal keeps the weight (n × k, n ≥ k after a transpose) orthonormal: from the
parameter X it builds an orthogonal Q by one of three maps,

    matrix_exp:   Q = exp(A),                     A = tril(X) - tril(X)ᵀ (skew-symmetric)
    cayley:       Q = (I - A/2)⁻¹ (I + A/2)
    householder:  Q = H₁ ⋯ H_k (first k columns),  H_i = I - τ_i v_i v_iᵀ,  v_i the i-th
                  column of X below the diagonal with a 1 on it, τ_i = 2 / ‖v_i‖²,
                  each column then times X's diagonal entry (±1) rounded towards zero

and, with use_trivialization (the default), multiplies by a buffer `base`: assigning
`weight = Q0` stores base = Q0 (made orthogonal by QR) and X = -I, where every map
gives I. Its exponential is a Taylor series after scaling and squaring, so its gradient
comes from the matrix products.
"""
from __future__ import annotations

import math

import numpy

from ... import backend, creation
from ...autograd.grad_mode import no_grad
from ...composites.functions import cat
from ..functional.distance import normalize
from ..module import Module
from .norm_hooks import norm_except_dim, normalized, weight_matrix
from .parametrize import register_parametrization

__all__ = ["weight_norm", "spectral_norm", "orthogonal"]


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


_ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map: str, *, use_trivialization: bool = True):
        super().__init__()
        self.shape, self.orthogonal_map = tuple(weight.shape), orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, x):
        transposed = x.shape[-2] < x.shape[-1]
        if transposed:
            x = x.transpose(-2, -1)
        n, k = x.shape[-2:]
        if self.orthogonal_map == "householder":
            q = _householder_columns(x)
        else:
            lower = x.tril()
            if n != k:
                lower = cat([lower, lower.new_zeros(*lower.shape[:-1], n - k)], -1)
            skew = lower - lower.transpose(-2, -1)
            q = _matrix_exp(skew) if self.orthogonal_map == "matrix_exp" else _cayley(skew)
            q = q[..., :k]
        if self._buffers.get("base") is not None:
            q = self.base @ q
        return q.transpose(-2, -1) if transposed else q

    def right_inverse(self, q):
        if tuple(q.shape) != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {tuple(self.shape)}. "
                             f"Got a tensor of shape {tuple(q.shape)}.")
        transposed = q.shape[-2] < q.shape[-1]
        matrix = backend.to_device(q.array, "cpu")
        matrix = numpy.swapaxes(matrix, -2, -1) if transposed else matrix
        if "base" not in self._buffers:
            if self.orthogonal_map != "householder":
                raise NotImplementedError("It is not possible to assign to the matrix "
                                          "exponential or the Cayley parametrizations when "
                                          "use_trivialization=False.")
            reflectors = _householder_form(matrix)
            reflectors = numpy.swapaxes(reflectors, -2, -1) if transposed else reflectors
            return creation.as_tensor(reflectors.astype(q.dtype), device=q.device)
        n, k = matrix.shape[-2:]
        if n != k:
            extra = numpy.random.default_rng().standard_normal((*matrix.shape[:-1], n - k))
            matrix = numpy.concatenate([matrix, extra], -1)
        self.base = creation.as_tensor(_orthonormal(matrix).astype(q.dtype), device=q.device)
        minus_identity = -numpy.eye(*q.shape[-2:], dtype=q.dtype)
        return creation.as_tensor(numpy.broadcast_to(minus_identity, q.shape).copy(),
                                  device=q.device)


def _orthonormal(matrix):
    """The Q of matrix = QR with diag(R) ≥ 0 (LAPACK's Householder QR, as PyTorch's)."""
    q, r = numpy.linalg.qr(matrix)
    return q * numpy.sign(numpy.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def _householder_form(matrix):
    """LAPACK's geqrf of each tall matrix: R on and above the diagonal, the reflectors
    below it; the diagonal replaced by the signs that make householder_columns give back
    the matrix's orthonormal factor."""
    flat = matrix.reshape(-1, *matrix.shape[-2:])
    out = numpy.empty_like(flat)
    for i, one in enumerate(flat):
        packed, tau = numpy.linalg.qr(one, mode="raw")
        packed = packed.T.copy()
        signs = numpy.sign(numpy.diagonal(packed))
        signs[tau == 0.0] *= -1
        numpy.fill_diagonal(packed, signs)
        out[i] = packed
    return out.reshape(matrix.shape)


def _matrix_exp(a):
    """exp(A) = (Σ_j (A/2^s)^j / j!)^(2^s), s making ‖A/2^s‖ ≤ 1/2 (20 terms: below
    float64's rounding)."""
    size = float(numpy.abs(backend.to_device(a.detach().array, "cpu")).sum(-2).max(initial=0))
    squarings = max(0, math.ceil(math.log2(size / 0.5))) if size > 0 else 0
    a = a / 2 ** squarings
    identity = creation.eye(a.shape[-1], dtype=a.dtype, device=a.device)
    total, term = identity + a, a
    for j in range(2, 21):
        term = term @ a / j
        total = total + term
    for _ in range(squarings):
        total = total @ total
    return total


def _cayley(a):
    identity = creation.eye(a.shape[-1], dtype=a.dtype, device=a.device)
    return (identity - a * 0.5).inverse() @ (identity + a * 0.5)


def _householder_columns(x):
    """The first k columns of H_1 ⋯ H_k, applied right to left to the identity's."""
    n, k = x.shape[-2:]
    reflectors = x.tril(-1) + creation.eye(n, k, dtype=x.dtype, device=x.device)
    tau = 2.0 / (reflectors * reflectors).sum(-2)
    q = creation.eye(n, k, dtype=x.dtype, device=x.device)
    for i in reversed(range(k)):
        v = reflectors[..., :, i:i + 1]
        q = q - tau[..., i:i + 1].unsqueeze(-1) * (v @ (v.transpose(-2, -1) @ q))
    return q * x.diagonal(0, -2, -1).trunc().unsqueeze(-2)   # (±1 there, as PyTorch's int())


def orthogonal(module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True):
    """Keep `module.<name>` (a matrix or a batch of them) orthonormal."""
    weight = getattr(module, name, None)
    if weight is None or not hasattr(weight, "ndim"):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square else "householder"
    if orthogonal_map not in _ORTHOGONAL_MAPS:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    return register_parametrization(
        module, name, _Orthogonal(weight, orthogonal_map,
                                  use_trivialization=use_trivialization), unsafe=True)
