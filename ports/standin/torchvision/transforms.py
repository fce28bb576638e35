"""ToTensor, Normalize, Compose and Lambda on (H, W) uint8 arrays and tensors."""
from __future__ import annotations

import numpy
import torch


class Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x


class ToTensor:
    """(H, W) or (H, W, C) uint8 -> (C, H, W) float32 in [0, 1]."""

    def __call__(self, image):
        array = numpy.asarray(image, dtype=numpy.float32) / 255.0
        array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
        return torch.tensor(numpy.ascontiguousarray(array))


class Normalize:
    """(x - mean) / std per channel."""

    def __init__(self, mean, std):
        self.mean = numpy.asarray(mean, dtype=numpy.float32).reshape(-1, 1, 1)
        self.std = numpy.asarray(std, dtype=numpy.float32).reshape(-1, 1, 1)

    def __call__(self, tensor):
        return torch.tensor((tensor.numpy() - self.mean) / self.std)


class Lambda:
    def __init__(self, function):
        self.function = function

    def __call__(self, x):
        return self.function(x)
