"""Data: built-in data sets that load offline, and encoders that turn raw inputs into numbers."""
from .datasets import DATASETS, USER_PREFIXES, load_dataset, missing_requirement
from .errors import DataError
from .idx import read_idx, write_idx
from .splits import Splits

__all__ = ["DATASETS", "USER_PREFIXES", "DataError", "Splits", "load_dataset",
           "missing_requirement", "read_idx", "write_idx"]
