"""Margin and embedding losses: penalties that are zero once a score or a distance is on
the right side of a margin (ranking, hinge, triplet, multi-class margin), and the soft
(logistic) margins. Composed of existing ops, so each gradient follows from theirs."""
from __future__ import annotations

from ... import backend
from ...composites import functions
from ...ops.activation import LogSigmoid
from ...tensor import Tensor
from .distance import pairwise_distance
from .loss import _as_tensor, _reduce, legacy_reduction

__all__ = ["soft_margin_loss", "multilabel_soft_margin_loss", "cosine_embedding_loss",
           "margin_ranking_loss", "hinge_embedding_loss", "triplet_margin_loss",
           "triplet_margin_with_distance_loss", "multi_margin_loss", "multilabel_margin_loss"]

EPSILON = 1e-12      # cosine_embedding_loss's guard on squared norms, as PyTorch's


def _hinge(x: Tensor) -> Tensor:
    """max(x, 0)."""
    return functions.clamp(x, 0.0, None)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None,  # noqa: A002
                     reduce=None, reduction: str = "mean") -> Tensor:
    """log(1 + e^(-y x)) for labels y = ±1."""
    reduction = legacy_reduction(size_average, reduce, reduction, "soft_margin_loss")
    target = _as_tensor(target, input, "soft_margin_loss")
    return _reduce(-LogSigmoid.apply(input * target), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor,  # noqa: A002
                                weight: Tensor | None = None, size_average=None,
                                reduce=None, reduction: str = "mean") -> Tensor:
    """Per sample, the mean over classes of -(y log σ(x) + (1 - y) log σ(-x)), y in {0, 1}."""
    reduction = legacy_reduction(size_average, reduce, reduction,
                                 "multilabel_soft_margin_loss")
    target = _as_tensor(target, input, "multilabel_soft_margin_loss")
    loss = -(target * LogSigmoid.apply(input) + (1 - target) * LogSigmoid.apply(-input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.mean(input.ndim - 1), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor,
                          margin: float = 0.0, size_average=None, reduce=None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) for pairs labelled 1, max(0, cos(x1, x2) - margin) for -1."""
    reduction = legacy_reduction(size_average, reduce, reduction, "cosine_embedding_loss")
    target = _as_tensor(target, input1, "cosine_embedding_loss")
    dim = input1.ndim - 1
    dot = (input1 * input2).sum(dim)
    squares = ((input1 * input1).sum(dim) + EPSILON) * ((input2 * input2).sum(dim) + EPSILON)
    cos = dot / functions.sqrt(squares)
    y = target.array
    loss = functions.where(y == 1, 1 - cos, 0.0) + functions.where(y == -1,
                                                                  _hinge(cos - margin), 0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor,
                        margin: float = 0.0, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -y (x1 - x2) + margin): x1 should rank above x2 when y = 1, below when -1."""
    reduction = legacy_reduction(size_average, reduce, reduction, "margin_ranking_loss")
    target = _as_tensor(target, input1, "margin_ranking_loss")
    return _reduce(_hinge(-target * (input1 - input2) + margin), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,  # noqa: A002
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1 (x typically a distance)."""
    reduction = legacy_reduction(size_average, reduce, reduction, "hinge_embedding_loss")
    y = _as_tensor(target, input, "hinge_embedding_loss").array
    loss = (functions.where(y != 1, _hinge(margin - input), 0.0)
            + functions.where(y != -1, input, 0.0))
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin) with d the p-norm pairwise distance; `swap` uses
    the smaller of d(a, n) and d(p, n)."""
    reduction = legacy_reduction(size_average, reduce, reduction, "triplet_margin_loss")
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")

    def distance(x, y):
        return pairwise_distance(x, y, p, eps)
    return _triplet(anchor, positive, negative, distance, margin, swap, reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                                      *, distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """The triplet loss with any distance (pairwise_distance by default)."""
    legacy_reduction(None, None, reduction, "triplet_margin_with_distance_loss")
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: margin must be greater than "
                         f"0, got {margin}")
    return _triplet(anchor, positive, negative, distance_function or pairwise_distance,
                    margin, swap, reduction)


def _triplet(anchor, positive, negative, distance, margin, swap, reduction):
    to_positive = distance(anchor, positive)
    to_negative = distance(anchor, negative)
    if swap:
        to_negative = functions.minimum(to_negative, distance(positive, negative))
    return _reduce(_hinge(margin + to_positive - to_negative), reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1,  # noqa: A002
                      margin: float = 1.0, weight: Tensor | None = None, size_average=None,
                      reduce=None, reduction: str = "mean") -> Tensor:
    """Per sample: Σ_{i ≠ y} max(0, margin - x[y] + x[i])^p / C (times weight[y]): the
    multi-class hinge loss."""
    reduction = legacy_reduction(size_average, reduce, reduction, "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 supported, got {p}")
    target = _as_tensor(target, input, "multi_margin_loss")
    scores = input if input.ndim == 2 else input.reshape(1, -1)
    labels = target.array.reshape(-1, 1)
    classes = scores.shape[1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise IndexError(f"multi_margin_loss: target out of range for {classes} classes")
    right = scores.gather(1, Tensor._wrap(labels))
    violation = _hinge(scores - right + margin)
    if p == 2:
        violation = violation * violation
    others = Tensor._wrap((labels != backend.xp(labels).arange(classes)).astype(input.dtype))
    loss = (violation * others).sum(1) / classes
    if weight is not None:
        loss = loss * Tensor._wrap(weight.array[labels.reshape(-1)])
    if input.ndim != 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None,  # noqa: A002
                           reduce=None, reduction: str = "mean") -> Tensor:
    """Per sample: Σ_{j in targets} Σ_{i not in targets} max(0, 1 - x[j] + x[i]) / C, where
    the targets are the class indices of `target`'s row up to its first -1."""
    reduction = legacy_reduction(size_average, reduce, reduction, "multilabel_margin_loss")
    target = _as_tensor(target, input, "multilabel_margin_loss")
    if target.shape != input.shape or input.ndim not in (1, 2):
        raise ValueError(f"multilabel_margin_loss: input and target must both be (C) or "
                         f"(N, C), got {tuple(input.shape)} and {tuple(target.shape)}")
    scores = input.reshape(-1, input.shape[-1])
    labels = target.array.reshape(scores.shape)
    xp, classes = backend.xp(labels), scores.shape[1]
    if labels.size and (labels.min() < -1 or labels.max() >= classes):
        raise IndexError(f"multilabel_margin_loss: target out of range for {classes} classes")
    listed = xp.cumprod(labels != -1, axis=1).astype(bool)      # before the first -1
    chosen = xp.where(listed, labels, 0)
    is_target = xp.zeros(scores.shape, dtype=bool)
    rows = xp.arange(scores.shape[0])[:, None].repeat(classes, 1)
    is_target[rows[listed], chosen[listed]] = True
    right = scores.gather(1, Tensor._wrap(chosen))                      # x[y_k], (N, K)
    pairs = _hinge(1 - right.unsqueeze(2) + scores.unsqueeze(1))         # (N, K, C)
    counted = Tensor._wrap((listed[:, :, None] & ~is_target[:, None, :]).astype(input.dtype))
    loss = (pairs * counted).sum((1, 2)) / classes
    if input.ndim == 1:
        loss = loss.reshape(())
    return _reduce(loss, reduction)
