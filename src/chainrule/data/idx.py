"""Read and write IDX files, the format of MNIST-style data.

Layout (all integers big-endian):
    bytes 0-1   two zero bytes
    byte  2     element type (0x08 = uint8, see ``_TYPES``)
    byte  3     number of dimensions, d
    4*d bytes   each dimension as an unsigned 32-bit integer
    rest        the elements, row-major, big-endian
Files may be gzip-compressed (detected from their first two bytes).
"""
from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from .errors import DataError

# IDX type byte -> big-endian NumPy dtype.
_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an IDX file (gzipped or not) into a native-endian array."""
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as e:  # truncated, or a failed CRC check
            raise DataError(f"{name}: damaged gzip file ({e or type(e).__name__})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise DataError(f"{name}: bad IDX header {raw[:4].hex(' ') or '(empty)'}; "
                        "expected 00 00, a type byte (08 for uint8) and the number of dimensions")
    dtype, ndim = _TYPES[raw[2]], raw[3]
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataError(f"{name}: bad IDX header: file ends inside the {ndim} dimension sizes")
    shape = struct.unpack(f">{ndim}I", raw[4:header_len])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(raw) - header_len
    if got != expected:
        raise DataError(f"{name}: bad IDX header: shape {shape} needs {expected} bytes of data, "
                        f"file has {got}")
    data = np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(shape)
    data = data.astype(dtype.newbyteorder("="))  # a native-endian, writable copy
    if data.dtype.kind == "f":
        check_finite(data, name)
    return data


def check_finite(data: np.ndarray, name: str) -> None:
    """Refuse NaN and infinite values, naming the first example (row) that holds one."""
    if data.size == 0 or np.isfinite(data).all():
        return
    rows = data.reshape(len(data), -1) if data.ndim else data.reshape(1, 1)
    bad = ~np.isfinite(rows)
    first = int(np.flatnonzero(bad.any(axis=1))[0])
    raise DataError(f"{name}: example {first} holds {rows[first][bad[first]][0]}; NaN and "
                    f"infinite values cannot be trained on ({int(bad.any(axis=1).sum())} "
                    "examples hold them)")


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (``.gz`` or plain) from disk."""
    path = Path(path)
    return parse_idx(path.read_bytes(), name=str(path))


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write ``array`` as an uncompressed IDX file (handy for tests and user data)."""
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in _TYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise DataError(f"IDX cannot store dtype {array.dtype}")
    header = bytes([0, 0, codes[native], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    body = array.astype(native.newbyteorder(">")).tobytes()
    Path(path).write_bytes(header + body)
