"""Seeded, stratified train/val/test splits and the ``Splits`` result type."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from .errors import DataError

Pair = tuple[np.ndarray, np.ndarray]

# Share of all examples kept for testing when a source has no official test set.
TEST_FRACTION = 0.2


@dataclass
class Splits:
    """A data set split three ways, each part an ``(X, y)`` pair of NumPy arrays.

    ``kind`` is "image" (X is (N, C, H, W), raw pixels up to ``pixel_max``),
    "signal" (X is (N, D) float32) or "text" (X is an object array of str).
    ``y`` is always int64 class indices into ``classes``.
    """

    train: Pair
    val: Pair
    test: Pair
    kind: str
    classes: list[str]
    image_shape: tuple[int, int, int] | None = None  # (C, H, W) for images
    pixel_max: float | None = None  # the largest possible pixel value, for images
    fingerprint: str = ""  # SHA-256 of the unsplit examples: the same data, whatever the seed

    @property
    def num_classes(self) -> int:
        return len(self.classes)


@dataclass(frozen=True)
class Source:
    """What a source module hands back before splitting.

    ``test`` is the official test set where the source has one, else ``None``.
    """

    train: Pair
    test: Pair | None
    kind: str
    classes: list[str]
    image_shape: tuple[int, int, int] | None = None
    pixel_max: float | None = None


def stratified_indices(y: np.ndarray, fractions: list[float],
                       rng: np.random.Generator) -> list[np.ndarray]:
    """Split ``range(len(y))`` into ``len(fractions) + 1`` disjoint parts.

    Part ``i`` gets ``round(fractions[i] * n_c)`` examples of each class ``c``
    (picked at random); the last part gets the rest. Each part is sorted, so it
    keeps the source's order.
    """
    parts: list[list[np.ndarray]] = [[] for _ in range(len(fractions) + 1)]
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        start = 0
        for i, frac in enumerate(fractions):
            take = round(frac * len(members))
            parts[i].append(members[start:start + take])
            start += take
        parts[-1].append(members[start:])
    return [np.sort(np.concatenate(p)).astype(np.int64) if p else np.zeros(0, np.int64)
            for p in parts]


def split_source(source: Source, seed: int = 0, val_fraction: float = 0.1) -> Splits:
    """Carve validation (and, without an official one, test) examples from a source.

    With an official test set, ``val_fraction`` is a share of the training set.
    Without one, the test set takes ``TEST_FRACTION`` of all examples and
    ``val_fraction`` is also a share of all examples (70/10/20 by default).
    """
    present = np.unique(source.train[1])
    if len(present) < 2:
        names = ", ".join(str(source.classes[k]) for k in present if k < len(source.classes))
        raise DataError(f"the data has examples of only one class ({names or 'none'}); "
                        "a classifier needs examples of at least two")
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed)
    X, y = source.train
    if source.test is not None:
        val_idx, train_idx = stratified_indices(y, [val_fraction], rng)
        test = (source.test[0].copy(), source.test[1].copy())  # never hand out the cache
    else:
        if val_fraction + TEST_FRACTION >= 1.0:
            raise ValueError(f"val_fraction must be below {1 - TEST_FRACTION}, got {val_fraction}")
        test_idx, val_idx, train_idx = stratified_indices(y, [TEST_FRACTION, val_fraction], rng)
        test = (X[test_idx], y[test_idx])
    sizes = {"training": len(train_idx), "validation": len(val_idx), "test": len(test[1])}
    empty = [part for part, size in sizes.items()
             if size == 0 and (part != "validation" or val_fraction > 0)]
    if empty:
        raise DataError(f"{len(y)} examples are too few to split into training, validation and "
                        f"test sets (the {empty[0]} set would be empty); give at least 10 "
                        "examples of each class")
    _check_labels_seen(y[train_idx], {"validation": y[val_idx], "test": test[1]}, source.classes)
    return Splits(
        train=(X[train_idx], y[train_idx]),
        val=(X[val_idx], y[val_idx]),
        test=test,
        kind=source.kind,
        classes=list(source.classes),
        image_shape=source.image_shape,
        pixel_max=source.pixel_max,
        fingerprint=fingerprint(source),
    )


def fingerprint(source: Source) -> str:
    """SHA-256 over every example and label of a source (texts as UTF-8), in order."""
    digest = hashlib.sha256()
    for x, y in (source.train, source.test or (np.zeros(0), np.zeros(0))):
        if x.dtype == object:
            digest.update("\x1f".join(map(str, x)).encode("utf-8", "surrogatepass"))
        else:
            digest.update(np.ascontiguousarray(x).tobytes())
        digest.update(np.ascontiguousarray(y).tobytes())
    return digest.hexdigest()


def _check_labels_seen(train_labels: np.ndarray, others: dict, classes) -> None:
    """A class the model never sees in training cannot be learned: say which, and where."""
    seen = set(np.unique(train_labels).tolist())
    for part, labels in others.items():
        unseen = sorted(set(np.unique(labels).tolist()) - seen)
        if unseen:
            names = ", ".join(str(classes[k]) if k < len(classes) else str(k) for k in unseen)
            raise DataError(f"labels {names} occur in the {part} split but not in the training "
                            f"split; give at least a few training examples of every class")
