"""`cr.Size`: PyTorch's shape type, a tuple of ints that also counts its elements."""
from __future__ import annotations

import math


class Size(tuple):
    def numel(self) -> int:
        return math.prod(self)

    def __repr__(self) -> str:  # PyTorch's, as the memory formats' below
        return f"torch.Size({list(self)})"


class memory_format:  # noqa: N801  (PyTorch's name)
    """`torch.memory_format`: how a tensor's elements are ordered in memory. A chainrule
    tensor is always one dense row-major array, so every function that takes
    `memory_format=` (`zeros_like`, `contiguous`, `to`, ...) accepts these and changes
    nothing; they exist so that code written for PyTorch runs as written."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
