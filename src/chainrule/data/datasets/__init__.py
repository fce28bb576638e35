"""Built-in and user data sets, loaded offline into NumPy arrays.

    splits = load_dataset("digits")            # seeded, stratified 70/10/20
    X_train, y_train = splits.train
    splits = load_dataset("csv:my_table.csv")  # user data: idx:, csv:, text:, images:

See ``DATASETS`` for the built-in names and ``USER_PREFIXES`` for user data.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from ..errors import DataError
from ..splits import Source, Splits, split_source
from . import (
    csv_table,
    digits,
    fashion_mnist,
    idx_folder,
    image_folder,
    mnist,
    mnist1d,
    sentiment,
    text_table,
)

Loader = Callable[[Path | None], Source]

# name -> (check that raises the install command when missing, loader)
_BUILTIN: dict[str, tuple[Callable[[Path | None], None], Loader]] = {
    "digits": (digits.check, digits.load),
    "mnist": (mnist.check, mnist.load),
    "fashion-mnist": (fashion_mnist.check, fashion_mnist.load),
    "mnist1d": (mnist1d.check, mnist1d.load),
    "movie-reviews": (functools.partial(sentiment.check, "movie-reviews"),
                      functools.partial(sentiment.load, "movie-reviews")),
    "tweets": (functools.partial(sentiment.check, "tweets"),
               functools.partial(sentiment.load, "tweets")),
}
_USER: dict[str, Callable[[Path], Source]] = {
    "idx": idx_folder.load,
    "csv": csv_table.load,
    "text": text_table.load,
    "images": image_folder.load,
}

DATASETS: tuple[str, ...] = tuple(_BUILTIN)
USER_PREFIXES: tuple[str, ...] = ("idx:<dir>", "csv:<file>", "text:<file>", "images:<dir>")


def load_dataset(name: str, root: str | Path | None = None, seed: int = 0,
                 val_fraction: float = 0.1) -> Splits:
    """Load a data set by name and split it into train/val/test with ``seed``.

    ``root`` overrides where a built-in data set's files are looked for. Sources with
    an official test set keep it and hold out ``val_fraction`` of the training set;
    the others are split stratified into test (20%), val (``val_fraction``) and train.
    Raises ``DataError`` for unknown names, missing packages and unreadable files.
    """
    return split_source(load_source(name, root), seed=seed, val_fraction=val_fraction)


def load_source(name: str, root: str | Path | None = None) -> Source:
    """The unsplit data (built-in sets are parsed once per process and cached)."""
    prefix, sep, path = name.partition(":")
    if sep and prefix in _USER:
        if not path:
            raise DataError(f"data set '{name}' needs a path after '{prefix}:'")
        return _USER[prefix](Path(path))
    if name not in _BUILTIN:
        raise DataError(f"unknown data set '{name}'; known: {', '.join(DATASETS)}, "
                        f"or user data as {', '.join(USER_PREFIXES)}")
    return _cached_builtin(name, None if root is None else str(Path(root).expanduser()))


def missing_requirement(name: str, root: str | Path | None = None) -> str | None:
    """``None`` if a built-in data set can be loaded, else the message saying how to install it."""
    if name not in _BUILTIN:
        raise DataError(f"unknown data set '{name}'; known: {', '.join(DATASETS)}")
    try:
        _BUILTIN[name][0](None if root is None else Path(root))
    except DataError as e:
        return str(e)
    return None


@functools.cache
def _cached_builtin(name: str, root: str | None) -> Source:
    source = _BUILTIN[name][1](None if root is None else Path(root))
    for array in (*source.train, *(source.test or ())):
        array.flags.writeable = False  # shared by every caller: splitting copies
    return source


__all__ = ["DATASETS", "USER_PREFIXES", "Splits", "load_dataset", "load_source",
           "missing_requirement"]
