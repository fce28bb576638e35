import numpy as np
import pytest

from chainrule.data.splits import Source, split_source, stratified_indices


def _labels():
    return np.repeat(np.arange(4), [50, 30, 10, 110])


def test_parts_are_disjoint_and_cover_everything():
    y = _labels()
    parts = stratified_indices(y, [0.2, 0.1], np.random.default_rng(0))
    joined = np.concatenate(parts)
    assert len(joined) == len(y) and len(np.unique(joined)) == len(y)


def test_each_class_is_split_in_proportion():
    y = _labels()
    test, val, _ = stratified_indices(y, [0.2, 0.1], np.random.default_rng(0))
    for c, n in enumerate([50, 30, 10, 110]):
        assert (y[test] == c).sum() == round(0.2 * n)
        assert (y[val] == c).sum() == round(0.1 * n)


def test_same_seed_same_split_other_seed_other_split():
    y = _labels()
    a = stratified_indices(y, [0.2], np.random.default_rng(3))
    b = stratified_indices(y, [0.2], np.random.default_rng(3))
    c = stratified_indices(y, [0.2], np.random.default_rng(4))
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


def _source(with_test: bool) -> Source:
    y = _labels()
    X = np.arange(len(y), dtype=np.float32)[:, None]
    test = (np.zeros((7, 1), np.float32), np.zeros(7, np.int64)) if with_test else None
    return Source(train=(X, y), test=test, kind="signal", classes=list("abcd"))


def test_without_official_test_split_is_70_10_20():
    s = split_source(_source(False), seed=0, val_fraction=0.1)
    assert (len(s.train[0]), len(s.val[0]), len(s.test[0])) == (140, 20, 40)
    ids = np.concatenate([s.train[0][:, 0], s.val[0][:, 0], s.test[0][:, 0]])
    assert sorted(ids.tolist()) == list(range(200))


def test_official_test_is_kept_and_val_comes_from_train():
    s = split_source(_source(True), seed=0, val_fraction=0.1)
    assert len(s.test[0]) == 7
    assert len(s.train[0]) + len(s.val[0]) == 200 and len(s.val[0]) == 20


def test_zero_val_fraction_gives_empty_val_with_right_shape():
    s = split_source(_source(True), seed=0, val_fraction=0.0)
    assert s.val[0].shape == (0, 1) and s.val[1].dtype == np.int64


@pytest.mark.parametrize("fraction", [-0.1, 1.0])
def test_bad_val_fraction(fraction):
    with pytest.raises(ValueError, match="val_fraction"):
        split_source(_source(True), val_fraction=fraction)
