"""``digits``: scikit-learn's 1,797 8x8 handwritten digits, shipped with chainrule."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..splits import Source

FILE = Path(__file__).resolve().parent.parent / "files" / "digits.csv.gz"


def check(root: str | Path | None = None) -> None:
    """Always present: the file ships inside the package."""
    path = _path(root)
    if not path.is_file():
        raise DataError(f"{path}: digits data file is missing from the installation")


def load(root: str | Path | None = None) -> Source:
    """64 pixel columns (0-16) then the label, one image per row, no header."""
    check(root)
    with gzip.open(_path(root), "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    X = table[:, :64].astype(np.uint8).reshape(-1, 1, 8, 8)
    y = table[:, 64].astype(np.int64)
    return Source(train=(X, y), test=None, kind="image",
                  classes=[str(d) for d in range(10)], image_shape=(1, 8, 8), pixel_max=16.0)


def _path(root: str | Path | None) -> Path:
    return Path(root).expanduser() / "digits.csv.gz" if root is not None else FILE
