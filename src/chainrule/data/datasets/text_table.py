"""``text:<file>``: a CSV/TSV of raw texts and their labels."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from ..splits import Source
from ..tables import encode_labels, read_rows


def load(path: str | Path) -> Source:
    """Read texts and labels; classes are the distinct labels, sorted.

    With a header row naming ``text`` and ``label`` columns those are used (other
    columns are ignored); without one, every row must be exactly ``text,label``.
    """
    path = Path(path).expanduser()
    rows = read_rows(path)
    names = [h.strip().lower() for h in rows[0][1]]
    if "text" in names and "label" in names:
        text_col, label_col, width = names.index("text"), names.index("label"), len(names)
        rows = rows[1:]
        if not rows:
            raise DataError(f"{path}: file is empty (a header and no rows)")
    else:
        text_col, label_col, width = 0, 1, 2

    texts, labels = [], []
    for line, fields in rows:
        if len(fields) != width:
            raise DataError(f"{path}:{line}: expected {width} columns (text, label), "
                            f"got {len(fields)}")
        label = fields[label_col].strip()
        if not label:
            raise DataError(f"{path}:{line}: empty label")
        texts.append(fields[text_col])
        labels.append(label)
    y, classes = encode_labels(labels)
    return Source(train=(np.array(texts, dtype=object), y), test=None, kind="text",
                  classes=classes)
