"""y += a·x in blocks: the same numbers as NumPy's two-pass form."""
import numpy
import pytest

from chainrule.kernels.update import BLOCK, MIN_SIZE, add_scaled_


@pytest.mark.parametrize("size", [10, MIN_SIZE + BLOCK // 2 + 3])  # plain; blocks + a tail
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_add_scaled_matches_numpy(size, dtype) -> None:
    gen = numpy.random.default_rng(size)
    y, x = gen.standard_normal((2, size)).astype(dtype)
    expected = y - 0.1 * x
    add_scaled_(y, -0.1, x)
    numpy.testing.assert_array_equal(y, expected)


def test_strided_or_mixed_arrays_take_the_plain_form() -> None:
    y = numpy.ones((MIN_SIZE, 2))[:, 0]
    add_scaled_(y, 2.0, numpy.ones(MIN_SIZE, dtype="float32"))
    assert (y == 3.0).all()
