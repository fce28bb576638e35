"""`torch.functional`: the module in which PyTorch defines some of its tensor functions
(`import torch.functional as F` in the introyt models tutorial). They are the functions of
the top level, `torch.einsum` and `torch.functional.einsum` being one function."""
from __future__ import annotations

from .composites import TOP_LEVEL

# PyTorch 2.13's torch.functional.__all__, less lu, stft, istft, pca_lowrank and
# svd_lowrank (not in chainrule).
NAMES = ("atleast_1d", "atleast_2d", "atleast_3d", "block_diag", "broadcast_shapes",
         "broadcast_tensors", "cartesian_prod", "cdist", "chain_matmul", "einsum",
         "meshgrid", "norm", "split", "tensordot", "unique", "unique_consecutive",
         "unravel_index")

globals().update({name: TOP_LEVEL[name] for name in NAMES})
