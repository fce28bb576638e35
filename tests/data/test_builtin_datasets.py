"""Each built-in data set: sizes, shapes, dtypes, classes, and well-formed seeded splits."""
import numpy as np
import pytest

from chainrule.data import DATASETS, load_dataset
from chainrule.data.datasets import load_source

from .conftest import need_dataset


def _sizes(s):
    return tuple(len(part[0]) for part in (s.train, s.val, s.test))


def _check_types(s, x_dtype):
    for X, y in (s.train, s.val, s.test):
        assert X.dtype == x_dtype and y.dtype == np.int64
        assert len(X) == len(y) and y.min() >= 0 and y.max() < len(s.classes)


def _row_keys(X):
    """One hashable key per example, to compare splits as multisets."""
    return sorted(x if isinstance(x, str) else x.tobytes() for x in X)


def _assert_partition(s, name):
    """train + val (+ test when there is no official one) is exactly the source."""
    source = load_source(name)
    parts = [s.train[0], s.val[0]] + ([s.test[0]] if source.test is None else [])
    assert _row_keys(np.concatenate(parts)) == _row_keys(source.train[0])


def test_known_names():
    assert set(DATASETS) == {"digits", "mnist", "fashion-mnist", "mnist1d", "movie-reviews",
                             "tweets"}


def test_digits(digits):
    train, val, test = _sizes(digits)
    assert train + val + test == 1797
    assert val == pytest.approx(180, abs=5) and test == pytest.approx(359, abs=5)  # 70/10/20
    assert digits.kind == "image" and digits.classes == [str(d) for d in range(10)]
    assert digits.image_shape == (1, 8, 8) and digits.train[0].shape[1:] == (1, 8, 8)
    assert digits.pixel_max == 16 and digits.train[0].max() == 16
    _check_types(digits, np.uint8)
    _assert_partition(digits, "digits")
    # stratified: every class appears in every part in about the same share
    for _, y in (digits.train, digits.val, digits.test):
        share = np.bincount(y, minlength=10) / len(y)
        assert share.min() > 0.07 and share.max() < 0.13


def test_digits_split_depends_only_on_seed(digits):
    again, other = load_dataset("digits", seed=0), load_dataset("digits", seed=1)
    np.testing.assert_array_equal(again.train[0], digits.train[0])
    np.testing.assert_array_equal(again.test[1], digits.test[1])
    assert not np.array_equal(other.train[0], digits.train[0])


def test_returned_arrays_are_the_callers_own(digits):
    X, _ = load_dataset("digits").test
    X[0] = 0  # must not raise, and must not touch the cache
    assert load_dataset("digits").test[0][0].any()


def test_mnist(mnist):
    assert len(mnist.train[0]) + len(mnist.val[0]) == 60000 and len(mnist.test[0]) == 10000
    assert len(mnist.val[0]) == pytest.approx(6000, abs=10)
    assert mnist.image_shape == (1, 28, 28) and mnist.train[0].shape[1:] == (1, 28, 28)
    assert mnist.pixel_max == 255 and mnist.classes == [str(d) for d in range(10)]
    _check_types(mnist, np.uint8)
    assert np.bincount(mnist.test[1]).tolist()[:2] == [980, 1135]  # the known test counts
    _assert_partition(mnist, "mnist")


def test_mnist_val_split_is_seeded(mnist):
    again = load_dataset("mnist", seed=0)
    np.testing.assert_array_equal(again.val[1], mnist.val[1])
    np.testing.assert_array_equal(again.val[0][:50], mnist.val[0][:50])


def test_fashion_mnist(fashion_mnist):
    s = fashion_mnist
    assert len(s.train[0]) + len(s.val[0]) == 60000 and len(s.test[0]) == 10000
    assert s.image_shape == (1, 28, 28) and len(s.classes) == 10 and s.classes[9] == "Ankle boot"
    _check_types(s, np.uint8)
    assert np.bincount(s.test[1]).tolist() == [1000] * 10
    _assert_partition(s, "fashion-mnist")


def test_mnist1d(mnist1d):
    s = mnist1d
    assert len(s.train[0]) + len(s.val[0]) == 4000 and len(s.test[0]) == 1000
    assert s.kind == "signal" and s.train[0].shape[1:] == (40,) and s.image_shape is None
    _check_types(s, np.float32)
    _assert_partition(s, "mnist1d")


def test_mnist1d_leaves_numpy_global_seed_alone():
    need_dataset("mnist1d")
    from chainrule.data.datasets import mnist1d as module

    np.random.seed(123)
    expected = np.random.rand(3)
    np.random.seed(123)
    module.load()
    np.testing.assert_array_equal(np.random.rand(3), expected)


@pytest.mark.parametrize("fixture, total", [("movie_reviews", 10605 - 37), ("tweets", 4200 - 4)])
def test_sentiment_text(request, fixture, total):
    s = request.getfixturevalue(fixture)
    assert sum(_sizes(s)) == total
    assert s.kind == "text" and s.classes == ["negative", "positive"]
    for X, y in (s.train, s.val, s.test):
        assert X.dtype == object and isinstance(X[0], str) and y.dtype == np.int64
        assert set(np.unique(y)) == {0, 1}
    _assert_partition(s, fixture.replace("_", "-"))


def test_movie_review_labels_follow_the_rating(movie_reviews):
    texts, labels = load_source("movie-reviews").train
    first = "The Rock is destined to be the 21st Century's new ''Conan''"
    assert texts[0].startswith(first) and labels[0] == 1  # rated +2.27 in the file
    assert 0.45 < labels.mean() < 0.55  # about half positive
