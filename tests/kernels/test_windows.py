"""A max pool's winners by position (kernels/windows.py: winner_index, scatter_at,
gather_at) against the winner masks they replace for windows that do not overlap."""
import numpy
import pytest

from chainrule.kernels.windows import (
    Windows,
    first_maxima,
    gather_at,
    scatter,
    scatter_at,
    winner_index,
)


@pytest.mark.parametrize("size, kernel, stride, padding, dilation, ceil", [
    ((8, 12), (2, 2), (2, 2), (0, 0), (1, 1), False),   # W3's pools: tiles
    ((9, 12), (3, 3), (3, 3), (0, 0), (1, 1), False),   # nine offsets
    ((7, 9), (2, 3), (3, 4), (1, 1), (1, 1), True),     # stride past the kernel, padding, ceil
    ((10, 10), (2, 2), (4, 4), (0, 0), (2, 2), False),  # dilated, not overlapping
    ((16, 16), (16, 16), (16, 16), (0, 0), (1, 1), False),  # 256 offsets: a wider code
])
def test_winners_by_position_are_the_first_maxima(size, kernel, stride, padding, dilation,
                                                   ceil):
    windows = Windows(size, kernel, stride, padding, dilation, ceil)
    assert not windows.overlap
    rng = numpy.random.default_rng(0)
    x = numpy.maximum(rng.standard_normal((2, 3) + size), 0).astype(numpy.float32)  # ties at 0
    x[0, 0] = 1.0  # whole windows tied
    frame = windows.pad(x, -numpy.inf)
    stack, y = windows.stack_max(frame)
    grad = rng.standard_normal(y.shape).astype(numpy.float32)
    index = winner_index(stack, y, windows)
    expected = scatter(grad, windows, first_maxima(stack, y))
    numpy.testing.assert_array_equal(scatter_at(grad, windows, index), expected)
    # the adjoint reads back what was put
    numpy.testing.assert_array_equal(gather_at(windows.crop(expected), windows, index), grad)
