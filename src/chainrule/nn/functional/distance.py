"""Distances and similarities between batches of vectors: p-norm normalisation, cosine
similarity, pairwise distance. Composed of existing ops (their gradients follow)."""
from __future__ import annotations

from ...ops import functions
from ...tensor import Tensor

__all__ = ["normalize", "cosine_similarity", "pairwise_distance"]


def vector_norm(x: Tensor, p: float, dim: int, keepdim: bool = False) -> Tensor:
    """(Σ |x|^p)^(1/p) along `dim` (p = inf: the largest |x|)."""
    if p == float("inf"):
        return functions.abs(x).max(dim, keepdim=keepdim)[0]
    if p == 2:
        return functions.sqrt((x * x).sum(dim, keepdim=keepdim))
    if p == 1:
        return functions.abs(x).sum(dim, keepdim=keepdim)
    return (functions.abs(x) ** p).sum(dim, keepdim=keepdim) ** (1.0 / p)


def _at_least(x: Tensor, floor: float) -> Tensor:
    """max(x, floor) whose gradient is 1 everywhere (PyTorch clamps norms in no_grad
    mode): x plus a constant."""
    lifted = x.array.clip(min=floor)
    return x + Tensor._wrap(lifted - x.array)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,  # noqa: A002
              out=None) -> Tensor:
    """x / max(||x||_p, eps) along `dim`."""
    norm = functions.clamp(vector_norm(input, p, dim, keepdim=True), eps, None)
    return input / norm


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1 · x2 / (||x1|| ||x2||) along `dim`, each norm at least eps."""
    n1 = _at_least(vector_norm(x1, 2, dim, keepdim=True), eps)
    n2 = _at_least(vector_norm(x2, 2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dimension (eps keeps the gradient finite)."""
    dim = -1 if max(x1.ndim, x2.ndim) > 0 else 0
    return vector_norm(x1 - x2 + eps, p, dim, keepdim=keepdim)
