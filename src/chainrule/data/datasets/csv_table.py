"""``csv:<file>``: a table of numbers with one label column (the last, or one named ``label``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from ..splits import Source
from ..tables import encode_labels, is_number, read_rows


def load(path: str | Path) -> Source:
    """Read feature columns as float32 and the label column as class indices.

    A first row holding any non-number is a header. Labels may be numbers or words;
    classes are the distinct labels, sorted.
    """
    path = Path(path).expanduser()
    rows = read_rows(path)
    header = rows[0][1] if not all(is_number(f) for f in rows[0][1]) else None
    if header is not None:
        rows = rows[1:]
        if not rows:
            raise DataError(f"{path}: file is empty (a header and no rows)")
    width = len(header) if header is not None else len(rows[0][1])
    if width < 2:
        raise DataError(f"{path}: need at least one feature column and a label column")
    names = [h.strip().lower() for h in header] if header is not None else []
    label_col = names.index("label") if "label" in names else width - 1

    features = np.empty((len(rows), width - 1), dtype=np.float32)
    labels = []
    for i, (line, fields) in enumerate(rows):
        if len(fields) != width:
            raise DataError(f"{path}:{line}: expected {width} columns, got {len(fields)}")
        label = fields.pop(label_col).strip()
        if not label:
            raise DataError(f"{path}:{line}: empty label")
        try:
            with np.errstate(over="ignore"):  # a number beyond float32 becomes inf: refused below
                features[i] = [float(f) for f in fields]
        except ValueError:
            bad = next(f for f in fields if not is_number(f))
            raise DataError(f"{path}:{line}: {bad!r} is not a number") from None
        labels.append(label)
    _check_finite(path, rows, features)
    y, classes = encode_labels(labels)
    return Source(train=(features, y), test=None, kind="signal", classes=classes)


def _check_finite(path: Path, rows, features: np.ndarray) -> None:
    """NaN, infinity and numbers beyond float32's range are refused, naming file and row."""
    bad = ~np.isfinite(features)
    if bad.any():
        i, j = (int(k) for k in np.argwhere(bad)[0])
        line, fields = rows[i]
        raise DataError(f"{path}:{line}: {fields[j].strip()!r} is not a finite float32 number "
                        f"(NaN, infinity or beyond ±3.4e38); {int(bad.any(axis=1).sum())} rows "
                        "hold such values")
