"""`unfold` (im2col: every sliding block of an image as a column) and `fold` (col2im:
columns summed back into an image), as a grouped convolution with one-hot kernels and its
transpose, so both have gradients (each is the other's adjoint).

    unfold: (N, C, H, W) -> (N, C·kh·kw, L)   column l holds block l, channel-major
    fold:   (N, C·kh·kw, L) -> (N, C, H, W)   overlapping values are added
"""
from __future__ import annotations

from ... import backend
from ...backend import xp
from ...tensor import Tensor
from .conv import _per_axis, conv2d
from .conv_transpose import conv_transpose2d

__all__ = ["unfold", "fold", "channel_shuffle", "gumbel_softmax"]


def _picker(channels: int, kernel: tuple, like: Tensor) -> Tensor:
    """(C·kh·kw, 1, kh, kw) one-hot kernels: output channel c·kh·kw + j reads position j."""
    k = kernel[0] * kernel[1]
    eye = xp(like.array).eye(k, dtype=like.dtype).reshape(k, 1, *kernel)
    return Tensor._wrap(xp(like.array).tile(eye, (channels, 1, 1, 1)))


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    if input.ndim != 4:
        raise NotImplementedError(f"unfold: only 4-D input (N, C, H, W) is supported, got "
                                  f"shape {tuple(input.shape)}")
    kernel = _per_axis(kernel_size, 2)
    channels = input.shape[1]
    blocks = conv2d(input, _picker(channels, kernel, input), None, stride, padding, dilation,
                    groups=channels)
    return blocks.reshape(input.shape[0], blocks.shape[1], -1)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0,  # noqa: A002
         stride=1) -> Tensor:
    if input.ndim != 3:
        raise NotImplementedError(f"fold: only 3-D input (N, C·kh·kw, L) is supported, got "
                                  f"shape {tuple(input.shape)}")
    kernel, size = _per_axis(kernel_size, 2), _per_axis(output_size, 2)
    stride, padding, dilation = (_per_axis(v, 2) for v in (stride, padding, dilation))
    k = kernel[0] * kernel[1]
    if input.shape[1] % k:
        raise RuntimeError(f"fold: expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={input.shape[1]} "
                           f"and kernel_size={kernel}")
    channels = input.shape[1] // k
    blocks = tuple((n + 2 * p - d * (kk - 1) - 1) // s + 1
                   for n, p, d, kk, s in zip(size, padding, dilation, kernel, stride))
    if blocks[0] * blocks[1] != input.shape[2]:
        raise RuntimeError(f"fold: expected input's dimension 2 to match the number of sliding "
                           f"blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, got "
                           f"{input.shape[2]}")
    natural = tuple((b - 1) * s - 2 * p + d * (kk - 1) + 1
                    for b, s, p, d, kk in zip(blocks, stride, padding, dilation, kernel))
    extra = tuple(n - m for n, m in zip(size, natural))
    columns = input.reshape(input.shape[0], input.shape[1], *blocks)
    return conv_transpose2d(columns, _picker(channels, kernel, input), None, stride, padding,
                            extra, groups=channels, dilation=dilation)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:  # noqa: A002
    """(N, g·k, *) -> channels regrouped as (k, g) (ShuffleNet)."""
    n, channels = input.shape[:2]
    if channels % groups:
        raise RuntimeError(f"channel_shuffle: number of channels {channels} must be divisible "
                           f"by groups {groups}")
    rest = input.shape[2:]
    x = input.reshape(n, groups, channels // groups, *rest).transpose(1, 2)
    return x.reshape(n, channels, *rest)


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """softmax((logits + g) / tau) with g ~ Gumbel(0, 1); `hard`: the one-hot argmax
    forward, the soft sample's gradient (straight-through)."""
    from .activation import softmax
    uniform = backend.uniform_like(logits.array)
    gumbels = -xp(uniform).log(-xp(uniform).log(uniform + eps) + eps)
    gumbels = Tensor._wrap(gumbels.astype(logits.dtype, copy=False))
    soft = softmax((logits + gumbels) / tau, dim=dim)
    if not hard:
        return soft
    index = soft.array.argmax(axis=dim)
    one_hot = xp(logits.array).zeros_like(soft.array)
    xp(logits.array).put_along_axis(one_hot, xp(logits.array).expand_dims(index, dim), 1, axis=dim)
    return soft + Tensor._wrap(one_hot - soft.array)        # value one_hot, gradient of soft
