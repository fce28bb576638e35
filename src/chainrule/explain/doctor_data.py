"""What the doctor needs to know about a run's data: class counts, examples shared by the
training and test parts, and the examples whose loss stayed high (to show them)."""
from __future__ import annotations

import hashlib

import numpy

from .doctor import stubborn_examples

SHOWN_EXAMPLES = 8


def describe_data(train_x, train_y, test_x, num_classes: int, epochs=(), classes=None,
                  image_shape=None) -> dict:
    """Plain JSON facts: `epochs` are the recorder's epochs (for the stubborn examples, whose
    index is their position in `train_x`); `image_shape` shows flattened rows as images."""
    train_y = numpy.asarray(train_y)
    counts = numpy.bincount(train_y, minlength=num_classes)
    seen = {_fingerprint(row) for row in train_x}
    shared = sum(_fingerprint(row) in seen for row in test_x)
    shown = []
    for index in stubborn_examples(list(epochs), num_classes)[:SHOWN_EXAMPLES]:
        label = int(train_y[index])
        shown.append({"index": index, "label": classes[label] if classes else label,
                      **_picture(train_x[index] if image_shape is None
                                 else numpy.reshape(train_x[index], image_shape))})
    return {"num_classes": int(num_classes), "class_counts": counts.tolist(),
            "train_size": int(len(train_y)), "test_size": int(len(test_x)),
            "duplicates_train_test": int(shared), "stubborn": shown}


def describe_splits(splits, epochs=()) -> dict:
    """describe_data for a data set's Splits (train, val, test; raw examples)."""
    (train_x, train_y), (test_x, _) = splits.train, splits.test
    return describe_data(train_x, train_y, test_x, splits.num_classes, epochs, splits.classes)


def _fingerprint(row) -> str:
    if isinstance(row, str):
        return " ".join(row.lower().split())
    array = numpy.ascontiguousarray(numpy.asarray(row, dtype=numpy.float32))
    return hashlib.sha1(array.tobytes()).hexdigest()


def _picture(row) -> dict:
    """An example as the doctor shows it: text, an image (H, W) in 0..1, or a series."""
    if isinstance(row, str):
        return {"text": row[:300]}
    array = numpy.asarray(row, dtype=numpy.float64)
    if array.ndim == 3:  # (C, H, W): the first channel, or RGB
        array = array[0] if array.shape[0] != 3 else array.transpose(1, 2, 0)
    if array.ndim >= 2:
        low, high = array.min(), array.max()
        return {"image": ((array - low) / ((high - low) or 1.0)).round(3).tolist()}
    return {"series": array.round(4).tolist()}
