"""`cr.Size`: PyTorch's shape type, a tuple of ints that also counts its elements."""
from __future__ import annotations

import math


class Size(tuple):
    def numel(self) -> int:
        return math.prod(self)

    def __repr__(self) -> str:
        return f"Size({list(self)})"
