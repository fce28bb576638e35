"""Adaptive softmax (Grave et al., 2016): a softmax over many classes made cheap by
frequency. The `cutoffs` split the classes into a shortlist (the frequent ones) and tail
clusters; the head scores the shortlist plus one entry per cluster, and each cluster has
its own smaller projection (its width divided by div_value once more per cluster):

    log p(c) = log p_head(c)                               c in the shortlist
    log p(c) = log p_head(cluster k) + log p_k(c)          c in cluster k
"""
from __future__ import annotations

from collections import namedtuple

import numpy

from ... import backend, creation
from ...composites.functions import cat
from .. import functional as F
from ..containers import ModuleList, Sequential
from ..module import Module
from .linear import Linear

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """forward(input, target) gives (output, loss): each target's log-probability and
    their negated mean. `log_prob(input)` gives all classes, `predict(input)` the likeliest."""

    def __init__(self, in_features: int, n_classes: int, cutoffs, div_value: float = 4.0,
                 head_bias: bool = False, device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if not cutoffs:
            raise ValueError("AdaptiveLogSoftmaxWithLoss: cutoffs should be a sequence of "
                             "length larger than 0")
        if cutoffs != sorted(set(cutoffs)) or cutoffs[0] <= 0 or cutoffs[-1] > n_classes - 1 \
                or any(int(c) != c for c in cutoffs):
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: cutoffs should be unique, "
                             f"positive integers in increasing order, each between 1 and "
                             f"n_classes-1 ({n_classes - 1}); got {cutoffs}")
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(cutoffs)
        self.head_size = self.shortlist_size + self.n_clusters
        factory = {"device": device, "dtype": dtype}
        self.head = Linear(in_features, self.head_size, bias=head_bias, **factory)
        self.tail = ModuleList()
        for i, (low, high) in enumerate(zip(self.cutoffs, self.cutoffs[1:])):
            hidden = int(in_features // (div_value ** (i + 1)))
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, **factory),
                                        Linear(hidden, high - low, bias=False, **factory)))

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for projection in self.tail:
            for linear in projection:
                linear.reset_parameters()

    def forward(self, input, target) -> _ASMoutput:  # noqa: A002
        if target.ndim > 1 or input.ndim != target.ndim + 1:
            raise RuntimeError(f"AdaptiveLogSoftmaxWithLoss: expects a (N, in_features) "
                               f"input with an (N) target, or (in_features) with a 0-d one; "
                               f"got {tuple(input.shape)} and {tuple(target.shape)}")
        batched = target.ndim == 1
        if batched and input.shape[0] != target.shape[0]:
            raise RuntimeError("AdaptiveLogSoftmaxWithLoss: input and target should have "
                               "the same size in the batch dimension")
        x = input if batched else input.unsqueeze(0)
        labels = backend.to_device(target.array, "cpu").reshape(-1).astype(numpy.int64)
        if labels.size and (labels.min() < 0 or labels.max() >= self.n_classes):
            raise RuntimeError(f"AdaptiveLogSoftmaxWithLoss: target values should be in "
                               f"[0, {self.n_classes - 1}], but values in range "
                               f"[{labels.min()}, {labels.max()}] were found")
        cluster = numpy.searchsorted(self.cutoffs, labels, side="right")  # 0: the shortlist
        head_entry = numpy.where(cluster == 0, labels, self.shortlist_size + cluster - 1)
        head = F.log_softmax(self.head(x), 1)
        output = head.gather(1, _index(head_entry[:, None], x)).squeeze(1)
        for k, projection in enumerate(self.tail, start=1):
            rows = numpy.flatnonzero(cluster == k)
            if rows.size:
                rows_t = _index(rows, x)
                inside = labels[rows] - self.cutoffs[k - 1]
                local = F.log_softmax(projection(x.index_select(0, rows_t)), 1)
                chosen = local.gather(1, _index(inside[:, None], x)).squeeze(1)
                output = output.index_add(0, rows_t, chosen)
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def log_prob(self, input):  # noqa: A002
        """(N, n_classes) log-probabilities of every class."""
        head = F.log_softmax(self.head(input), 1)
        parts = [head[:, :self.shortlist_size]]
        for k, projection in enumerate(self.tail):
            cluster = head[:, self.shortlist_size + k:self.shortlist_size + k + 1]
            parts.append(F.log_softmax(projection(input), 1) + cluster)
        return cat(parts, 1)

    def predict(self, input):  # noqa: A002
        """The likeliest class of each row: log_prob(input).argmax(1)."""
        return self.log_prob(input).argmax(1)


def _index(indices: numpy.ndarray, like):
    """Row or class indices as a tensor on `like`'s device."""
    return creation.as_tensor(indices, device=like.device)
