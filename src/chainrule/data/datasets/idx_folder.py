"""``idx:<dir>``: a folder of MNIST-style IDX files (``train-*`` and optional ``t10k-*``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from ..idx import read_idx
from ..splits import Source

TEST_PREFIXES = ("t10k", "test")


def find_file(folder: Path, prefixes: tuple[str, ...], part: str) -> Path | None:
    """The file whose name starts with one of ``prefixes`` and contains ``part``."""
    for path in sorted(folder.iterdir()):
        name = path.name.lower()
        if path.is_file() and name.startswith(prefixes) and part in name:
            return path
    return None


def load(folder: str | Path) -> Source:
    """Read train (and, if present, test) images and labels from ``folder``."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    train = _pair(folder, ("train",))
    if train is None:
        raise DataError(f"{folder}: no train-images / train-labels IDX files found")
    test = _pair(folder, TEST_PREFIXES)
    n_classes = int(max(train[1].max(), test[1].max() if test is not None else 0)) + 1
    return from_arrays(train, test, classes=[str(i) for i in range(n_classes)])


def from_arrays(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray] | None,
                classes: list[str]) -> Source:
    """A Source from IDX arrays: (N, H, W) images become (N, 1, H, W), (N, D) float32 signals."""
    X = train[0]
    if X.ndim not in (2, 3):
        raise DataError(f"IDX data must have 2 or 3 dimensions (N, D) or (N, H, W), got {tuple(X.shape)}")
    if test is not None and test[0].shape[1:] != X.shape[1:]:
        raise DataError(f"test examples have shape {test[0].shape[1:]}, train {X.shape[1:]}")
    image = X.ndim == 3
    convert = _add_channel if image else _to_float
    return Source(
        train=(convert(X), train[1]),
        test=(convert(test[0]), test[1]) if test is not None else None,
        kind="image" if image else "signal",
        classes=classes,
        image_shape=(1, *X.shape[1:]) if image else None,
        pixel_max=(255.0 if X.dtype == np.uint8 else float(X.max())) if image else None,
    )


def _add_channel(images: np.ndarray) -> np.ndarray:
    return images[:, None, :, :]


def _to_float(signals: np.ndarray) -> np.ndarray:
    return signals.astype(np.float32)


def _pair(folder: Path, prefixes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray] | None:
    images, labels = find_file(folder, prefixes, "images"), find_file(folder, prefixes, "labels")
    if images is None or labels is None:
        return None
    X, y = read_idx(images), read_idx(labels)
    if X.ndim == 0 or len(X) == 0:
        raise DataError(f"{images}: no examples (shape {tuple(X.shape)})")
    if y.ndim != 1 or len(y) != len(X):
        raise DataError(f"{labels}: {y.size} labels of shape {tuple(y.shape)} for the {len(X)} "
                        f"examples in {images.name}; expected shape ({len(X)},)")
    bad = np.flatnonzero((y < 0) | (y != np.round(y)) if y.dtype.kind == "f" else y < 0)
    if len(bad):
        raise DataError(f"{labels}: label {y[bad[0]]} of example {bad[0]} is not a class "
                        "number (0, 1, 2, ...)")
    return X, y.astype(np.int64)
