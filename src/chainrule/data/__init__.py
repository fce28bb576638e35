"""Data: datasets and loaders, built-in data sets that load offline, and encoders.

``Dataset``/``DataLoader`` hand out tensors; everything else here (``load_dataset``,
the encoders) works on NumPy arrays, to be wrapped in tensors where a model needs them.
"""
from .dataset import Dataset, TensorDataset, random_split
from .datasets import DATASETS, USER_PREFIXES, load_dataset, missing_requirement
from .encoders import (
    GLOVE_DIM,
    BagOfWords,
    Encoder,
    ImageEncoder,
    SequenceEncoder,
    Vocab,
    encoder_from_state_dict,
    load_glove,
    one_hot,
    pad_sequences,
    tokenize,
)
from .errors import DataError
from .idx import read_idx, write_idx
from .loader import DataLoader
from .splits import Splits

__all__ = [
    "DATASETS",
    "GLOVE_DIM",
    "USER_PREFIXES",
    "BagOfWords",
    "DataError",
    "DataLoader",
    "Dataset",
    "Encoder",
    "ImageEncoder",
    "SequenceEncoder",
    "Splits",
    "TensorDataset",
    "Vocab",
    "encoder_from_state_dict",
    "load_dataset",
    "load_glove",
    "missing_requirement",
    "one_hot",
    "pad_sequences",
    "random_split",
    "read_idx",
    "tokenize",
    "write_idx",
]
