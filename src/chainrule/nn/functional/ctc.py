"""Connectionist temporal classification (CTC): the negative log-likelihood of a label
sequence summed over every alignment of it to the input frames, by the forward algorithm
in log space, composed of existing ops (its gradient follows from theirs).

A target l of length L is extended with blanks, l' = (blank, l1, blank, l2, ..., lL, blank),
2L + 1 states. α[t, s] is the log-probability of the frames 0..t ending in state s:

    α[t, s] = logsumexp(α[t-1, s], α[t-1, s-1], α[t-1, s-2] if l'_s ≠ blank and
              l'_s ≠ l'_{s-2}) + log_probs[t, l'_s]

and the loss is -logsumexp(α[T-1, 2L], α[T-1, 2L-1]), T the sample's input length.
States that cannot be reached hold a very negative finite number instead of -inf (so no
gradient is NaN); a loss of that size is an impossible alignment, reported as inf.
"""
from __future__ import annotations

import numpy

from ... import backend
from ...composites import functions
from ...composites.reduction import logsumexp
from ...tensor import Tensor
from .loss import _check_reduction

__all__ = ["ctc_loss"]


def ctc_loss(log_probs: Tensor, targets, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """log_probs (T, N, C) or (T, C) (from log_softmax); targets (N, S) padded or the
    N targets concatenated in one dimension; lengths per sample (tensors or sequences).
    reduction 'mean' divides each loss by its target length, then averages the batch."""
    _check_reduction(reduction, "ctc_loss")
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
    if log_probs.ndim != 3:
        raise ValueError(f"ctc_loss: log_probs must be (T, N, C) or (T, C), got "
                         f"{tuple(log_probs.shape)}")
    frames, batch, classes = log_probs.shape
    inputs = _lengths(input_lengths, batch, "input_lengths")
    labels = _targets(targets, _lengths(target_lengths, batch, "target_lengths"), batch,
                      unbatched)
    if not 0 <= blank < classes:
        raise ValueError(f"ctc_loss: blank {blank} is not a class of {classes}")
    if inputs.max(initial=0) > frames or inputs.min(initial=0) < 0:
        raise ValueError(f"ctc_loss: input_lengths {inputs.tolist()} must lie in [0, "
                         f"{frames}] (log_probs has {frames} frames)")
    for label in labels:
        if ((label < 0) | (label >= classes) | (label == blank)).any():
            raise ValueError(f"ctc_loss: targets must be classes in [0, {classes}) other "
                             f"than the blank {blank}, got {label.tolist()}")
    loss = _negative_log_likelihood(log_probs, inputs, labels, blank)
    impossible = Tensor._wrap(loss.array > _unreachable(loss.dtype) / -2)
    loss = functions.where(impossible, 0.0 if zero_infinity else numpy.inf, loss)
    if unbatched:
        loss = loss.reshape(())
    if reduction == "mean":
        lengths = numpy.maximum([len(label) for label in labels], 1)
        return (loss / loss.new_tensor(lengths)).mean()
    return loss.sum() if reduction == "sum" else loss


def _negative_log_likelihood(log_probs: Tensor, inputs, labels: list, blank: int) -> Tensor:
    """-log p(l | x) per sample, by the forward algorithm over all samples at once."""
    frames, batch, _ = log_probs.shape
    states = 2 * max((len(label) for label in labels), default=0) + 1
    extended = numpy.full((batch, states), blank, dtype=numpy.int64)
    for n, label in enumerate(labels):
        extended[n, 1:2 * len(label):2] = label
    skip = numpy.zeros((batch, states), dtype=bool)                # from s-2 allowed
    skip[:, 2:] = (extended[:, 2:] != blank) & (extended[:, 2:] != extended[:, :-2])
    xp, lost = backend.xp(log_probs.array), _unreachable(log_probs.dtype)

    def here(array) -> Tensor:                      # a constant on log_probs' device
        return Tensor._wrap(xp.asarray(array))

    emit = log_probs.gather(2, here(numpy.broadcast_to(extended, (frames, batch, states))))
    start = numpy.full((batch, states), lost, dtype=log_probs.dtype)
    start[:, 0] = 0.0                                               # before the first frame
    padding = numpy.full((batch, 2), lost, dtype=log_probs.dtype)     # states before s = 0
    alpha, padding, skip = here(start), here(padding), here(skip)
    for t in range(int(inputs.max(initial=0))):
        shifted = functions.cat([padding, alpha], 1)         # α[s-2] at s, α[s-1] at s+1
        one_back = shifted[:, 1:states + 1]
        two_back = functions.where(skip, shifted[:, :states], lost)
        step = logsumexp(functions.stack([alpha, one_back, two_back]), 0) + emit[t]
        alpha = functions.where(here((t < inputs)[:, None]), step, alpha)
    ends = numpy.array([2 * len(label) for label in labels])
    last = alpha.gather(1, here(ends[:, None]))
    before = alpha.gather(1, here(numpy.maximum(ends - 1, 0)[:, None]))
    before = functions.where(here((ends > 0)[:, None]), before, lost)
    return -logsumexp(functions.cat([last, before], 1), 1)


def _unreachable(dtype) -> float:
    """The log-probability of a state that cannot be reached: far below any real one, yet
    finite, and the sum of two of them still finite."""
    return -float(numpy.finfo(dtype).max) / 8


def _lengths(lengths, batch: int, name: str) -> numpy.ndarray:
    array = backend.to_device(lengths.array, "cpu") if isinstance(lengths, Tensor) else \
        numpy.asarray(lengths)
    array = array.astype(numpy.int64).reshape(-1)
    if array.shape != (batch,):
        raise ValueError(f"ctc_loss: {name} must hold one length per sample ({batch}), got "
                         f"shape {tuple(array.shape)}")
    return array


def _targets(targets, lengths: numpy.ndarray, batch: int, unbatched: bool) -> list:
    """The label sequence of each sample, from (N, S) padded or all concatenated targets."""
    array = backend.to_device(targets.array, "cpu") if isinstance(targets, Tensor) else \
        numpy.asarray(targets)
    array = array.astype(numpy.int64)
    if unbatched:
        array = array.reshape(1, -1)
    if lengths.min(initial=0) < 0:
        raise ValueError(f"ctc_loss: target_lengths must not be negative, got "
                         f"{lengths.tolist()}")
    if array.ndim == 2:
        if array.shape[0] != batch or lengths.max(initial=0) > array.shape[1]:
            raise ValueError(f"ctc_loss: targets {tuple(array.shape)} do not hold "
                             f"{batch} rows of target_lengths {lengths.tolist()}")
        return [array[n, :lengths[n]] for n in range(batch)]
    if array.ndim != 1 or array.size != lengths.sum():
        raise ValueError(f"ctc_loss: concatenated targets have {array.size} labels, "
                         f"target_lengths sum to {int(lengths.sum())}")
    return numpy.split(array, numpy.cumsum(lengths)[:-1])
