"""save_image: writes the images as one .npy array next to the requested path (the
programs never read them back), making its folder if needed. make_grid: a batch of
images tiled into one (C, H, W) image, as torchvision lays it out."""
from __future__ import annotations

import math
import os

import numpy
import torch


def save_image(tensor, fp, **options):
    folder = os.path.dirname(str(fp))
    if folder:
        os.makedirs(folder, exist_ok=True)
    numpy.save(str(fp) + ".npy", tensor.detach().cpu().numpy())


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None,
              scale_each=False, pad_value=0.0):
    """(B, C, H, W) images in rows of `nrow`, `padding` pixels of `pad_value` around each;
    one-channel images become three-channel, as torchvision's. (No normalising.)"""
    images = tensor.detach().cpu().numpy()
    if images.ndim == 2:
        images = images[None]
    if images.ndim == 3:
        images = images[None] if images.shape[0] in (1, 3) else images[:, None]
    if images.shape[1] == 1:
        images = numpy.concatenate([images] * 3, axis=1)
    if images.shape[0] == 1:
        return torch.tensor(images[0])
    count, channels, height, width = images.shape
    columns = min(nrow, count)
    rows = math.ceil(count / columns)
    cell_h, cell_w = height + padding, width + padding
    grid = numpy.full((channels, rows * cell_h + padding, columns * cell_w + padding),
                      pad_value, dtype=images.dtype)
    for k in range(count):
        top, left = (k // columns) * cell_h + padding, (k % columns) * cell_w + padding
        grid[:, top:top + height, left:left + width] = images[k]
    return torch.tensor(grid)
