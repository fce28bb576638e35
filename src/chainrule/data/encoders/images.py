"""Pixels to network inputs: scale to [0, 1], optionally standardise, flatten or keep (C, H, W)."""
from __future__ import annotations

import numpy as np

from ..errors import DataError
from .base import Encoder

_MIN_STD = 1e-8  # a constant channel is left unscaled rather than divided by ~0
PIXEL_STD_FLOOR = 0.1  # added to per-pixel stds (pixels scaled to [0, 1])


class ImageEncoder(Encoder):
    """Turn a batch of raw images (N, C, H, W) into float32 inputs.

    ``x / pixel_max`` puts pixels in [0, 1]. With ``standardize=True``, ``fit`` on the
    training images records each channel's mean and standard deviation (after scaling),
    and ``transform`` subtracts and divides by them. ``flatten=True`` returns (N, C*H*W)
    for a Linear layer; ``False`` keeps (N, C, H, W) for a Conv2d. Inputs of any other
    shape (N, ...) are treated as one channel.

    ``standardize="pixel"`` standardises every pixel position on its own (as a feature
    scaler would for an MLP); its std gets ``PIXEL_STD_FLOOR`` added, so that border pixels
    that are almost always blank are not blown up into noise.
    """

    _state_keys = ("pixel_max", "standardize", "flatten", "mean", "std")

    def __init__(self, pixel_max: float = 255.0, standardize: bool | str = False,
                 flatten: bool = True, mean: list[float] | None = None,
                 std: list[float] | None = None) -> None:
        if pixel_max <= 0:
            raise DataError(f"pixel_max must be positive, got {pixel_max}")
        self.pixel_max = float(pixel_max)
        if standardize not in (True, False, "pixel"):
            raise DataError(f"standardize must be True, False or 'pixel', got {standardize!r}")
        self.standardize = standardize
        self.flatten = bool(flatten)
        self.mean = [float(m) for m in mean] if mean else []
        self.std = [float(s) for s in std] if std else []

    def fit(self, images: np.ndarray) -> ImageEncoder:
        """Record per-channel mean and std of the scaled training images."""
        x = self._scale(images)
        if self.standardize == "pixel":
            self.mean = x.mean(axis=0, dtype=np.float64).ravel().tolist()
            self.std = (x.std(axis=0, dtype=np.float64).ravel() + PIXEL_STD_FLOOR).tolist()
            return self
        axes = (0, 2, 3) if x.ndim == 4 else None
        self.mean = np.atleast_1d(x.mean(axis=axes, dtype=np.float64)).tolist()
        std = np.atleast_1d(x.std(axis=axes, dtype=np.float64))
        self.std = np.where(std < _MIN_STD, 1.0, std).tolist()
        return self

    def transform(self, images: np.ndarray) -> np.ndarray:
        """Scale (and standardise) a batch; returns float32."""
        x = self._scale(images)
        if self.standardize:
            if not self.mean:
                raise DataError("ImageEncoder(standardize=True) needs fit(train_images) first")
            mean = np.asarray(self.mean, np.float32)
            std = np.asarray(self.std, np.float32)
            if self.standardize == "pixel":  # one value per pixel position
                mean, std = mean.reshape(x.shape[1:]), std.reshape(x.shape[1:])
            elif x.ndim == 4:  # one value per channel, broadcast over (N, C, H, W)
                mean, std = mean.reshape(1, -1, 1, 1), std.reshape(1, -1, 1, 1)
            x = (x - mean) / std
        return x.reshape(len(x), -1) if self.flatten else x

    def fit_transform(self, images: np.ndarray) -> np.ndarray:
        return self.fit(images).transform(images)

    __call__ = transform

    def _scale(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(images, dtype=np.float32) / np.float32(self.pixel_max)
