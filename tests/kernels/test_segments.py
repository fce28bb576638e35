"""The scatter-add kernel under embedding gradients: SciPy's COO kernel writing a table in
place, and the way around it for tables it cannot write."""
import numpy
import pytest

from chainrule.kernels.segments import add_scattered, distinct_ids

GEN = numpy.random.default_rng(3)
IDS = numpy.array([4, 0, 4, 2, 4, 0])
SOURCE = numpy.array([0, 0, 1, 1, 2, 2])
VALUES = GEN.standard_normal((3, 5))
COEF = GEN.random(6)


def expected(table, alpha):
    out = table.copy()
    numpy.add.at(out, IDS, alpha * COEF[:, None] * VALUES[SOURCE])
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
def test_add_scattered_matches_numpy_add_at(dtype, layout) -> None:
    """A contiguous float32/64 table goes through the kernel; a strided or half-precision
    one through the row sums: the same numbers, written into the table given."""
    start = GEN.standard_normal((6, 5))
    table = (start.astype(dtype) if layout == "contiguous"
             else numpy.zeros((6, 10), dtype)[:, ::2])
    table[...] = start
    add_scattered(table, IDS, VALUES.astype(dtype), SOURCE, COEF, alpha=-0.5)
    tolerance = {"float64": 1e-12, "float32": 1e-5, "float16": 1e-2}[dtype]
    numpy.testing.assert_allclose(table, expected(start, -0.5), rtol=tolerance, atol=tolerance)


def test_add_scattered_refuses_indices_outside_the_table() -> None:
    """The kernel writes where it is told: an index out of range is an error, and the
    table is left as it was."""
    table = numpy.zeros((4, 5))
    with pytest.raises(IndexError, match="indices from 0 to 4 do not fit 4 rows"):
        add_scattered(table, IDS, VALUES, SOURCE)
    with pytest.raises(IndexError, match="do not fit 3 rows"):
        add_scattered(numpy.zeros((6, 5)), IDS, VALUES, SOURCE + 1)
    assert not table.any()


def test_add_scattered_refuses_parts_that_do_not_match() -> None:
    with pytest.raises(ValueError, match="rows of shape"):
        add_scattered(numpy.zeros((6, 4)), IDS, VALUES, SOURCE)
    with pytest.raises(ValueError, match="6 ids, 5 sources and 6 coefficients"):
        add_scattered(numpy.zeros((6, 5)), IDS, VALUES, SOURCE[:5])


@pytest.mark.parametrize("num_rows", [5, 10_000])  # a mask over the table; a sort
def test_distinct_ids_number_the_ids_in_order(num_rows) -> None:
    distinct, slot = distinct_ids(num_rows, IDS)
    numpy.testing.assert_array_equal(distinct, [0, 2, 4])
    numpy.testing.assert_array_equal(distinct[slot], IDS)
