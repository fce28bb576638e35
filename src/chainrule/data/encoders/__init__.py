"""Encoders: raw images and texts to the arrays a network takes.

Each encoder has ``state_dict()`` (plain, JSON-friendly values) and
``from_state_dict(state)``, so it can be saved with a model and restored to predict;
``encoder_from_state_dict`` restores any of them.
"""
from .base import Encoder, encoder_from_state_dict
from .glove import GLOVE_DIM, load_glove
from .images import ImageEncoder
from .text import PAD, UNK, Vocab, tokenize
from .vectors import BagOfWords, SequenceEncoder, one_hot, pad_sequences

__all__ = [
    "GLOVE_DIM",
    "PAD",
    "UNK",
    "BagOfWords",
    "Encoder",
    "ImageEncoder",
    "SequenceEncoder",
    "Vocab",
    "encoder_from_state_dict",
    "load_glove",
    "one_hot",
    "pad_sequences",
    "tokenize",
]
