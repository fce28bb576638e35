"""Sums over some axes as products with ones (kernels/reduce.py) against NumPy's sums."""
import itertools

import numpy
import pytest

from chainrule.kernels import reduce

SHAPE = (6, 5, 4, 3, 100)  # 36,000 numbers: above MIN_SIZE


@pytest.mark.parametrize("axes", [axes for r in range(1, 5)
                                  for axes in itertools.combinations(range(5), r)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_every_choice_of_axes_sums_as_numpy(axes, keepdims):
    x = numpy.random.default_rng(len(axes)).standard_normal((2,) + SHAPE[1:]).repeat(3, 0)
    assert x.size >= reduce.MIN_SIZE
    got = reduce.sum_over(x, axes, keepdims)
    expected = x.sum(axis=axes, keepdims=keepdims)
    assert got.shape == expected.shape
    numpy.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_a_bias_gradient_in_float32_is_as_close_to_the_exact_sum_as_numpys():
    g = numpy.random.default_rng(0).random((64, 16, 24, 24), dtype=numpy.float32)
    exact = g.astype(numpy.float64).sum(axis=(0, 2, 3))
    ours = numpy.abs(reduce.sum_over(g, (0, 2, 3)) - exact).max()
    assert ours <= numpy.abs(g.sum(axis=(0, 2, 3)) - exact).max()
    assert ours < 1e-6 * exact.max()


def test_small_integer_and_strided_arrays_go_to_numpy():
    x = numpy.arange(24).reshape(2, 3, 4)
    assert reduce.sum_over(x, (0, 2)).tolist() == x.sum(axis=(0, 2)).tolist()
    y = numpy.ones((300, 200)).T
    assert reduce.sum_over(y, (1,)).tolist() == [300.0] * 200
