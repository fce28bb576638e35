"""Raw inputs for `chainrule predict`: image files made to look like the training images,
and the rows of CSV files for models trained on tables or signals.

An image is converted to the model's colours (grey or RGB) and resized to its size; a grey
image whose background is light while the training images' background was dark (a photo of
a digit on paper, against MNIST's white-on-black) is inverted. Each change is reported
through `note`, so a prediction never rests on a silent guess.
"""
from __future__ import annotations

import numpy

from ..data.datasets.image_folder import open_image
from ..data.tables import is_number, read_rows

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm", ".tif", ".tiff", ".webp")
TABLE_SUFFIXES = (".csv", ".tsv")


def is_table(path: str) -> bool:
    return path.lower().endswith(TABLE_SUFFIXES)


def read_images(paths, config: dict, encoder, note) -> numpy.ndarray:
    """Image files as the raw pixel arrays the encoder expects (the training pixel scale)."""
    from PIL import Image
    if "image_shape" not in config:
        raise ValueError("predict: this model takes signals or table rows (give a .csv file), "
                         "not image files")
    channels, height, width = config["image_shape"]
    mode = "L" if channels == 1 else "RGB"
    dark_training = _dark_background(encoder)
    images = []
    for path in paths:
        if not path.lower().endswith(IMAGE_SUFFIXES):
            raise ValueError(f"predict: {path} is not an image file ({', '.join(IMAGE_SUFFIXES)})")
        with open_image(path) as image:
            changes = []
            if image.mode != mode:
                changes.append(f"converted from {image.mode} to {mode}")
                image = image.convert(mode)
            if image.size != (width, height):
                changes.append(f"resized from {image.size[0]}x{image.size[1]} to "
                               f"{width}x{height}")
                image = image.resize((width, height), Image.Resampling.LANCZOS)
            pixels = numpy.asarray(image, dtype=numpy.float32)
        if mode == "L" and dark_training is not None and _dark_border(pixels) != dark_training:
            pixels = 255.0 - pixels
            changes.append("inverted (its background is " +
                           ("light, the training images' dark)" if dark_training
                            else "dark, the training images' light)"))
        if changes:
            note(f"predict: {path}: " + ", ".join(changes))
        pixels = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
        images.append(pixels / 255.0 * encoder.pixel_max)
    return numpy.stack(images)


def _dark_background(encoder) -> bool | None:
    """Whether the training images were mostly dark (their mean pixel below half-scale),
    from the mean the encoder recorded; None when it recorded none."""
    mean = getattr(encoder, "mean", None)
    return bool(numpy.mean(mean) < 0.5) if mean else None


def _dark_border(pixels: numpy.ndarray) -> bool:
    border = numpy.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    return bool(numpy.median(border) < 128)


def read_table_rows(paths, config: dict) -> tuple[list[str], numpy.ndarray]:
    """Every row of the CSV files as one input each, named "file:line". A header row is
    skipped; a label column (named "label", or one column too many: the last) is dropped."""
    if "length" not in config:
        raise ValueError("predict: CSV rows are for models trained on tables or signals "
                         f"(this one takes {config['kind']} data)")
    width = config["length"]
    names, rows = [], []
    for path in paths:
        lines = read_rows(path)
        header = lines[0][1] if not all(is_number(f) for f in lines[0][1]) else None
        columns = [h.strip().lower() for h in header] if header else []
        if header is not None:
            lines = lines[1:]
        for line, fields in lines:
            if len(fields) == width + 1:
                fields.pop(columns.index("label") if "label" in columns else width)
            if len(fields) != width:
                raise ValueError(f"predict: {path}:{line}: the model takes {width} numbers "
                                 f"a row, this row has {len(fields)}")
            bad = [f for f in fields if not is_number(f)]
            if bad:
                raise ValueError(f"predict: {path}:{line}: {bad[0]!r} is not a number")
            names.append(f"{path}:{line}")
            rows.append([float(f) for f in fields])
            with numpy.errstate(over="ignore"):
                if not numpy.isfinite(numpy.float32(rows[-1])).all():
                    raise ValueError(f"predict: {path}:{line}: a value is NaN, infinite or "
                                     "beyond float32's range")
    return names, numpy.asarray(rows, dtype=numpy.float32)
