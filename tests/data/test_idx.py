import gzip

import numpy as np
import pytest

from chainrule.data import DataError, read_idx, write_idx
from chainrule.data.idx import parse_idx


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
def test_round_trip_keeps_values_shape_and_dtype(tmp_path, dtype):
    a = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    if dtype == "uint8":
        a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.idx", a)
    b = read_idx(tmp_path / "a.idx")
    assert b.dtype == np.dtype(dtype) and b.shape == a.shape
    np.testing.assert_array_equal(a, b)
    assert b.flags.writeable


def test_header_is_big_endian_as_documented(tmp_path):
    write_idx(tmp_path / "l.idx", np.array([7, 1, 2], dtype=np.uint8))
    raw = (tmp_path / "l.idx").read_bytes()
    assert raw == bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 1, 2])


def test_reads_gzipped_files(tmp_path):
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    write_idx(tmp_path / "a.idx", a)
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress((tmp_path / "a.idx").read_bytes()))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx.gz"), a)


@pytest.mark.parametrize("raw, words", [
    (b"", "bad IDX header"),
    (bytes([1, 0, 8, 1, 0, 0, 0, 1, 5]), "bad IDX header"),       # first bytes not zero
    (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 5]), "bad IDX header"),    # unknown type byte
    (bytes([0, 0, 8, 3, 0, 0, 0, 1]), "ends inside"),             # dims cut short
    (bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]), "needs 5 bytes"),     # data shorter than shape
])
def test_bad_header_raises_one_line_error(raw, words):
    with pytest.raises(DataError, match=words) as info:
        parse_idx(raw, name="f.idx")
    assert "f.idx" in str(info.value) and "\n" not in str(info.value)


def test_write_refuses_types_idx_cannot_hold(tmp_path):
    with pytest.raises(DataError, match="int64"):
        write_idx(tmp_path / "x.idx", np.zeros(3, dtype=np.int64))
