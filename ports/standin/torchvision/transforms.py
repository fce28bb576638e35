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
        image = tensor.numpy()
        if numpy.broadcast_shapes(image.shape, self.mean.shape, self.std.shape) != image.shape:
            # torchvision subtracts in place, which cannot grow the image (3 means, 1 channel)
            raise RuntimeError(f"output with shape {list(image.shape)} doesn't match the "
                               f"broadcast shape of the mean and std {list(self.mean.shape)}")
        return torch.tensor((image - self.mean) / self.std)


class Lambda:
    def __init__(self, function):
        self.function = function

    def __call__(self, x):
        return self.function(x)


class Resize:
    """An (H, W[, C]) uint8 image resized by Pillow (bilinear by default, as torchvision
    resizes a PIL image): an int makes the shorter side that long, keeping the aspect
    ratio; (h, w) is the exact size."""

    def __init__(self, size, interpolation=None, max_size=None, antialias=True):
        self.size = size
        self.interpolation = interpolation

    def __call__(self, image):
        from PIL import Image
        if isinstance(image, torch.Tensor):
            raise TypeError("Resize stand-in: resize the image before ToTensor")
        height, width = numpy.asarray(image).shape[:2]
        if isinstance(self.size, int):
            short, long = sorted((height, width))
            scaled = int(self.size * long / short)
            height, width = (self.size, scaled) if height <= width else (scaled, self.size)
        else:
            height, width = self.size
        resample = Image.Resampling.BILINEAR if self.interpolation is None else self.interpolation
        return numpy.asarray(Image.fromarray(numpy.asarray(image)).resize((width, height),
                                                                           resample))
