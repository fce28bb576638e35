"""Element-wise updates in blocks: the same numbers as on the whole arrays."""
import numpy
import pytest

from chainrule.kernels.update import BLOCK, MIN_SIZE, add_scaled_, in_blocks


@pytest.mark.parametrize("size", [10, MIN_SIZE + BLOCK // 2 + 3])  # whole; blocks + a tail
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_add_scaled_matches_numpy(size, dtype) -> None:
    gen = numpy.random.default_rng(size)
    y, x = gen.standard_normal((2, size)).astype(dtype)
    expected = y - 0.1 * x
    add_scaled_(y, -0.1, x)
    numpy.testing.assert_array_equal(y, expected)


def test_blocks_cover_every_element_once_and_odd_arrays_go_whole() -> None:
    calls = []

    def count(y, x):
        calls.append(y.size)
        y += x
    y, x = numpy.zeros((MIN_SIZE + 5, 1)), numpy.ones((MIN_SIZE + 5, 1))
    in_blocks(count, y, x)
    assert (y == 1).all() and len(calls) == MIN_SIZE // BLOCK + 1 and calls[-1] == 5
    calls.clear()
    strided = numpy.zeros((MIN_SIZE, 2))[:, 0]
    in_blocks(count, strided, numpy.ones(MIN_SIZE))
    assert (strided == 1).all() and calls == [MIN_SIZE]
