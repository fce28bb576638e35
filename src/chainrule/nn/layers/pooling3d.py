"""3-D pooling layers: MaxPool3d, AvgPool3d, AdaptiveAvgPool3d (the 2-D layers' arguments)."""
from __future__ import annotations

from .. import functional as F
from .pooling import AdaptiveAvgPool2d, AvgPool2d, _MaxPoolNd

__all__ = ["MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d"]


class MaxPool3d(_MaxPoolNd):
    """The maximum of each kernel_size box of (N, C, D, H, W) (stride defaults to kernel_size)."""

    def forward(self, input):  # noqa: A002
        return F.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool3d(AvgPool2d):
    """The mean of each kernel_size box of (N, C, D, H, W)."""

    def forward(self, input):  # noqa: A002
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    """Average pooling to a fixed output_size (od, oh, ow), whatever the input size."""

    def forward(self, input):  # noqa: A002
        return F.adaptive_avg_pool3d(input, self.output_size)
