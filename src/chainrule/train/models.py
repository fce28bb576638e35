"""The networks behind the built-in recipes: small, standard, and readable."""
from __future__ import annotations

import math

from .. import nn
from ..composites import functions as ops


def mlp(in_features: int, num_classes: int, hidden=(256, 128), dropout: float = 0.1) -> nn.Module:
    """Flatten, then Linear → ReLU (→ Dropout) for each hidden size, then a Linear to the classes."""
    layers, width = [nn.Flatten()], in_features
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = size
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


def cnn2d(image_shape, num_classes: int, channels=(16, 32), hidden: int = 128,
          dropout: float = 0.25) -> nn.Module:
    """Two conv 5×5 → ReLU → max-pool 2 blocks, then a hidden Linear layer."""
    in_channels, height, width = image_shape
    layers = []
    for out_channels in channels:
        layers += [nn.Conv2d(in_channels, out_channels, 5, padding=2), nn.ReLU(),
                   nn.MaxPool2d(2)]
        in_channels, height, width = out_channels, height // 2, width // 2
    layers += [nn.Flatten(), nn.Linear(in_channels * height * width, hidden), nn.ReLU(),
               nn.Dropout(dropout), nn.Linear(hidden, num_classes)]
    return nn.Sequential(*layers)


class Unsqueeze(nn.Module):
    """Adds a dimension: (N, L) signals become (N, 1, L) for Conv1d or (N, L, 1) for a GRU."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return x.unsqueeze(self.dim)


def cnn1d(length: int, num_classes: int, channels: int = 64) -> nn.Module:
    """Three strided conv layers over a 1-D signal, then a Linear layer: the MNIST-1D
    paper's shape, with 64 channels where it had 25 (about 1.5 points better there)."""
    layers, in_channels = [Unsqueeze(1)], 1
    for kernel in (5, 3, 3):
        layers += [nn.Conv1d(in_channels, channels, kernel, stride=2, padding=1), nn.ReLU()]
        in_channels = channels
        length = (length + 2 - kernel) // 2 + 1
    layers += [nn.Flatten(), nn.Linear(channels * length, num_classes)]
    return nn.Sequential(*layers)


class RecurrentClassifier(nn.Module):
    """A GRU or LSTM reads a sequence; the element-wise max of its outputs over time is
    classified. Token ids go through an Embedding first; signals are read one value a step."""

    def __init__(self, cell: str, num_classes: int, hidden: int = 128, vocab_size: int = 0,
                 embedding_dim: int = 64, input_size: int = 1, pretrained=None):
        super().__init__()
        self.embedding = _embedding(vocab_size, embedding_dim, pretrained) \
            if vocab_size else None
        width = embedding_dim if vocab_size else input_size
        layer = {"gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.rnn = layer(width, hidden, batch_first=True)
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x):
        x = self.embedding(x) if self.embedding is not None else x.unsqueeze(-1)
        outputs, _ = self.rnn(x)
        pooled, _ = outputs.max(dim=1)
        return self.head(pooled)


class EmbedMLP(nn.Module):
    """The average of a sentence's word vectors (EmbeddingBag, mean), then an MLP."""

    def __init__(self, vocab_size: int, num_classes: int, embedding_dim: int = 64,
                 hidden: int = 64, dropout: float = 0.3):
        super().__init__()
        self.bag = nn.EmbeddingBag(vocab_size, embedding_dim, mode="mean", padding_idx=0)
        self.head = nn.Sequential(nn.Linear(embedding_dim, hidden), nn.ReLU(),
                                  nn.Dropout(dropout), nn.Linear(hidden, num_classes))

    def forward(self, token_ids):
        return self.head(self.bag(token_ids))


class TextCNN(nn.Module):
    """Word vectors → parallel Conv1d filters of widths 3, 4, 5 → max over time → Linear.

    `pretrained` (e.g. GloVe rows for the vocabulary) initialises the word vectors; a model
    rebuilt for predicting leaves it out and gets its vectors from the saved weights."""

    def __init__(self, vocab_size: int, num_classes: int, embedding_dim: int = 50,
                 filters: int = 100, widths=(3, 4, 5), dropout: float = 0.5,
                 pretrained=None):
        super().__init__()
        self.embedding = _embedding(vocab_size, embedding_dim, pretrained)
        self.convs = nn.ModuleList(nn.Conv1d(embedding_dim, filters, w, padding=w // 2)
                                   for w in widths)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(filters * len(widths), num_classes)

    def forward(self, token_ids):
        x = self.embedding(token_ids).transpose(1, 2)  # (N, L, E) → (N, E, L)
        pooled = [conv(x).relu().max(dim=2)[0] for conv in self.convs]
        return self.head(self.dropout(ops.cat(pooled, dim=1)))


def _embedding(vocab_size: int, embedding_dim: int, pretrained=None):
    """Word vectors for ids (id 0 pads): learned from scratch, or starting from `pretrained`
    (a (vocab_size, embedding_dim) array such as GloVe rows) and fine-tuned."""
    if pretrained is None:
        return nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
    return nn.Embedding.from_pretrained(pretrained, freeze=False, padding_idx=0)


def flat_size(shape) -> int:
    return int(math.prod(shape))
