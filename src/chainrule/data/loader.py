"""The `DataLoader` lives at PyTorch's path, `chainrule.utils.data`; kept here for older
imports, with `collate_padded` for sequences of different lengths."""
from __future__ import annotations

import numpy

from ..creation import as_tensor
from ..tensor import Tensor
from ..utils.data.dataloader import DataLoader  # noqa: F401
from .encoders import pad_sequences


def collate_padded(examples, pad_index: int = 0):
    """Collate (sequence, label) pairs whose sequences differ in length: pads to the longest."""
    sequences = [numpy.asarray(s.numpy() if isinstance(s, Tensor) else s) for s, _ in examples]
    labels = numpy.asarray([int(y.item() if isinstance(y, Tensor) else y) for _, y in examples])
    longest = max(1, max(len(s) for s in sequences))
    return as_tensor(pad_sequences(sequences, longest, pad_index)), as_tensor(labels)
