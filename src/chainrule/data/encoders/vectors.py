"""Index lists to arrays: one-hot vectors, bags of words and padded sequences."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import DataError
from .base import Encoder, State
from .text import Vocab


def one_hot(indices: np.ndarray | Sequence[int], num_classes: int) -> np.ndarray:
    """float32 one-hot vectors: shape ``indices.shape + (num_classes,)``."""
    indices = np.asarray(indices, dtype=np.int64)
    if indices.size and (indices.min() < 0 or indices.max() >= num_classes):
        raise DataError(f"one_hot: indices must be in [0, {num_classes}), "
                        f"got {indices.min()}..{indices.max()}")
    return np.eye(num_classes, dtype=np.float32)[indices]


def pad_sequences(sequences: Sequence[Sequence[int]], max_len: int,
                  pad_index: int = 0) -> np.ndarray:
    """An int64 (N, max_len) array: longer sequences cut, shorter ones padded at the end."""
    out = np.full((len(sequences), max_len), pad_index, dtype=np.int64)
    for row, seq in zip(out, sequences, strict=True):
        kept = list(seq)[:max_len]
        row[:len(kept)] = kept
    return out


class BagOfWords(Encoder):
    """Texts to (N, len(vocab)) float32 rows: each token's count, or 1/0 if ``binary``.

    The ``<pad>`` column is always 0; unknown words count in the ``<unk>`` column.
    The output is dense, so keep the vocabulary small (``Vocab.build(max_size=...)``).
    """

    _state_keys = ("vocab", "binary")

    def __init__(self, vocab: Vocab | State, binary: bool = False) -> None:
        self.vocab = vocab if isinstance(vocab, Vocab) else Vocab.from_state_dict(vocab)
        self.binary = bool(binary)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.vocab)), dtype=np.float32)
        for row, text in zip(out, texts, strict=True):
            np.add.at(row, self.vocab.encode(text), 1.0)
        out[:, self.vocab.pad_index] = 0.0
        return np.minimum(out, 1.0) if self.binary else out

    __call__ = transform


class SequenceEncoder(Encoder):
    """Texts to (N, max_len) int64 index rows for an Embedding (``padding_idx=0``)."""

    _state_keys = ("vocab", "max_len")

    def __init__(self, vocab: Vocab | State, max_len: int) -> None:
        if max_len < 1:
            raise DataError(f"max_len must be at least 1, got {max_len}")
        self.vocab = vocab if isinstance(vocab, Vocab) else Vocab.from_state_dict(vocab)
        self.max_len = int(max_len)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        return pad_sequences([self.vocab.encode(t) for t in texts], self.max_len,
                             pad_index=self.vocab.pad_index)

    __call__ = transform
