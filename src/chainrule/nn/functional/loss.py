"""Loss functions: one number that says how wrong the predictions are.

Every loss takes `reduction`: 'mean' (the default), 'sum', or 'none' (one loss per
element or per sample). Arguments, defaults and reduction rules follow PyTorch, including
the weighted mean of cross-entropy and NLL (divided by the total weight of the counted
targets, not by their number). The deprecated `size_average` and `reduce` arguments are
accepted and translated as PyTorch does.
"""
from __future__ import annotations

import warnings

from ... import backend
from ...backend import xp
from ...composites.node_names import pytorch_node
from ...creation import as_tensor
from ...ops.indexing import TakeAlongDim
from ...ops.loss import (
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,
    CrossEntropy,
    CrossEntropyProbs,
)
from ...tensor import Tensor

__all__ = ["mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "one_hot"]

_REDUCTIONS = ("mean", "sum", "none")


def legacy_reduction(size_average, reduce, reduction: str, name: str) -> str:
    """The reduction named by the deprecated size_average/reduce pair, as PyTorch."""
    if size_average is None and reduce is None:
        return _check_reduction(reduction, name)
    warnings.warn(f"{name}: size_average and reduce are deprecated; use reduction="
                  "'mean' | 'sum' | 'none' instead", DeprecationWarning, stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _check_reduction(reduction: str, name: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction; use "
                         "'mean', 'sum' or 'none'")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _as_tensor(value, like: Tensor, name: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    try:
        return as_tensor(value, device=like.device)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name}: expected a Tensor, got {type(value).__name__}") from err


def _constant(value, like: Tensor):
    """An optional weight as a raw array of the input's dtype (no gradient flows to it)."""
    if value is None:
        return None
    array = value.array if isinstance(value, Tensor) else backend.xp(like.array).asarray(value)
    return array.astype(like.dtype, copy=False)


def _same_size_warning(input: Tensor, target: Tensor, name: str) -> None:  # noqa: A002
    if target.shape != input.shape:
        warnings.warn(f"{name}: using a target size ({tuple(target.shape)}) that is different to "
                      f"the input size ({tuple(input.shape)}). This will likely lead to incorrect "
                      "results due to broadcasting. Please ensure they have the same size.",
                      stacklevel=3)


# --- regression ------------------------------------------------------------------------
@pytorch_node("MseLossBackward0")
def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error: (x - y)², optionally weighted elementwise (the weighted mean
    divides by Σ weight)."""
    reduction = legacy_reduction(size_average, reduce, reduction, "mse_loss")
    target = _as_tensor(target, input, "mse_loss")
    _same_size_warning(input, target, "mse_loss")
    diff = input - target
    return _weighted_reduce(diff * diff, reduction, weight, input, "mse_loss")


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error: |x - y| (gradient sign(x - y), 0 where they are equal),
    optionally weighted elementwise."""
    reduction = legacy_reduction(size_average, reduce, reduction, "l1_loss")
    target = _as_tensor(target, input, "l1_loss")
    _same_size_warning(input, target, "l1_loss")
    return _weighted_reduce((input - target).abs(), reduction, weight, input, "l1_loss")


def _weighted_reduce(loss: Tensor, reduction: str, weight, input: Tensor,  # noqa: A002
                     name: str) -> Tensor:
    if weight is None:
        return _reduce(loss, reduction)
    weight = _as_tensor(weight, input, name)
    if weight.shape != input.shape:
        raise ValueError(f"{name}: weight of shape {tuple(weight.shape)} must have the input's size "
                         f"{tuple(input.shape)}")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


# --- classification ----------------------------------------------------------------------
def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between softmax(input) over dim 1 (the classes) and the target:
    log-softmax and negative log-likelihood fused into one op.

    input: logits (N, C), (C,) or (N, C, d1, ...). target: class indices (N,), () or
    (N, d1, ...) (integers; `ignore_index` marks entries that do not count), or class
    probabilities of the input's own shape (floats). `weight` (C,) rescales each class;
    `label_smoothing` ε mixes the target with the uniform distribution: (1-ε)·q + ε/C.
    """
    reduction = legacy_reduction(size_average, reduce, reduction, "cross_entropy")
    target = _as_tensor(target, input, "cross_entropy")
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have a class dimension, got a 0-d tensor")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    if input.dtype.kind != "f":
        raise TypeError(f"cross_entropy: input must hold floating point logits, got "
                        f"{input.dtype}")
    class_dim = 1 if input.ndim >= 2 else 0
    classes = input.shape[class_dim]
    weight = _class_weight(weight, classes, input, "cross_entropy")
    probabilities = target.shape == input.shape and target.dtype.kind == "f"
    if not probabilities:
        _check_index_target(input, target, class_dim, "cross_entropy")
    logits = _classes_last(input, class_dim)
    if probabilities:
        if ignore_index >= 0:
            raise ValueError("cross_entropy: ignore_index is not supported for class "
                             "probability targets")
        out = CrossEntropyProbs.apply(logits, _classes_last(target, class_dim), weight=weight,
                                      label_smoothing=float(label_smoothing),
                                      reduction=reduction)
    else:
        indices = target.array.reshape(-1)
        masked = _check_classes(indices, classes, ignore_index, "cross_entropy")
        out = CrossEntropy.apply(logits, target=indices, weight=weight,
                                 ignore_index=ignore_index,
                                 label_smoothing=float(label_smoothing),
                                 reduction=reduction, masked=masked)
    if reduction == "none":
        batch_shape = input.shape[:class_dim] + input.shape[class_dim + 1:]
        if out.shape != batch_shape:
            out = out.reshape(batch_shape)
    return out


@pytorch_node("NllLossBackward0")
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
             size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices, given log-probabilities (for example
    from log_softmax) of shape (N, C), (C,) or (N, C, d1, ...)."""
    reduction = legacy_reduction(size_average, reduce, reduction, "nll_loss")
    target = _as_tensor(target, input, "nll_loss")
    if input.ndim == 0:
        raise ValueError("nll_loss: input must have a class dimension, got a 0-d tensor")
    class_dim = 1 if input.ndim >= 2 else 0
    classes = input.shape[class_dim]
    weight = _class_weight(weight, classes, input, "nll_loss")
    _check_index_target(input, target, class_dim, "nll_loss")
    indices = target.array
    masked = _check_classes(indices.reshape(-1), classes, ignore_index, "nll_loss")
    valid = indices != ignore_index if masked else None
    safe = indices if valid is None else xp(indices).where(valid, indices, 0)
    # loss = -w[y]·input[y] per sample: a gather (differentiable) times constants
    picked = TakeAlongDim.apply(input, index=xp(safe).expand_dims(safe, class_dim), dim=class_dim)
    picked = picked.reshape(indices.shape)
    weights = xp(safe).ones(indices.shape, dtype=input.dtype) if weight is None else weight[safe]
    if valid is not None:
        weights = weights * valid
    loss = picked * Tensor._wrap(-weights)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return total / Tensor._wrap(xp(safe).asarray(weights.sum(), dtype=input.dtype))


@pytorch_node("BinaryCrossEntropyBackward0")
def binary_cross_entropy(input: Tensor, target: Tensor,  # noqa: A002
                         weight: Tensor | None = None, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """-w·(y·log x + (1-y)·log(1-x)) for probabilities x in [0, 1] (each log clamped at
    -100, as PyTorch, so x = 0 or 1 gives a large finite loss)."""
    reduction = legacy_reduction(size_average, reduce, reduction, "binary_cross_entropy")
    target = _as_tensor(target, input, "binary_cross_entropy")
    if target.shape != input.shape:
        raise ValueError(f"binary_cross_entropy: using a target size ({tuple(target.shape)}) that is "
                         f"different to the input size ({tuple(input.shape)}) is not supported; "
                         "please ensure they have the same size")
    if input.device == "cpu" and input.array.size:
        if not bool(((input.array >= 0) & (input.array <= 1)).all()):
            raise ValueError("binary_cross_entropy: all elements of input should be between "
                             "0 and 1 (pass logits to binary_cross_entropy_with_logits)")
        if not bool(((target.array >= 0) & (target.array <= 1)).all()):
            raise ValueError("binary_cross_entropy: all elements of target should be "
                             "between 0 and 1")
    target = _matching_float(target, input)
    weight = _broadcast_weight(weight, input, "binary_cross_entropy")
    loss = BinaryCrossEntropy.apply(input, target, weight=weight)
    return _reduce(loss, reduction)


@pytorch_node("BinaryCrossEntropyWithLogitsBackward0")
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,  # noqa: A002
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid and binary cross-entropy in one, stable for any logit (±1000 included):
    (1-y)·x - (1 + (pos_weight-1)·y)·log σ(x), times `weight`."""
    reduction = legacy_reduction(size_average, reduce, reduction,
                                 "binary_cross_entropy_with_logits")
    target = _as_tensor(target, input, "binary_cross_entropy_with_logits")
    if target.shape != input.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target size ({tuple(target.shape)}) "
                         f"must be the same as input size ({tuple(input.shape)})")
    target = _matching_float(target, input)
    weight = _broadcast_weight(weight, input, "binary_cross_entropy_with_logits")
    pos_weight = _broadcast_weight(pos_weight, input, "binary_cross_entropy_with_logits",
                                   "pos_weight")
    loss = BinaryCrossEntropyWithLogits.apply(input, target, weight=weight,
                                              pos_weight=pos_weight)
    return _reduce(loss, reduction)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices (any shape) as one-hot vectors: shape (*tensor.shape, num_classes),
    int64, with a 1 at each index. num_classes=-1 means max(tensor) + 1."""
    if not isinstance(tensor, Tensor):
        tensor = as_tensor(tensor)
    if tensor.dtype.kind not in "iu":
        raise TypeError(f"one_hot: needs a tensor of integer class indices, got {tensor.dtype}")
    indices = tensor.array
    if num_classes == -1:
        if indices.size == 0:
            raise ValueError("one_hot: can not infer the number of classes from an empty "
                             "tensor; pass num_classes")
        num_classes = int(indices.max()) + 1
    if indices.size:
        if int(indices.min()) < 0:
            raise ValueError(f"one_hot: class values must be non-negative, got "
                             f"{int(indices.min())}")
        if int(indices.max()) >= num_classes:
            raise ValueError(f"one_hot: class values must be smaller than num_classes="
                             f"{num_classes}, got {int(indices.max())}")
    classes = xp(indices).arange(num_classes, dtype=indices.dtype)
    return Tensor._wrap((indices[..., None] == classes).astype(backend.int64))


# --- helpers ---------------------------------------------------------------------------
def _classes_last(x: Tensor, class_dim: int) -> Tensor:
    """(N, C, d1, …) → (N·d1·…, C); (C,) → (1, C); (N, C) unchanged."""
    if x.ndim == 1:
        return x.reshape(1, x.shape[0])
    if x.ndim == 2:
        return x
    order = (0,) + tuple(range(2, x.ndim)) + (1,)
    return x.permute(order).reshape(-1, x.shape[1])


def _check_index_target(input: Tensor, target: Tensor,  # noqa: A002
                        class_dim: int, name: str) -> None:
    expected = input.shape[:class_dim] + input.shape[class_dim + 1:]
    if target.shape != expected:
        raise ValueError(
            f"{name}: target has shape {tuple(target.shape)} but input has shape {tuple(input.shape)}: "
            f"expected class indices of shape {tuple(expected)} (the input without its class "
            f"dim {class_dim})" + (f", or class probabilities of shape {tuple(input.shape)}"
                                   if name == "cross_entropy" else ""))
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: target of shape {tuple(target.shape)} must hold integer class indices, got "
            f"{target.dtype}" + (f" (for class probabilities give a float target of the "
                                 f"input's shape {tuple(input.shape)})" if name == "cross_entropy"
                                 else ""))


def _check_classes(indices, classes: int, ignore_index: int, name: str) -> bool:
    """Raise if a class index is out of range; return whether any equals ignore_index.
    On a GPU this check would wait for the device, so it is skipped there (and the
    ignore mask is always applied)."""
    if backend.device_of(indices) != "cpu":
        return True
    if indices.size == 0:
        return False
    lowest, highest = int(indices.min()), int(indices.max())
    if lowest >= 0 and highest < classes:
        return 0 <= ignore_index < classes and bool((indices == ignore_index).any())
    counted = indices != ignore_index
    bad = counted & ((indices < 0) | (indices >= classes))
    if bool(bad.any()):
        first = int(indices[bad][0])
        raise IndexError(f"{name}: target class {first} is out of range for {classes} classes "
                         f"(expected 0 to {classes - 1}, or ignore_index={ignore_index})")
    return True


def _class_weight(weight, classes: int, input: Tensor, name: str):  # noqa: A002
    weight = _constant(weight, input)
    if weight is not None and weight.shape != (classes,):
        raise ValueError(f"{name}: weight should have one entry per class ({classes},), got "
                         f"shape {tuple(weight.shape)}")
    return weight


def _broadcast_weight(weight, input: Tensor, name: str, what: str = "weight"):  # noqa: A002
    weight = _constant(weight, input)
    if weight is not None:
        try:
            fits = backend.xp(weight).broadcast_shapes(weight.shape, input.shape) == input.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"{name}: {what} of shape {tuple(weight.shape)} does not "
                             f"broadcast to the input shape {tuple(input.shape)}")
    return weight


def _matching_float(target: Tensor, input: Tensor) -> Tensor:  # noqa: A002
    if target.dtype != input.dtype:
        return target.to(input.dtype)
    return target
