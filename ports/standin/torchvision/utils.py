"""save_image: writes the images as one .npy array next to the requested path (the
programs never read them back), making its folder if needed."""
from __future__ import annotations

import os

import numpy


def save_image(tensor, fp, **options):
    folder = os.path.dirname(str(fp))
    if folder:
        os.makedirs(folder, exist_ok=True)
    numpy.save(str(fp) + ".npy", tensor.detach().cpu().numpy())
