"""Normalization: batch norm (per channel, over the batch) and layer norm (per sample)."""
from __future__ import annotations

from ...ops.normalization import BatchNorm, LayerNorm
from ...tensor import Tensor

__all__ = ["batch_norm", "layer_norm"]


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) of x (N, C, *) to zero mean and unit variance, then
    scale by `weight` and shift by `bias`.

    training=True: use the batch's statistics (biased variance) and, when running buffers
    are given, update them in place: running = (1 - momentum)·running + momentum·batch
    (unbiased variance). training=False: normalise with the running statistics.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, *), got {tuple(input.shape)}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (channels,):
            raise ValueError(f"batch_norm: {name} should have {channels} elements (the input "
                             f"{tuple(input.shape)} has {channels} channels), got shape {tuple(t.shape)}")
    affine, has_weight = _affine(weight, bias)
    if training:
        count = input.array.size // channels if channels else 0
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input size {tuple(input.shape)}")
        running = None
        if running_mean is not None and running_var is not None:
            running = (running_mean.array, running_var.array, float(momentum))
        return BatchNorm.apply(input, *affine, eps=eps, running=running, has_weight=has_weight)
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var must be given when not "
                         "training (or pass training=True to use the batch's statistics)")
    return BatchNorm.apply(input, *affine, eps=eps, stats=(running_mean.array, running_var.array),
                           has_weight=has_weight)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each sample over its trailing dims `normalized_shape` to zero mean and unit
    variance (biased), then scale by `weight` and shift by `bias` (both of that shape)."""
    shape = normalized_shape_tuple(normalized_shape)
    if not shape or input.shape[input.ndim - len(shape):] != shape or input.ndim < len(shape):
        raise ValueError(f"layer_norm: given normalized_shape={list(shape)}, expected input "
                         f"with shape [*, {', '.join(map(str, shape))}], but got input of "
                         f"size {tuple(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise ValueError(f"layer_norm: {name} should have shape {shape} "
                             f"(normalized_shape), got {tuple(t.shape)}")
    affine, has_weight = _affine(weight, bias)
    return LayerNorm.apply(input, *affine, normalized_ndim=len(shape), eps=eps,
                           has_weight=has_weight)


def normalized_shape_tuple(normalized_shape) -> tuple:
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    return tuple(int(n) for n in normalized_shape)


def _affine(weight, bias):
    affine = tuple(t for t in (weight, bias) if t is not None)
    return affine, weight is not None
