"""CrossMapLRN2d: the original (Lua Torch) local response normalisation across channels.

    y[c] = x[c] · (k + α/size · Σ_{c' ∈ window(c)} x[c']²)^(-β)

PyTorch keeps this layer's forward from Lua Torch, running sums over the channels, and its
window is [c - r + 1, c + r - 1] (r = ⌊(size - 1)/2⌋ + 1) **plus channel 0**: the running
sum never subtracts channel 0. That quirk is kept here, so values match PyTorch. The
gradient is the exact derivative of that forward (autograd through a channel-mixing
matrix); PyTorch's hand-written backward assumes the window without channel 0, so its
gradient differs from its own forward's (torch.autograd.gradcheck fails on it).
LocalResponseNorm is the layer without the quirk.
"""
from __future__ import annotations

from ... import backend
from ...composites.functions import matmul
from ...tensor import Tensor
from ..module import Module

__all__ = ["CrossMapLRN2d"]


class CrossMapLRN2d(Module):
    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):  # noqa: A002
        if input.ndim != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D "
                             f"instead (shape {tuple(input.shape)})")
        channels = input.shape[1]
        windows = Tensor._wrap(_windows(channels, self.size, input.array).astype(input.dtype))
        squares = (input * input).permute(0, 2, 3, 1)                       # (N, H, W, C)
        sums = matmul(squares, windows.t()).permute(0, 3, 1, 2)
        return input * (self.k + self.alpha / self.size * sums) ** (-self.beta)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


def _windows(channels: int, size: int, like):
    """(C, C) 0/1 matrix: row c marks the channels summed for channel c."""
    xp = backend.xp(like)
    reach = int((size - 1) / 2 + 1)
    c = xp.arange(channels)
    inside = xp.abs(c[:, None] - c[None, :]) <= reach - 1
    inside[:, 0] = True
    return inside
