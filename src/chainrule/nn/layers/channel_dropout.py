"""Channel dropout (Dropout1d/2d/3d) and alpha dropout as modules: active in training
mode, the identity after `.eval()`."""
from __future__ import annotations

from .. import functional as F
from .dropout import Dropout

__all__ = ["Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutVariant(Dropout):
    function = None

    def forward(self, input):  # noqa: A002
        return type(self).function(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutVariant):
    """Zeroes whole channels of (N, C, L) inputs."""
    function = staticmethod(F.dropout1d)


class Dropout2d(_DropoutVariant):
    """Zeroes whole feature maps of (N, C, H, W) inputs."""
    function = staticmethod(F.dropout2d)


class Dropout3d(_DropoutVariant):
    """Zeroes whole channels of (N, C, D, H, W) inputs."""
    function = staticmethod(F.dropout3d)


class AlphaDropout(_DropoutVariant):
    """Dropout that keeps a SELU network's mean and variance."""
    function = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(_DropoutVariant):
    """Alpha dropout of whole channels."""
    function = staticmethod(F.feature_alpha_dropout)
