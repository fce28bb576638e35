"""Data: built-in data sets that load offline, and encoders that turn raw inputs into numbers.

Everything here works on NumPy arrays; wrap them in tensors where a model needs them.
"""
from .datasets import DATASETS, USER_PREFIXES, load_dataset, missing_requirement
from .encoders import (GLOVE_DIM, BagOfWords, Encoder, ImageEncoder, SequenceEncoder, Vocab,
                       encoder_from_state_dict, load_glove, one_hot, pad_sequences, tokenize)
from .errors import DataError
from .idx import read_idx, write_idx
from .splits import Splits

__all__ = [
    "DATASETS", "USER_PREFIXES", "DataError", "Splits", "load_dataset", "missing_requirement",
    "read_idx", "write_idx", "Encoder", "encoder_from_state_dict", "ImageEncoder", "tokenize",
    "Vocab", "BagOfWords", "SequenceEncoder", "one_hot", "pad_sequences", "load_glove",
    "GLOVE_DIM",
]
