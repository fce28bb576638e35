"""Row gathers and scatters (kernels/rows.py): the `void`-item fast path writes exactly what
fancy assignment writes, and arrays it cannot see as rows take the plain path."""
from __future__ import annotations

import numpy
import pytest

from chainrule.kernels.rows import add_rows, put_rows

GEN = numpy.random.default_rng(11)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "float16"])
def test_put_and_add_rows_match_fancy_indexing(dtype) -> None:
    table = GEN.standard_normal((40, 6)).astype(dtype)
    expected = table.copy()
    ids = GEN.permutation(40)[:15]
    rows = GEN.standard_normal((15, 6)).astype(dtype)
    put_rows(table, ids, rows)
    expected[ids] = rows
    numpy.testing.assert_array_equal(table, expected)
    add_rows(table, ids[:7], rows[:7])
    expected[ids[:7]] += rows[:7]
    numpy.testing.assert_array_equal(table, expected)


@pytest.mark.parametrize("make_rows", [
    lambda rows: rows.astype("float64"),           # another dtype: converted, not reinterpreted
    lambda rows: numpy.asfortranarray(rows),        # not C-contiguous
    lambda rows: rows[:, :1],                       # broadcast along the row
])
def test_rows_that_are_not_plain_rows_of_the_table_take_the_plain_path(make_rows) -> None:
    table = numpy.zeros((10, 3), dtype="float32")
    expected = table.copy()
    ids = numpy.array([7, 2, 5])
    rows = make_rows(numpy.arange(9, dtype="float32").reshape(3, 3))
    put_rows(table, ids, rows)
    expected[ids] = rows
    numpy.testing.assert_array_equal(table, expected)


def test_a_strided_table_is_written_in_place() -> None:
    base = numpy.zeros((10, 6), dtype="float32")
    table = base[:, ::2]  # a view: the writes must land in `base`
    put_rows(table, numpy.array([1, 4]), numpy.ones((2, 3), dtype="float32"))
    assert base[1, ::2].tolist() == [1, 1, 1] and base[1, 1::2].tolist() == [0, 0, 0]
    assert base.sum() == 6
