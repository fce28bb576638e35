"""``fashion-mnist``: Zalando's clothing images from the Debian package dataset-fashion-mnist."""
from __future__ import annotations

from pathlib import Path

from ..idx import read_idx
from ..locate import fashion_mnist_dir
from ..splits import Source
from .idx_folder import from_arrays

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def check(root: str | Path | None = None) -> None:
    """Raise the apt-get command unless the files are found (dpkg -L, or ``root``)."""
    fashion_mnist_dir(root)


def load(root: str | Path | None = None) -> Source:
    """60,000 train and 10,000 test 28x28 uint8 images, 10 classes."""
    folder = fashion_mnist_dir(root)

    def read(stem: str):
        return read_idx(folder / f"{stem}-ubyte.gz")

    return from_arrays(
        (read("train-images-idx3"), read("train-labels-idx1").astype("int64")),
        (read("t10k-images-idx3"), read("t10k-labels-idx1").astype("int64")),
        classes=list(CLASSES),
    )
