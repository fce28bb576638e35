"""Reading delimited text files (CSV/TSV) and turning labels into class indices."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from .errors import DataError

Row = tuple[int, list[str]]  # (line number in the file, fields)


def delimiter_for(path: Path) -> str:
    """Tab for ``.tsv``/``.tab`` files, comma otherwise."""
    return "\t" if path.suffix.lower() in (".tsv", ".tab") else ","


def read_rows(path: str | Path) -> list[Row]:
    """All non-blank rows of a CSV/TSV file, each with its line number.

    Raises ``DataError`` when the file is missing or has no rows.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    text = read_text(path)
    rows: list[Row] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_for(path))
    try:
        for fields in reader:
            if any(field.strip() for field in fields):
                rows.append((reader.line_num, fields))
    except csv.Error as e:
        raise DataError(f"{path}:{reader.line_num}: unreadable row ({e})") from None
    if not rows:
        raise DataError(f"{path}: file is empty")
    return rows


def read_text(path: str | Path) -> str:
    """A UTF-8 text file's contents; other bytes are a DataError naming line and byte."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not UTF-8 text (byte 0x{raw[e.start]:02x} at offset "
                        f"{e.start})") from None


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def encode_labels(labels: list[str]) -> tuple[np.ndarray, list[str]]:
    """Map label strings to int64 indices into the sorted list of distinct labels.

    Labels that all look like numbers sort numerically ("2" before "10").
    """
    distinct = set(labels)
    if all(is_number(s) for s in distinct):
        classes = sorted(distinct, key=float)
    else:
        classes = sorted(distinct)
    index = {name: i for i, name in enumerate(classes)}
    return np.array([index[s] for s in labels], dtype=np.int64), classes
