"""``mnist1d``: the 1-D analogue of MNIST, generated locally by the PyPI package ``mnist1d``."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import missing
from ..locate import INSTALL_MNIST1D, require_module
from ..splits import Source


def check(root: str | Path | None = None) -> None:
    """Raise the pip command unless ``mnist1d`` is installed."""
    require_module("mnist1d", INSTALL_MNIST1D)


def load(root: str | Path | None = None) -> Source:
    """4,000 train and 1,000 test signals of length 40, 10 classes (``root`` is unused).

    Uses ``make_dataset`` with the package's default arguments, which generates the
    data in memory. (``get_dataset`` would try a download and write a pickle.)
    """
    check()
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as e:
        raise missing(f"package 'mnist1d' (import failed: {e})", INSTALL_MNIST1D) from None
    # make_dataset reseeds NumPy's global generator; put the caller's state back afterwards.
    saved = np.random.get_state()
    try:
        data = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(saved)
    return Source(
        train=(data["x"].astype(np.float32), data["y"].astype(np.int64)),
        test=(data["x_test"].astype(np.float32), data["y_test"].astype(np.int64)),
        kind="signal",
        classes=[str(d) for d in range(10)],
    )
