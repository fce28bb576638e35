"""Distances and similarities between batches of vectors: p-norm normalisation, cosine
similarity, pairwise distance, the distances between all pairs of rows (pdist). Composed of
existing ops (their gradients follow)."""
from __future__ import annotations

from ... import backend
from ...composites import functions
from ...tensor import Tensor

__all__ = ["normalize", "cosine_similarity", "pairwise_distance", "pdist"]


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


def pdist(input: Tensor, p: float = 2.0) -> Tensor:  # noqa: A002
    """||x_i - x_j||_p for every pair of rows i < j of input (N, M), pairs in row-major
    order: a vector of N·(N - 1)/2 distances. Where two rows are equal the gradient is 0
    (PyTorch's convention; the norm has no derivative there)."""
    if input.ndim != 2:
        raise ValueError(f"pdist: only 2-D input (N, M) is supported, got shape "
                         f"{tuple(input.shape)}")
    if p < 0:
        raise ValueError(f"pdist: only non-negative p values are supported, got p={p}")
    first, second = backend.xp(input.array).triu_indices(input.shape[0], 1)
    diff = functions.index(input, (first,)) - functions.index(input, (second,))
    if p == 0:  # the number of coordinates that differ; sign(|d|) keeps a zero gradient
        return functions.abs(diff).sign().sum(-1)
    if p == float("inf"):
        return functions.abs(diff).max(-1)[0]
    return _root_of_power_sum(diff, p)


def _root_of_power_sum(diff: Tensor, p: float) -> Tensor:
    """(Σ |d|^p)^(1/p) along the last dim, its gradient 0 where a term or the sum is 0
    (|d|^p and s^(1/p) have infinite slopes at 0 for p < 1 and p > 1)."""
    size = functions.abs(diff)
    zero = Tensor._wrap(size.array == 0)
    one = Tensor._wrap(backend.xp(size.array).ones((), size.dtype))
    powered = functions.where(zero, 0 * one, functions.where(zero, one, size) ** p)
    total = powered.sum(-1)
    empty = Tensor._wrap(total.array == 0)
    return functions.where(empty, 0 * one, functions.where(empty, one, total) ** (1.0 / p))
