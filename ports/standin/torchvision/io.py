"""read_image: an image file as a (C, H, W) uint8 tensor, read with Pillow."""
from __future__ import annotations

import numpy
import torch


def read_image(path, mode=None):
    from PIL import Image
    with Image.open(path) as image:
        array = numpy.asarray(image)
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    return torch.tensor(numpy.ascontiguousarray(array))
