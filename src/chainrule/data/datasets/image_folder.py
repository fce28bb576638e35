"""``images:<dir>``: one sub-folder per class, each holding image files of one size."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError, missing
from ..splits import Source

SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
GRAY_MODES = ("1", "L", "LA")  # anything else is read as RGB
INSTALL_PILLOW = "pip install 'pillow>=9,<14'"


def load(folder: str | Path) -> Source:
    """Read ``folder/<class name>/*.png`` (and .jpg/.bmp/.gif) as (N, C, H, W) uint8.

    All images grayscale gives C = 1; any colour image makes every image RGB (C = 3).
    Every image must have the size of the first one read.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    class_dirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise DataError(f"{folder}: no class folders (expected {folder}/<class name>/*.png)")

    images, labels, size = [], [], None
    for label, class_dir in enumerate(class_dirs):
        files = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in SUFFIXES)
        if not files:
            raise DataError(f"{class_dir}: no images ({', '.join(SUFFIXES)})")
        for file in files:
            im = open_image(file)
            if size is None:
                size, first = im.size, file
            elif im.size != size:
                raise DataError(f"{file}: image is {_wxh(im.size)} (width x height), expected "
                                f"{_wxh(size)} like {first.name}")
            images.append(im)
            labels.append(label)

    gray = all(im.mode in GRAY_MODES for im in images)
    pixels = [np.asarray(im.convert("L" if gray else "RGB"), dtype=np.uint8) for im in images]
    X = np.stack(pixels)
    X = X[:, None, :, :] if gray else X.transpose(0, 3, 1, 2)  # -> (N, C, H, W)
    return Source(train=(np.ascontiguousarray(X), np.array(labels, dtype=np.int64)), test=None,
                  kind="image", classes=[d.name for d in class_dirs],
                  image_shape=tuple(X.shape[1:]), pixel_max=255.0)


def open_image(path: str | Path):
    """The image in `path`, read into memory; an unreadable file, or one whose header claims
    more pixels than PIL's decompression-bomb guard allows, is one DataError."""
    try:
        from PIL import Image
    except ImportError:
        raise missing("Pillow (needed to read images)", INSTALL_PILLOW) from None
    try:
        with Image.open(path) as im:
            im.load()
    except Image.DecompressionBombError as e:
        raise DataError(f"{path}: image too large to read safely ({e})") from None
    except (OSError, SyntaxError, ValueError) as e:  # PIL's errors for damaged files
        raise DataError(f"{path}: unreadable image ({e})") from None
    return im


def _wxh(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"
