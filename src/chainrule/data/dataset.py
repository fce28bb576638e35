"""Datasets live at PyTorch's path, `chainrule.utils.data`; kept here for older imports."""
from ..utils.data.dataset import (  # noqa: F401
                                  ChainDataset,
                                  ConcatDataset,
                                  Dataset,
                                  IterableDataset,
                                  StackDataset,
                                  Subset,
                                  TensorDataset,
                                  random_split,
)
